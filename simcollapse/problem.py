"""The problem: covariance spectrum, teacher, synthetic shift and label noise.

Everything is stated in the eigenbasis of the input covariance Sigma (docs/theory.md, "Notation"):

* ``eigs[j]``     = s_j, the eigenvalues of Sigma;
* ``w1_sq[j]``    = E (w1)_j^2, the second moments of the real teacher w1;
* ``delta_sq[j]`` = Delta_j = E delta_j^2, the second moments of the shift delta = w2 - w1
  (mean zero, independent of w1: Definition 1 of Dohmatob et al., ICLR 2025);
* ``sigma2``      = the label-noise variance sigma^2 of both real and synthetic labels.

Quality of the synthetic data: ``problem.c2`` = c^2 = tr(Sigma Delta) = sum_j s_j Delta_j, the
excess risk of the synthetic labeller itself on real data. The paper writes
c^2(Delta) = tr(Sigma Delta)/d under its own scaling of the inputs; simcollapse never divides by
d, so ``c2`` here is directly the floor p2^2 c^2 that strong model collapse puts under the test
error.

Normalisation used by the constructors: the spectrum has mean eigenvalue 1 (tr Sigma = d), and the
teacher has ``||w1||^2_Sigma = sum_j s_j w1_sq[j] = signal`` (the test error of the zero predictor).
``from_covariance`` and ``from_data`` instead keep the raw scale of the data (no normalisation),
so that the ridge penalty means the same in the theory as in an experiment on those data.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from simcollapse._moments import covariance_moments, data_moments
from simcollapse._validate import as_float_array, check_count, check_range, is_traced

__all__ = ["Problem"]


@jax.tree_util.register_pytree_node_class
@dataclasses.dataclass(frozen=True, eq=False)
class Problem:
    """A Gaussian linear problem with a real and a synthetic labeller, in the eigenbasis of Sigma.

    Args:
      eigs: eigenvalues s_j of Sigma, shape (d,), all > 0.
      w1_sq: second moments of the real teacher w1 per eigendirection, shape (d,), >= 0.
      delta_sq: second moments Delta_j of the synthetic shift delta = w2 - w1, shape (d,), >= 0.
      sigma2: label-noise variance sigma^2 >= 0 (real and synthetic labels alike).

    Raises:
      ValueError: arrays of different lengths or not 1-D, eigenvalues <= 0, negative moments or
        noise, NaN or inf anywhere.

    The class is a frozen dataclass and a JAX pytree (leaves: the three arrays and sigma2), so a
    batch of problems can be ``vmap``-ed over. Construct it with one of the class methods
    (``isotropic``, ``power_law``) and set the synthetic shift with ``with_label_shift`` or
    ``with_teacher``, or give the arrays directly.

    Example:
      >>> p = Problem.power_law(300, alpha=1.5, source=1.5).with_label_shift(0.1)
      >>> round(float(p.c2), 12)
      0.1
    """

    eigs: Any
    w1_sq: Any
    delta_sq: Any
    sigma2: Any = 1.0

    def __post_init__(self) -> None:
        fields = {"eigs": self.eigs, "w1_sq": self.w1_sq, "delta_sq": self.delta_sq}
        if any(is_traced(v) for v in (*fields.values(), self.sigma2)):
            return
        arrays = {k: as_float_array(f"Problem.{k}", v) for k, v in fields.items()}
        for k, v in arrays.items():
            if v.ndim != 1 or v.size == 0:
                raise ValueError(f"Problem.{k} must be a non-empty 1-D array, got shape {v.shape}")
        lengths = {k: v.size for k, v in arrays.items()}
        if len(set(lengths.values())) != 1:
            raise ValueError(
                "Problem arrays must have the same length d, got "
                + ", ".join(f"{k}: {n}" for k, n in lengths.items())
            )
        check_range("Problem.eigs", arrays["eigs"], 0.0, low_open=True)
        check_range("Problem.w1_sq", arrays["w1_sq"], 0.0)
        check_range("Problem.delta_sq", arrays["delta_sq"], 0.0)
        check_range("Problem.sigma2", self.sigma2, 0.0)
        if np.ndim(self.sigma2) != 0:
            raise ValueError(f"Problem.sigma2 must be a scalar, got shape {np.shape(self.sigma2)}")
        for k, v in arrays.items():
            object.__setattr__(self, k, v)
        object.__setattr__(self, "sigma2", float(self.sigma2))

    # ----- pytree protocol: no validation on unflatten (leaves may be tracers or sentinels) -----
    def tree_flatten(self) -> tuple[tuple[Any, ...], None]:
        return (self.eigs, self.w1_sq, self.delta_sq, self.sigma2), None

    @classmethod
    def tree_unflatten(cls, aux: None, children: tuple[Any, ...]) -> Problem:
        obj = object.__new__(cls)
        for name, value in zip(("eigs", "w1_sq", "delta_sq", "sigma2"), children, strict=True):
            object.__setattr__(obj, name, value)
        return obj

    # ----- derived quantities -----
    @property
    def d(self) -> int:
        """Input dimension d."""
        return int(np.shape(self.eigs)[-1])

    @property
    def c2(self) -> Any:
        """c^2 = tr(Sigma Delta) = sum_j s_j Delta_j: the synthetic labeller's own excess risk."""
        xp = np if isinstance(self.eigs, np.ndarray) else jnp
        return xp.sum(self.eigs * self.delta_sq, axis=-1)

    @property
    def signal(self) -> Any:
        """||w1||^2_Sigma = sum_j s_j (w1)_j^2: the test error of the zero predictor."""
        xp = np if isinstance(self.eigs, np.ndarray) else jnp
        return xp.sum(self.eigs * self.w1_sq, axis=-1)

    # ----- constructors -----
    @classmethod
    def isotropic(
        cls, d: int, *, c2: float = 0.1, sigma2: float = 1.0, signal: float = 1.0
    ) -> Problem:
        """Sigma = I_d, w1_sq = signal/d, label shift Delta = (c2/d) I (docs/theory.md).

        This is the setting of Corollary 1 of the paper.
        """
        d = _check_d(d)
        check_range("signal", signal, 0.0)
        eigs = np.ones(d)
        return cls(eigs, np.full(d, signal / d), np.zeros(d), sigma2).with_label_shift(c2)

    @classmethod
    def power_law(
        cls,
        d: int,
        *,
        alpha: float = 1.5,
        source: float = 1.5,
        c2: float = 0.1,
        sigma2: float = 1.0,
        signal: float = 1.0,
    ) -> Problem:
        """Power-law spectrum, the scaling-law setting.

        s_j proportional to j^-alpha (j = 1..d), scaled to mean 1 (tr Sigma = d), and a teacher
        whose signal per direction decays as s_j w1_sq[j] proportional to j^-source, scaled so
        that ||w1||^2_Sigma = signal. The shift is a label shift of quality ``c2``
        (``with_label_shift``).

        Args:
          d: dimension, >= 1.
          alpha: spectral decay exponent, >= 0 (0 gives the isotropic spectrum).
          source: decay exponent of the teacher's signal across directions, >= 0.
          c2: quality c^2 = tr(Sigma Delta) of the synthetic labels, >= 0.
          sigma2: label-noise variance, >= 0.
          signal: ||w1||^2_Sigma, >= 0.
        """
        d = _check_d(d)
        check_range("alpha", alpha, 0.0)
        check_range("source", source, 0.0)
        check_range("signal", signal, 0.0)
        j = np.arange(1, d + 1, dtype=np.float64)
        with np.errstate(under="ignore", over="ignore", divide="ignore", invalid="ignore"):
            eigs = j**-alpha
            eigs *= d / eigs.sum()
            energy = j**-source
            energy *= signal / energy.sum()
            w1_sq = energy / eigs
        if d > 1 and not (np.all(eigs > 0) and np.all(np.isfinite(w1_sq))):
            log_d = float(np.log(d))
            top = (np.log(np.finfo(np.float64).max) - 1) / log_d
            raise ValueError(
                f"alpha = {alpha:g} with source = {source:g} and d = {d} spreads the spectrum "
                f"(d^-alpha) or the teacher (d^(alpha - source)) past float64's range; "
                f"use alpha <= about {min(top, top + source):.4g} for this d"
            )
        return cls(eigs, w1_sq, np.zeros(d), sigma2).with_label_shift(c2)

    @classmethod
    def from_family(cls, name: str, d: int | None, **params: Any) -> Problem:
        """A Problem of a registered family (``simcollapse.families``): "isotropic",
        "power_law", or "file" (an .npz with eigs, w1_sq, delta_sq, sigma2; ``path=``).

        Raises:
          ValueError: an unknown family or bad parameters, naming them.

        Example:
          >>> round(float(Problem.from_family("isotropic", 10, c2=0.5).c2), 6)
          0.5
        """
        return from_family(name, d, **params)

    @classmethod
    def from_covariance(cls, sigma: Any, w1: Any, w2: Any = None, **kwargs: Any) -> Problem:
        """The problem of inputs N(0, Sigma) and teachers w1, w2 (raw scale, no normalisation).

        One eigendecomposition (``covariance_moments``); see
        ``simcollapse.data_problems.problem_from_covariance`` for the arguments (``sigma2``,
        ``delta_cov``, ``rtol``).

        Example:
          >>> Problem.from_covariance(np.diag([2.0, 1.0]), np.array([1.0, 0.0])).eigs.tolist()
          [2.0, 1.0]
        """
        return cls(*covariance_moments(sigma, w1, w2, **kwargs))

    @classmethod
    def from_data(cls, x: Any, y: Any, **kwargs: Any) -> Problem:
        """The problem estimated from a pool of inputs x and targets y (raw scale).

        See ``simcollapse.data_problems.data_problem`` for the arguments (``teacher``,
        ``features``, ``center``, ``rtol``); this returns its ``.problem``. Noiseless synthetic
        labels need ``data_problem(...).terms``, which keeps the two noise levels apart.

        Example:
          >>> x = np.random.default_rng(0).standard_normal((2000, 3))
          >>> Problem.from_data(x, x @ np.ones(3)).d
          3
        """
        m = data_moments(x, y, **kwargs)
        return cls(m.eigs, m.w1_sq, m.delta_sq, m.sigma2)

    def with_label_shift(self, c2: float) -> Problem:
        """Label shift of quality c2 (docs/theory.md): Delta = (c2 / tr Sigma) I.

        Then tr(Sigma Delta) = c2 exactly.
        """
        check_range("c2", c2, 0.0)
        eigs = np.asarray(self.eigs)
        return dataclasses.replace(self, delta_sq=np.full(eigs.shape, c2 / eigs.sum()))

    def with_teacher(self, n0: int) -> Problem:
        """Synthetic labeller = OLS fitted on n0 > d + 1 real samples (docs/theory.md).

        Delta = sigma^2 Sigma^{-1} / (n0 - d - 1), so c^2 = sigma^2 d / (n0 - d - 1).
        """
        check_range("n0", n0, self.d + 1, low_open=True, integer=True)
        eigs = np.asarray(self.eigs)
        return dataclasses.replace(self, delta_sq=self.sigma2 / (eigs * (n0 - self.d - 1)))

    def with_c2(self, c2: float) -> Problem:
        """The same shape of shift Delta, rescaled so that tr(Sigma Delta) = c2.

        A zero shift is replaced by the isotropic label shift.
        """
        check_range("c2", c2, 0.0)
        current = float(self.c2)
        if current == 0.0:
            return self.with_label_shift(c2)
        return dataclasses.replace(self, delta_sq=np.asarray(self.delta_sq) * (c2 / current))

    def with_sigma2(self, sigma2: float) -> Problem:
        """The same problem with label-noise variance sigma2."""
        return dataclasses.replace(self, sigma2=sigma2)

    def __repr__(self) -> str:
        if any(is_traced(v) for v in (self.eigs, self.sigma2)):
            return "Problem(<traced>)"
        try:
            return (
                f"Problem(d={self.d}, tr_sigma={float(np.sum(self.eigs)):.6g}, "
                f"signal={float(self.signal):.6g}, c2={float(self.c2):.6g}, "
                f"sigma2={float(self.sigma2):.6g})"
            )
        except TypeError:  # batched problem
            return f"Problem(batched, eigs shape {np.shape(self.eigs)})"


def _check_d(d: int) -> int:
    return check_count("d", d)


# ----- problem families: a Problem by name (``Problem.from_family``, sweeps, the CLI) -----

Family = Callable[..., Problem]
_FAMILIES: dict[str, Family] = {}


def register_family(name: str, build: Family, *, replace: bool = False) -> Family:
    """Add a family ``build(d, **params) -> Problem`` under ``name``.

    Raises:
      ValueError: the name is taken (and not ``replace``).

    Example:
      >>> register_family("isotropic", lambda d: Problem.isotropic(d))
      Traceback (most recent call last):
      ...
      ValueError: a problem family named 'isotropic' is registered; pass replace=True
    """
    if name in _FAMILIES and not replace:
        raise ValueError(f"a problem family named {name!r} is registered; pass replace=True")
    _FAMILIES[name] = build
    return build


def families() -> tuple[str, ...]:
    """The registered family names.

    Example:
      >>> families()[:3]
      ('isotropic', 'power_law', 'file')
    """
    return tuple(_FAMILIES)


def from_family(name: str, d: int | None, **params: Any) -> Problem:
    """The Problem of family ``name`` at dimension ``d`` (``simcollapse.families`` lists them).

    Raises:
      ValueError: an unknown family (listing the known ones), or bad parameters, naming them.

    Example:
      >>> from_family("power_law", 100, alpha=1.2, c2=0.3).d
      100
    """
    if name not in _FAMILIES:
        raise ValueError(f"family must be one of {', '.join(families())}, got {name!r}")
    try:
        return _FAMILIES[name](d, **params)
    except TypeError as err:
        raise ValueError(f"family {name!r}: {err}") from None


def load_file(
    d: int | None, *, path: str | Path, c2: float | None = None, sigma2: float | None = None
) -> Problem:
    """The ``file`` family: a Problem read from an .npz (eigs, w1_sq, delta_sq, sigma2).

    Example:
      >>> import pathlib, tempfile
      >>> path = pathlib.Path(tempfile.mkdtemp()) / "problem.npz"
      >>> p = Problem.power_law(5)
      >>> np.savez(path, eigs=p.eigs, w1_sq=p.w1_sq, delta_sq=p.delta_sq, sigma2=p.sigma2)
      >>> load_file(None, path=path, c2=0.5).d, round(float(load_file(5, path=path, c2=0.5).c2), 12)
      (5, 0.5)
    """
    path = Path(path)
    try:
        data_or_array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as err:
        raise ValueError(f"cannot read problem file {path} as an .npz: {err}") from None
    if not isinstance(data_or_array, np.lib.npyio.NpzFile):
        raise ValueError(f"problem file {path} is a .npy array, not an .npz of named arrays")
    try:
        with data_or_array as data:
            missing = {"eigs", "w1_sq", "delta_sq", "sigma2"} - set(data.files)
            if missing:
                raise ValueError(f"problem file {path} lacks {sorted(missing)} (needs eigs, "
                                 "w1_sq, delta_sq, sigma2)")  # fmt: skip
            arrays = {k: np.asarray(data[k], np.float64) for k in data.files}
    except OSError as err:
        raise ValueError(f"cannot read problem file {path}: {err}") from None
    prob = Problem(arrays["eigs"], arrays["w1_sq"], arrays["delta_sq"], float(arrays["sigma2"]))
    if d is not None and int(d) != prob.d:
        raise ValueError(f"d must match the problem file {path} (d = {prob.d}), got {d}")
    if c2 is not None:
        prob = prob.with_c2(c2)
    return prob if sigma2 is None else prob.with_sigma2(sigma2)


register_family("isotropic", lambda d, **kw: Problem.isotropic(d, **kw))
register_family("power_law", lambda d, **kw: Problem.power_law(d, **kw))
register_family("file", load_file)
