"""Ways of using synthetic data, as small frozen descriptions shared by theory and simulation.

Each strategy is a thin, validated front to one registered setting (``simcollapse.settings``)
and has two methods with one signature:

* ``.theory(problem, n, lam)``: the deterministic equivalent (float64), or a NotImplementedError
  saying that the strategy is simulation only;
* ``.simulate(problem, n, lam, key, reps, dtype="float64", batch=None)``: the Monte Carlo.

Both return ``ErrorTerms``. ``p2`` and ``alpha`` may be arrays (they broadcast with n and lam).
``Unweighted`` and ``Weighted`` give arrays of shape broadcast(n, lam, p2, alpha);
``Iterative``, ``Replace``, ``Accumulate`` and ``AccumulateSubsample`` add a
trailing axis over rounds t = 1..T or generations k = 1..G (entry i is after round/generation
i + 1).

Example:
  >>> import simcollapse as sc
  >>> from simcollapse.strategies import Iterative, Weighted
  >>> prob = sc.Problem.power_law(200, c2=0.5)
  >>> Weighted(p2=0.5, alpha=0.1).theory(prob, 1000, 1e-3).total.shape
  ()
  >>> Iterative(p2=0.5, rounds=4).theory(prob, [500, 1000], 1e-3).total.shape
  (2, 4)
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import numpy as np

from simcollapse import settings
from simcollapse._validate import check_range
from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms
from simcollapse.simulate.driver import MonteCarlo
from simcollapse.theory.generations import accumulate_reference
from simcollapse.theory.weighted import check_weights

__all__ = [
    "Accumulate",
    "AccumulateSubsample",
    "Iterative",
    "Replace",
    "Strategy",
    "Unweighted",
    "Weighted",
]


def _fraction(name: str, value: Any) -> Any:
    """A number in [0, 1] as a float, or an array of them as a (hashable) nested tuple."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    if np.ndim(value) != 0:
        check_range(name, value, 0.0, 1.0)
        return _frozen(np.asarray(value, np.float64))
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}") from None
    if not 0.0 <= v <= 1.0:  # also rejects NaN
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return v


def _frozen(arr: np.ndarray) -> Any:
    return tuple(_frozen(a) for a in arr) if arr.ndim else float(arr)


def _count(name: str, value: Any) -> int:
    if (
        isinstance(value, bool)
        or np.ndim(value) != 0
        or not isinstance(value, (int, np.integer, float, np.floating))
        or value != np.round(value)
        or value < 1
    ):
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


class Strategy:
    """Base of the strategies: the fields are the parameters of the setting ``setting_name``.

    Example:
      >>> import simcollapse as sc
      >>> from simcollapse.strategies import Strategy, Weighted
      >>> s = Weighted(p2=0.5, alpha=0.1)
      >>> isinstance(s, Strategy), s.setting.name, s.params()
      (True, 'weighted', {'p2': 0.5, 'alpha': 0.1})
    """

    setting_name: ClassVar[str]

    @property
    def setting(self) -> settings.Setting:
        """The registered setting this strategy fronts."""
        return settings.get(self.setting_name)

    def params(self) -> dict[str, Any]:
        """The fields as setting parameters (tuples back to arrays)."""
        out = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            out[f.name] = np.asarray(v) if isinstance(v, tuple) else v
        return out

    def theory(self, problem: Problem, n: Any, lam: Any, *, throw: bool = True) -> ErrorTerms:
        """The setting's deterministic equivalent at (n, lam).

        Raises:
          SimulationOnly (a NotImplementedError): the setting has no theory here.
        """
        return self.setting.theory(problem, n=n, lam=lam, throw=throw, **self.params())

    def simulate(
        self,
        problem: Problem,
        n: Any,
        lam: Any,
        key: Any,
        reps: int,
        *,
        dtype: str = "float64",
        batch: int | None = None,
    ) -> ErrorTerms:
        """The setting's Monte Carlo at (n, lam), same shape as ``theory``."""
        mc = MonteCarlo(key, reps, dtype, batch)
        return self.setting.simulate(problem, mc, n=n, lam=lam, **self.params())


@dataclasses.dataclass(frozen=True)
class Unweighted(Strategy):
    """Plain ridge on n rows, a fraction p2 of them synthetic (setting "ridge", Theorem 1).

    Args:
      p2: synthetic fraction(s) in [0, 1].

    Raises:
      ValueError: p2 outside [0, 1].

    Example:
      >>> import simcollapse as sc
      >>> prob = sc.Problem.power_law(100, c2=0.5)
      >>> float(Unweighted(p2=0.3).theory(prob, 500, 1e-3).total) == float(
      ...     sc.theory.ridge_error(prob, 500, 1e-3, 0.3).total)
      True
    """

    p2: Any
    setting_name: ClassVar[str] = "ridge"

    def __post_init__(self) -> None:
        object.__setattr__(self, "p2", _fraction("p2", self.p2))


@dataclasses.dataclass(frozen=True)
class Weighted(Strategy):
    """Weighted ridge: loss share alpha on the synthetic rows (setting "weighted", Corollary 2).

    Row weights a1 = (1 - alpha)/p1 (real), a2 = alpha/p2 (synthetic); alpha = p2 is
    ``Unweighted(p2)``.

    Args:
      p2: synthetic fraction(s) in [0, 1].
      alpha: loss share(s) of the synthetic rows in [0, 1] (0 if p2 = 0, 1 if p2 = 1).

    Raises:
      ValueError: p2 or alpha outside [0, 1], or a positive weight on an empty population.

    Example:
      >>> import numpy as np, simcollapse as sc
      >>> prob = sc.Problem.power_law(100, c2=0.5)
      >>> err = Weighted(p2=0.3, alpha=[0.1, 0.3]).theory(prob, 500, 1e-3).total
      >>> plain = sc.theory.ridge_error(prob, 500, 1e-3, 0.3).total
      >>> bool(np.isclose(err[1], plain)), bool(err[0] < err[1])  # alpha = p2; less weight
      (True, True)
    """

    p2: Any
    alpha: Any
    setting_name: ClassVar[str] = "weighted"

    def __post_init__(self) -> None:
        object.__setattr__(self, "p2", _fraction("p2", self.p2))
        object.__setattr__(self, "alpha", _fraction("alpha", self.alpha))
        check_weights(np.asarray(self.p2), np.asarray(self.alpha))


@dataclasses.dataclass(frozen=True)
class Iterative(Strategy):
    """Iterative mixing: each round refits on real rows plus rows labelled by the last round.

    Setting "iterative". ``reuse_real=False``: fresh real rows every round (theory: the
    recursion of ``theory.iterative.iterative_error``); ``reuse_real=True``: the same real
    rows every round (simulation only).

    Args:
      p2: synthetic fraction(s) in [0, 1].  rounds: T, an integer >= 1.  reuse_real: bool.

    Raises:
      ValueError: p2 outside [0, 1], rounds not an integer >= 1.

    Example:
      >>> import numpy as np, simcollapse as sc
      >>> prob = sc.Problem.power_law(100, c2=0.5)
      >>> err = Iterative(p2=0.5, rounds=3).theory(prob, 500, 1e-3).total  # one per round
      >>> plain = sc.theory.ridge_error(prob, 500, 1e-3, 0.5).total
      >>> err.shape, bool(np.isclose(err[0], plain))  # round 1 is plain mixing
      ((3,), True)
    """

    p2: Any
    rounds: int
    reuse_real: bool = False
    setting_name: ClassVar[str] = "iterative"

    def __post_init__(self) -> None:
        object.__setattr__(self, "p2", _fraction("p2", self.p2))
        object.__setattr__(self, "rounds", _count("rounds", self.rounds))
        if not isinstance(self.reuse_real, (bool, np.bool_)):
            raise ValueError(f"reuse_real must be True or False, got {self.reuse_real!r}")


@dataclasses.dataclass(frozen=True)
class _Generations(Strategy):
    """A loop of G generations (the one field)."""

    generations: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "generations", _count("generations", self.generations))


@dataclasses.dataclass(frozen=True)
class Replace(_Generations):
    """Replace loop: generation k is fitted on n fresh rows labelled by generation k - 1 only.

    Setting "replace": generation 0 is the truth w1, so generation 1 is trained on the
    teacher's labels; exact k sigma^2 d/(n - d - 1) for OLS.

    Args:
      generations: G, an integer >= 1.

    Example:
      >>> import numpy as np, simcollapse as sc
      >>> prob = sc.Problem.isotropic(20, sigma2=1.0)
      >>> err = Replace(generations=3).theory(prob, 100, 0.0).total  # OLS: n = 100, d = 20
      >>> bool(np.allclose(err, np.arange(1, 4) * 20 / (100 - 20 - 1)))
      True
    """

    setting_name: ClassVar[str] = "replace"


@dataclasses.dataclass(frozen=True)
class Accumulate(_Generations):
    """Accumulate loop: generation k is fitted on all k n rows so far, the first n real.

    Setting "accumulate": no finite-n formula (simulation only); ``reference`` gives the
    n >> d asymptote sigma^2 (d/n) sum_{j <= k} 1/j^2.

    Args:
      generations: G, an integer >= 1.

    Example:
      >>> import simcollapse as sc
      >>> prob = sc.Problem.isotropic(20, sigma2=1.0)
      >>> Accumulate(generations=3).reference(prob, 400).round(4).tolist()  # (d/n) sum_{j<=k} 1/j^2
      [0.05, 0.0625, 0.0681]
      >>> Accumulate(generations=3).simulate(prob, 400, 0.0, key=0, reps=8).total.shape
      (3,)
    """

    setting_name: ClassVar[str] = "accumulate"

    def reference(self, problem: Problem, n: Any) -> np.ndarray:
        """``theory.generations.accumulate_reference``: shape shape(n) + (G,)."""
        return accumulate_reference(problem, n, self.generations)


@dataclasses.dataclass(frozen=True)
class AccumulateSubsample(Strategy):
    """Accumulate-subsample: generation k is fitted on a fixed-size sample of all rows so far.

    Setting "accumulate_subsample", simulation only. ``sample_size`` (default: n) rows are
    drawn without replacement from the k n rows accumulated by generation k.

    Args:
      generations: G, an integer >= 1.  sample_size: None (= n) or an integer >= 1.

    Example:
      >>> import simcollapse as sc
      >>> prob = sc.Problem.isotropic(20, sigma2=1.0)
      >>> loop = AccumulateSubsample(generations=3, sample_size=100)
      >>> loop.simulate(prob, 200, 1e-3, key=0, reps=8).total.shape
      (3,)
    """

    generations: int
    sample_size: int | None = None
    setting_name: ClassVar[str] = "accumulate_subsample"

    def __post_init__(self) -> None:
        object.__setattr__(self, "generations", _count("generations", self.generations))
        if self.sample_size is not None:
            object.__setattr__(self, "sample_size", _count("sample_size", self.sample_size))
