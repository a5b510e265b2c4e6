"""Ways of using synthetic data, as small frozen descriptions shared by theory and simulation.

Each strategy is validated when it is built and has two methods with one signature:

* ``.theory(problem, n, lam)``: the deterministic equivalent (float64), or a NotImplementedError
  saying that the strategy is simulation only;
* ``.simulate(problem, n, lam, key, reps, dtype="float64", batch=None)``: the Monte Carlo.

Both return ``ErrorTerms``. ``Unweighted`` and ``Weighted`` give arrays of shape
broadcast(n, lam); ``Iterative``, ``Replace``, ``Accumulate`` and ``AccumulateSubsample`` add a
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
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms
from simcollapse.simulate import mixing as _sim
from simcollapse.simulate.ridge import ridge_error as _sim_ridge
from simcollapse.theory.generations import accumulate_reference, replace_error
from simcollapse.theory.iterative import iterative_error
from simcollapse.theory.ridge import ridge_error
from simcollapse.theory.weighted import check_weights, weighted_error

__all__ = [
    "Accumulate",
    "AccumulateSubsample",
    "Iterative",
    "Replace",
    "Strategy",
    "Unweighted",
    "Weighted",
]


def _fraction(name: str, value: Any) -> float:
    if isinstance(value, bool) or np.ndim(value) != 0:
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}") from None
    if not 0.0 <= v <= 1.0:  # also rejects NaN
        raise ValueError(f"{name} must be in [0, 1], got {value!r}")
    return v


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


def _simulation_only(what: str, where: str) -> NotImplementedError:
    return NotImplementedError(
        f"{what} has no closed form in simcollapse (docs/theory.md gives none): simulation only, "
        f"use .simulate(...){where}"
    )


class Strategy:
    """Base of the strategies: ``theory`` and ``simulate`` with shared signatures."""

    def theory(self, problem: Problem, n: Any, lam: Any, *, throw: bool = True) -> ErrorTerms:
        raise NotImplementedError

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
        raise NotImplementedError


@dataclasses.dataclass(frozen=True)
class Unweighted(Strategy):
    """Plain ridge on n rows, a fraction p2 of them synthetic (Theorem 1; the paper's setting).

    Args:
      p2: synthetic fraction in [0, 1].

    Raises:
      ValueError: p2 outside [0, 1].
    """

    p2: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "p2", _fraction("p2", self.p2))

    def theory(self, problem: Problem, n: Any, lam: Any, *, throw: bool = True) -> ErrorTerms:
        """Theorem 1 (``theory.ridge_error``); shape broadcast(n, lam)."""
        return ridge_error(problem, n, lam, self.p2, throw=throw)

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
        """``simulate.ridge_error``; shape broadcast(n, lam)."""
        return _sim_ridge(problem, n, lam, self.p2, key, reps, dtype=dtype, batch=batch)


@dataclasses.dataclass(frozen=True)
class Weighted(Strategy):
    """Weighted ridge: loss share alpha on the synthetic rows, 1 - alpha on the real ones.

    Row weights a1 = (1 - alpha)/p1 (real), a2 = alpha/p2 (synthetic); alpha = p2 is
    ``Unweighted(p2)``. Theory: Corollary 2 (``theory.weighted.weighted_error``).

    Args:
      p2: synthetic fraction in [0, 1].
      alpha: loss share of the synthetic rows in [0, 1] (0 if p2 = 0, 1 if p2 = 1).

    Raises:
      ValueError: p2 or alpha outside [0, 1], or a positive weight on an empty population.
    """

    p2: float
    alpha: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "p2", _fraction("p2", self.p2))
        object.__setattr__(self, "alpha", _fraction("alpha", self.alpha))
        check_weights(self.p2, self.alpha)

    def theory(self, problem: Problem, n: Any, lam: Any, *, throw: bool = True) -> ErrorTerms:
        """Corollary 2; shape broadcast(n, lam)."""
        return weighted_error(problem, n, lam, self.p2, self.alpha, throw=throw)

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
        """``simulate.mixing.weighted_error``; shape broadcast(n, lam)."""
        return _sim.weighted_error(
            problem, n, lam, self.p2, self.alpha, key, reps, dtype=dtype, batch=batch
        )


@dataclasses.dataclass(frozen=True)
class Iterative(Strategy):
    """Iterative mixing: each round refits on real rows plus rows labelled by the last round.

    Round t = 1..rounds: ridge on p1 n real rows and p2 n rows labelled by w_{t-1}, w_0 = the
    synthetic teacher w1 + delta. ``reuse_real=False``: fresh real rows every round (theory:
    the recursion of ``theory.iterative.iterative_error``); ``reuse_real=True``: the same real
    rows every round (simulation only).

    Args:
      p2: synthetic fraction in [0, 1].  rounds: T, an integer >= 1.  reuse_real: bool.

    Raises:
      ValueError: p2 outside [0, 1], rounds not an integer >= 1.
    """

    p2: float
    rounds: int
    reuse_real: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "p2", _fraction("p2", self.p2))
        object.__setattr__(self, "rounds", _count("rounds", self.rounds))
        if not isinstance(self.reuse_real, (bool, np.bool_)):
            raise ValueError(f"reuse_real must be True or False, got {self.reuse_real!r}")

    def theory(self, problem: Problem, n: Any, lam: Any, *, throw: bool = True) -> ErrorTerms:
        """Fresh-rows recursion; shape broadcast(n, lam) + (rounds,).

        Raises:
          NotImplementedError: for ``reuse_real=True`` (simulation only).
        """
        if self.reuse_real:
            raise _simulation_only("Iterative mixing with reused real rows", "")
        return iterative_error(problem, n, lam, self.p2, self.rounds, throw=throw)

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
        """``simulate.mixing.iterative_error``; shape broadcast(n, lam) + (rounds,)."""
        return _sim.iterative_error(
            problem, n, lam, self.p2, self.rounds, key, reps,
            reuse_real=bool(self.reuse_real), dtype=dtype, batch=batch,
        )  # fmt: skip


@dataclasses.dataclass(frozen=True)
class _GenerationLoop(Strategy):
    """A loop of G generations whose simulation is ``simulator(problem, n, lam, G, key, reps)``."""

    generations: int
    simulator: ClassVar[Callable[..., ErrorTerms]]

    def __post_init__(self) -> None:
        object.__setattr__(self, "generations", _count("generations", self.generations))

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
        """Monte Carlo of the loop (``simulate.mixing``); shape broadcast(n, lam) + (G,)."""
        return type(self).simulator(
            problem, n, lam, self.generations, key, reps, dtype=dtype, batch=batch
        )


@dataclasses.dataclass(frozen=True)
class Replace(_GenerationLoop):
    """Replace loop: generation k is fitted on n fresh rows labelled by generation k - 1 only.

    Generation 0 is the truth w1, so generation 1 is trained on the teacher's labels. Theory:
    ``theory.generations.replace_error`` (exact k sigma^2 d/(n - d - 1) for OLS); simulation:
    ``simulate.mixing.replace_error``.

    Args:
      generations: G, an integer >= 1.
    """

    simulator = staticmethod(_sim.replace_error)

    def theory(self, problem: Problem, n: Any, lam: Any, *, throw: bool = True) -> ErrorTerms:
        """Theorem 1 fed back generation by generation; shape broadcast(n, lam) + (G,)."""
        return replace_error(problem, n, lam, self.generations, throw=throw)


@dataclasses.dataclass(frozen=True)
class Accumulate(_GenerationLoop):
    """Accumulate loop: generation k is fitted on all k n rows so far, the first n real.

    No finite-n formula (simulation only, ``simulate.mixing.accumulate_error``); ``reference``
    gives the n >> d asymptote sigma^2 (d/n) sum_{j <= k} 1/j^2.

    Args:
      generations: G, an integer >= 1.
    """

    simulator = staticmethod(_sim.accumulate_error)

    def theory(self, problem: Problem, n: Any, lam: Any, *, throw: bool = True) -> ErrorTerms:
        """Raises NotImplementedError: simulation only (see ``reference`` for the asymptote)."""
        raise _simulation_only(
            "Accumulate at finite n", "; .reference(problem, n) gives the n >> d asymptote"
        )

    def reference(self, problem: Problem, n: Any) -> np.ndarray:
        """``theory.generations.accumulate_reference``: shape shape(n) + (G,)."""
        return accumulate_reference(problem, n, self.generations)


@dataclasses.dataclass(frozen=True)
class AccumulateSubsample(Strategy):
    """Accumulate-subsample: generation k is fitted on a fixed-size sample of all rows so far.

    Simulation only. ``sample_size`` (default: n) rows are drawn without replacement from the
    k n rows accumulated by generation k.

    Args:
      generations: G, an integer >= 1.  sample_size: None (= n) or an integer >= 1.
    """

    generations: int
    sample_size: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "generations", _count("generations", self.generations))
        if self.sample_size is not None:
            object.__setattr__(self, "sample_size", _count("sample_size", self.sample_size))

    def theory(self, problem: Problem, n: Any, lam: Any, *, throw: bool = True) -> ErrorTerms:
        """Raises NotImplementedError: simulation only."""
        raise _simulation_only("AccumulateSubsample", "")

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
        """``simulate.mixing.accumulate_subsample_error``; shape broadcast(n, lam) + (G,)."""
        return _sim.accumulate_subsample_error(
            problem, n, lam, self.generations, key, reps,
            sample_size=self.sample_size, dtype=dtype, batch=batch,
        )  # fmt: skip
