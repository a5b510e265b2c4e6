"""Problems built from a covariance matrix or from a dataset, for the theory to predict real data.

The deterministic equivalents (docs/theory.md) need only the spectrum s_j of Sigma and the second
moments of the teacher w1 and of the shift delta = w2 - w1 along each eigenvector v_j:

    w1_sq[j]    = sum_k (v_j' w1[:, k])^2,         delta_sq[j] = sum_k (v_j' delta[:, k])^2
    (or, for a random shift of covariance Delta,   delta_sq[j] = v_j' Delta v_j).

One eigendecomposition serves every n, lam and p2. Vector targets (k outputs, e.g. the 10 one-hot
outputs of MNIST) are summed over outputs: every formula of the theory is linear in w1_sq, delta_sq
and sigma^2 at fixed (n, lam), so one problem with the summed moments gives exactly the sum over
outputs of the per-output ErrorTerms.

Scale: the spectrum keeps the raw scale of Sigma (no normalisation to tr Sigma = d), so the ridge
penalty lam means the same in the theory as in an experiment on the same data.

Which directions are kept (the rule): by default (``rtol=None``) every eigen-direction whose
eigenvalue is above the rounding of the eigendecomposition, d x eps x max(s) (eps = 2.2e-16), is
kept: at or below it an eigenvalue is zero to float64, Sigma has no variance there, the data never
move along it, and the theory of the kept r directions is exactly that of Sigma (its rank is r, so
the ridgeless threshold is n = r). Every other direction changes the theory at some lam, at lam = 0
always (it moves the interpolation threshold), so it is kept, however small. An explicit ``rtol``
drops eigenvalues <= rtol x max(s) as well; then a ``DroppedDirectionsWarning`` says how many, how
much of tr Sigma they held, and that the theory at lam = 0 (and at lam up to about the largest
dropped eigenvalue) is that of the r kept directions, not of Sigma.

From data (``data_problem``): with X the (centred) pool of N inputs, phi(X) its features (the
inputs themselves, or e.g. random ReLU features), Sigma = phi(X)'phi(X)/N, the real teacher is the
best linear predictor of the targets on the pool, w1 = Sigma^+ phi(X)'Y/N, and sigma^2 the residual
variance summed over outputs. A finite pool makes both biased: the residual is corrected by the
degrees of freedom, sigma^2 = RSS/(N - r) (r kept directions), and the estimation noise of w1,
sigma^2/(N s_j) per direction (homoscedastic), is removed from w1_sq (clipped at 0). The synthetic
labeller's labels are projected the same way: delta = its best linear predictor minus w1 (noise
removed likewise), and what of its labels the features cannot express is noise on the synthetic
rows (``synthetic_sigma2``).
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from simcollapse import theory
from simcollapse._validate import as_float_array, check_range
from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms

__all__ = [
    "DataProblem",
    "DroppedDirectionsWarning",
    "data_problem",
    "eigenbasis",
    "problem_from_covariance",
]

DEFAULT_RTOL: float | None = None  # keep every direction above the eigendecomposition's rounding


class DroppedDirectionsWarning(UserWarning):
    """Eigenvalues of Sigma below the relative cutoff were dropped from the problem.

    Example:
      >>> import warnings, numpy as np
      >>> with warnings.catch_warnings(record=True) as caught:
      ...     warnings.simplefilter("always")
      ...     p = problem_from_covariance(np.diag([1.0, 1e-14]), np.ones(2), rtol=1e-10)
      >>> p.d, caught[0].category.__name__
      (1, 'DroppedDirectionsWarning')
    """


def _check_square(name: str, matrix: Any) -> np.ndarray:
    arr = as_float_array(name, matrix)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty square (d, d) matrix, got shape {arr.shape}")
    scale = max(float(np.max(np.abs(arr))), np.finfo(float).tiny)
    asym = float(np.max(np.abs(arr - arr.T)))
    if asym > 1e-8 * scale:
        raise ValueError(
            f"{name} must be symmetric; got max |{name} - {name}'| = {asym:.3g} "
            f"(allowed: 1e-8 x max |entry| = {1e-8 * scale:.3g})"
        )
    return (arr + arr.T) / 2


def eigenbasis(
    sigma: Any, *, rtol: float | None = DEFAULT_RTOL, name: str = "Sigma"
) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues and eigenvectors of a symmetric PSD matrix, null directions dropped.

    The rule (module doc): eigenvalues <= d x eps x max (zero to the decomposition's rounding)
    always go, silently, since the theory of the rest is exactly that of ``sigma``; with ``rtol``
    also those <= rtol x max, with a ``DroppedDirectionsWarning`` (they change the theory at
    lam = 0).

    Args:
      sigma: (d, d) symmetric positive semi-definite matrix.
      rtol: None (keep every direction above rounding) or a relative cutoff in [0, 1).
      name: the argument's name in error messages.

    Returns:
      (eigs, vecs): the kept eigenvalues (r,) and their eigenvectors (d, r), as columns.

    Raises:
      ValueError: ``sigma`` not square, not symmetric (to 1e-8 of its largest entry), with NaN,
        an eigenvalue below -1e-8 x the largest (not PSD), no positive eigenvalue, or ``rtol``
        outside [0, 1).

    Warns:
      DroppedDirectionsWarning: when eigenvalues were dropped (how many, their share of the trace).

    Example:
      >>> eigs, vecs = eigenbasis(np.diag([2.0, 1.0]))
      >>> eigs.tolist()
      [2.0, 1.0]
    """
    if rtol is not None:
        check_range("rtol", rtol, 0.0, 1.0, high_open=True)
    arr = _check_square(name, sigma)
    eigs, vecs = np.linalg.eigh(arr)
    eigs, vecs = eigs[::-1], vecs[:, ::-1]
    top = float(eigs[0])
    if top <= 0:
        raise ValueError(f"{name} must have a positive eigenvalue, got largest {top:.3g}")
    if eigs[-1] < -1e-8 * top:
        raise ValueError(
            f"{name} must be positive semi-definite; got eigenvalue {eigs[-1]:.3g} "
            f"(allowed: >= -1e-8 x largest = {-1e-8 * top:.3g})"
        )
    rounding = eigs.size * np.finfo(np.float64).eps * top
    cutoff = max(rounding, 0.0 if rtol is None else rtol * top)
    keep = eigs > cutoff
    chosen = (eigs > rounding) & ~keep  # dropped by rtol, not by rounding
    if np.any(chosen):
        lost = float(np.sum(eigs[chosen]) / np.sum(np.clip(eigs, 0, None)))
        warnings.warn(
            f"{name}: dropped {int(np.sum(chosen))} of {eigs.size} directions with eigenvalue "
            f"<= rtol x largest = {rtol * top:.3g} ({lost:.2g} of the trace); the theory is "
            f"that of the {int(np.sum(keep))} kept directions, which differs from {name}'s at "
            f"lam = 0 (threshold n = {int(np.sum(keep))}, not {int(np.sum(eigs > rounding))}) "
            f"and at lam up to about {float(np.max(eigs[chosen])):.3g}; rtol=None keeps them",
            DroppedDirectionsWarning,
            stacklevel=3,
        )
    return eigs[keep], vecs[:, keep]


def _as_columns(name: str, value: Any, d: int) -> np.ndarray:
    arr = as_float_array(name, value)
    arr = arr[:, None] if arr.ndim == 1 else arr
    if arr.ndim != 2 or arr.shape[0] != d:
        raise ValueError(f"{name} must have shape (d,) or (d, k) with d = {d}, got {arr.shape}")
    return arr


def problem_from_covariance(
    sigma: Any,
    w1: Any,
    w2: Any = None,
    *,
    sigma2: float = 1.0,
    delta_cov: Any = None,
    rtol: float | None = DEFAULT_RTOL,
) -> Problem:
    """The ``Problem`` of inputs x ~ N(0, Sigma), a teacher w1 and a synthetic labeller.

    In the eigenbasis Sigma = sum_j s_j v_j v_j' (kept directions only)::

        eigs[j] = s_j,   w1_sq[j] = sum_k (v_j' w1_k)^2,
        delta_sq[j] = sum_k (v_j' (w2_k - w1_k))^2   or   v_j' Delta v_j.

    Args:
      sigma: (d, d) input covariance, symmetric PSD; kept at its raw scale.
      w1: real teacher, (d,) or (d, k) for k outputs (moments summed over outputs).
      w2: synthetic labeller's weights, same shape as ``w1`` (a fixed shift delta = w2 - w1).
      sigma2: label-noise variance (summed over outputs), >= 0.
      delta_cov: (d, d) covariance Delta of a random shift (Definition 1 of the paper), PSD.
        At most one of ``w2`` and ``delta_cov``; neither gives no shift.
      rtol: None (default) keeps every direction above the eigendecomposition's rounding; a
        number also drops eigenvalues <= rtol x largest, with a warning (``eigenbasis``).

    Returns:
      A ``Problem`` of dimension r, the directions kept. With ``rtol=None`` only directions
      with zero variance to float64 are dropped, and its theory equals that of Sigma at every
      lam, lam = 0 included (the rule of the module doc).

    Raises:
      ValueError: a matrix not symmetric PSD, shapes that do not match, NaN, both ``w2`` and
        ``delta_cov``; each message names the argument.

    Example:
      >>> p = problem_from_covariance(np.diag([2.0, 1.0]), np.array([1.0, 0.0]), sigma2=0.5)
      >>> p.eigs.tolist(), p.w1_sq.tolist(), float(p.signal)
      ([2.0, 1.0], [1.0, 0.0], 2.0)
    """
    if w2 is not None and delta_cov is not None:
        raise ValueError("give at most one of w2 (a fixed shift) and delta_cov (a random shift)")
    check_range("sigma2", sigma2, 0.0)
    d = np.shape(sigma)[0] if np.ndim(sigma) == 2 else -1
    eigs, vecs = eigenbasis(sigma, rtol=rtol, name="sigma")
    w1 = _as_columns("w1", w1, d)
    w1_sq = np.sum((vecs.T @ w1) ** 2, axis=1)
    if w2 is not None:
        w2 = _as_columns("w2", w2, d)
        if w2.shape != w1.shape:
            raise ValueError(f"w2 must have the shape of w1 {w1.shape}, got {w2.shape}")
        delta_sq = np.sum((vecs.T @ (w2 - w1)) ** 2, axis=1)
    elif delta_cov is not None:
        cov = _check_square("delta_cov", delta_cov)
        if cov.shape[0] != d:
            raise ValueError(f"delta_cov must be ({d}, {d}) like sigma, got {cov.shape}")
        if np.linalg.eigvalsh(cov)[0] < -1e-8 * max(np.max(np.abs(cov)), 1e-300):
            raise ValueError("delta_cov must be positive semi-definite")
        delta_sq = np.clip(np.einsum("ij,ik,kj->j", vecs, cov, vecs), 0.0, None)
    else:
        delta_sq = np.zeros_like(eigs)
    return Problem(eigs, w1_sq, delta_sq, float(sigma2))


@dataclasses.dataclass(frozen=True, eq=False)
class DataProblem:
    """A ``Problem`` estimated from a pool of data, with what the plain problem cannot hold.

    Attributes:
      problem: spectrum of the (feature) covariance, moments of the real teacher and of the shift,
        ``sigma2`` = residual variance of the real targets (summed over outputs).
      synthetic_sigma2: residual variance of the synthetic labels around their best linear
        predictor (0 for a linear labeller on the same inputs, whose labels carry no noise).
      n_pool: number of inputs N the moments were estimated from.
      n_outputs: number of target columns k (moments are summed over them).
      dim: number of features before dropping tiny directions (``problem.d`` kept).

    Example:
      >>> import numpy as np
      >>> rng = np.random.default_rng(0)
      >>> x = rng.standard_normal((20_000, 3))
      >>> y = x @ np.array([1.0, -1.0, 0.5]) + 0.1 * rng.standard_normal(20_000)
      >>> dp = data_problem(x, y)
      >>> type(dp).__name__, dp.n_pool, dp.n_outputs, dp.dim, round(float(dp.problem.sigma2), 2)
      ('DataProblem', 20000, 1, 3, 0.01)
    """

    problem: Problem
    synthetic_sigma2: float
    n_pool: int
    n_outputs: int
    dim: int

    def terms(self, n: Any, lam: Any, p2: Any) -> ErrorTerms:
        """Excess test error ||w_hat - w1||^2_Sigma of ridge on the data's problem (Theorem 1).

        The variance term is g (p1 sigma^2 + p2 synthetic_sigma2): ridge is linear in the labels
        and its deterministic equivalent weighs every row's noise alike, so rows of two noise
        levels act as one level, their average. Other terms as ``theory.ridge_error``.
        """

        base = theory.ridge_error(self.problem.with_sigma2(1.0), n, lam, p2)
        p2 = np.asarray(p2, dtype=np.float64)
        noise = (1.0 - p2) * self.problem.sigma2 + p2 * self.synthetic_sigma2
        variance = base.variance * noise
        total = base.bias + variance + base.zeta
        return base._replace(variance=variance, total=total)

    def test_mse(self, n: Any, lam: Any, p2: Any) -> np.ndarray:
        """Predicted test error against the real targets: ``terms(...).total + sigma^2``."""
        return np.asarray(self.terms(n, lam, p2).total) + self.problem.sigma2


def _labels_of(teacher: Any, x: np.ndarray, k: int) -> np.ndarray:
    if callable(teacher):
        out = np.asarray(teacher(x), dtype=np.float64)
    else:
        out = x @ teacher
    out = out[:, None] if out.ndim == 1 else out
    if out.shape != (x.shape[0], k) or not np.all(np.isfinite(out)):
        raise ValueError(
            f"teacher must give finite labels of shape (N, {k}) like y, got {out.shape}"
        )
    return out


def _moments(x, y, teacher, features, block_rows):
    """Second moments of features, targets and synthetic labels, accumulated over row blocks."""
    k = y.shape[1]
    acc: dict[str, Any] = {}
    for i in range(0, x.shape[0], block_rows):
        xb, yb = x[i : i + block_rows], y[i : i + block_rows]
        fb = xb if features is None else np.asarray(features(xb), dtype=np.float64)
        tb = yb if teacher is None else _labels_of(teacher, xb, k)
        parts = {"ff": fb.T @ fb, "fy": fb.T @ yb, "ft": fb.T @ tb}
        parts |= {"yy": np.sum(yb * yb), "tt": np.sum(tb * tb), "dd": np.sum((yb - tb) ** 2)}
        for name, value in parts.items():
            acc[name] = acc.get(name, 0.0) + value
    n_pool = x.shape[0]
    return {name: value / n_pool for name, value in acc.items()}


def _teacher_moments(mom, eigs, vecs, n_pool, finite_pool):
    """Residual variances and per-direction moments of w1 and delta from the pool's moments."""
    a_y, a_t = vecs.T @ mom["fy"], vecs.T @ mom["ft"]  # (r, k): v_j' F'Y/N, v_j' F'T/N
    dof = (n_pool - eigs.size) / n_pool if finite_pool else 1.0

    def residual(second_moment, proj):  # ||target - F beta||^2/N, beta its best linear predictor
        return max(float(second_moment - np.sum(proj**2 / eigs[:, None])) / dof, 0.0)

    sigma2 = residual(mom["yy"], a_y)
    syn_sigma2 = residual(mom["tt"], a_t)
    diff_sigma2 = residual(mom["dd"], a_y - a_t)
    noise = 1.0 / (n_pool * eigs) if finite_pool else np.zeros_like(eigs)
    w1_sq = np.clip(np.sum((a_y / eigs[:, None]) ** 2, axis=1) - sigma2 * noise, 0.0, None)
    delta_sq = np.sum(((a_t - a_y) / eigs[:, None]) ** 2, axis=1) - diff_sigma2 * noise
    return sigma2, syn_sigma2, w1_sq, np.clip(delta_sq, 0.0, None)


def _check_inputs(x: Any, y: Any, teacher: Any) -> tuple[np.ndarray, np.ndarray, Any]:
    x = as_float_array("X", x)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"X must be a (N, d) matrix with N >= 2, got shape {x.shape}")
    y = as_float_array("y", y)
    y = y[:, None] if y.ndim == 1 else y
    if y.ndim != 2 or y.shape[0] != x.shape[0]:
        raise ValueError(f"y must have shape (N,) or (N, k) with N = {x.shape[0]}, got {y.shape}")
    if teacher is not None and not callable(teacher):
        teacher = _as_columns("teacher", teacher, x.shape[1])
        if teacher.shape[1] != y.shape[1]:
            raise ValueError(
                f"teacher weights must have {y.shape[1]} column(s) like y, got {teacher.shape}"
            )
    return x, y, teacher


def _kept_directions(ff: np.ndarray, rtol: float, n_pool: int) -> tuple[np.ndarray, np.ndarray]:
    """The kept eigenpairs of the feature covariance; fewer than ``n_pool`` of them, or an error."""
    eigs, vecs = eigenbasis(ff, rtol=rtol, name="feature covariance")
    if n_pool <= eigs.size:
        raise ValueError(
            f"X must hold more inputs than kept directions to estimate the teacher: "
            f"N = {n_pool}, kept {eigs.size}"
        )
    return eigs, vecs


def data_problem(
    x: Any,
    y: Any,
    *,
    teacher: Any = None,
    features: Callable[[np.ndarray], Any] | None = None,
    center: bool = True,
    finite_pool: bool = True,
    rtol: float | None = DEFAULT_RTOL,
    block_rows: int = 1024,
) -> DataProblem:
    """Estimate the problem of a dataset: covariance, real teacher, noise and synthetic shift.

    With F = phi(X - mean) the features of the N pool inputs (phi = identity by default)::

        Sigma = F'F/N,   w1 = Sigma^+ F'Y/N,   sigma^2 = ||Y - F w1||^2 / (N - r)
        w2 = Sigma^+ F'T/N (T: the synthetic labels),  synthetic_sigma2 = ||T - F w2||^2 / (N - r)
        w1_sq[j] = sum_k (v_j'w1_k)^2 - sigma^2/(N s_j),   clipped at 0   (finite_pool)
        delta_sq[j] = sum_k (v_j'(w2_k - w1_k))^2 - ||Y - T - F(w1 - w2)||^2/((N - r) N s_j)

    r = number of kept eigen-directions. With ``finite_pool=False`` the plain in-sample values
    (divisor N, no noise removed). The moments are accumulated over blocks of ``block_rows`` inputs,
    so the features are never held whole: memory is about 3 m^2 float64 words for m features
    (m = 2000: 96 MB) plus one block.

    Assumptions: the theory treats the features as Gaussian with this covariance (Gaussian
    equivalence) and the residuals as noise independent of the inputs (docs/realdata.md).

    Args:
      x: (N, d) pool of inputs, finite.
      y: (N,) or (N, k) real targets (k outputs: moments and noise summed over outputs).
      teacher: the synthetic labeller: None (no shift), weights (d,) or (d, k) acting on the
        centred inputs, or a callable mapping a (b, d) block of centred inputs to (b, k) labels.
      features: a callable mapping a (b, d) block of centred inputs to (b, m) features; None
        regresses on the inputs themselves.
      center: subtract the pool's mean input first (as the MNIST experiments centre pixels).
      finite_pool: correct sigma^2 and the moments for the pool's finite size (above).
      rtol: None (keep every direction above rounding) or a relative eigenvalue cutoff, whose
        drops are reported (``eigenbasis``, the module doc's rule).
      block_rows: inputs per block, >= 1.

    Returns:
      A ``DataProblem``; its ``terms`` / ``test_mse`` give the theory of ridge on these data.

    Raises:
      ValueError: NaN or inf in the data, shapes that do not match, N <= r (too few inputs to
        estimate the teacher), a bad ``rtol`` or ``block_rows``.

    Example:
      >>> rng = np.random.default_rng(0)
      >>> x = rng.standard_normal((2000, 5))
      >>> y = x @ np.ones(5) + 0.5 * rng.standard_normal(2000)
      >>> fit = data_problem(x, y)
      >>> round(float(fit.problem.signal), 1), round(fit.problem.sigma2, 2)
      (5.0, 0.25)
    """
    check_range("block_rows", block_rows, 1, integer=True)
    x, y, teacher = _check_inputs(x, y, teacher)
    if center:
        x = x - x.mean(axis=0, keepdims=True)
    mom = _moments(x, y, teacher, features, int(block_rows))
    n_pool = x.shape[0]
    eigs, vecs = _kept_directions(mom["ff"], rtol, n_pool)
    sigma2, syn_sigma2, w1_sq, delta_sq = _teacher_moments(mom, eigs, vecs, n_pool, finite_pool)
    if teacher is None:
        syn_sigma2, delta_sq = sigma2, np.zeros_like(eigs)
    return DataProblem(
        problem=Problem(eigs, w1_sq, delta_sq, sigma2),
        synthetic_sigma2=syn_sigma2,
        n_pool=n_pool,
        n_outputs=y.shape[1],
        dim=int(mom["ff"].shape[0]),
    )
