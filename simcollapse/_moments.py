"""The second moments of a problem in the eigenbasis of its covariance, from a covariance matrix
or from a pool of data: the arrays ``Problem.from_covariance`` and ``Problem.from_data`` are built
from (``simcollapse.data_problems`` states the formulas and the rule of which directions are kept).

    eigs[j] = s_j,   w1_sq[j] = sum_k (v_j' w1[:, k])^2,   delta_sq[j] = sum_k (v_j' delta[:, k])^2
    (or, for a random shift of covariance Delta,   delta_sq[j] = v_j' Delta v_j).

Example:
  >>> import numpy as np
  >>> eigs, w1_sq, delta_sq, sigma2 = covariance_moments(np.diag([2.0, 1.0]), np.array([1.0, 0.0]))
  >>> eigs.tolist(), w1_sq.tolist(), delta_sq.tolist(), sigma2
  ([2.0, 1.0], [1.0, 0.0], [0.0, 0.0], 1.0)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from simcollapse._validate import as_float_array, check_range

__all__ = [
    "DEFAULT_RTOL",
    "DataMoments",
    "DroppedDirectionsWarning",
    "covariance_moments",
    "data_moments",
    "eigenbasis",
]

DEFAULT_RTOL: float | None = None  # keep every direction above the eigendecomposition's rounding


class DroppedDirectionsWarning(UserWarning):
    """Eigenvalues of Sigma below the relative cutoff were dropped from the problem.

    Example:
      >>> import warnings
      >>> with warnings.catch_warnings(record=True) as caught:
      ...     warnings.simplefilter("always")
      ...     eigs, vecs = eigenbasis(np.diag([1.0, 1e-14]), rtol=1e-10)
      >>> eigs.size, caught[0].category.__name__
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

    The rule (``simcollapse.data_problems``): eigenvalues <= d x eps x max (zero to the
    decomposition's rounding) always go, silently, since the theory of the rest is exactly that
    of ``sigma``; with ``rtol`` also those <= rtol x max, with a ``DroppedDirectionsWarning``
    (they change the theory at lam = 0).

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


def covariance_moments(
    sigma: Any,
    w1: Any,
    w2: Any = None,
    *,
    sigma2: float = 1.0,
    delta_cov: Any = None,
    rtol: float | None = DEFAULT_RTOL,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(eigs, w1_sq, delta_sq, sigma2) of inputs x ~ N(0, Sigma), a teacher w1 and a synthetic
    labeller (the fields of a ``Problem``; arguments as ``Problem.from_covariance``).

    In the eigenbasis Sigma = sum_j s_j v_j v_j' (kept directions only)::

        eigs[j] = s_j,   w1_sq[j] = sum_k (v_j' w1_k)^2,
        delta_sq[j] = sum_k (v_j' (w2_k - w1_k))^2   or   v_j' Delta v_j.

    Raises:
      ValueError: a matrix not symmetric PSD, shapes that do not match, NaN, both ``w2`` and
        ``delta_cov``; each message names the argument.

    Example:
      >>> eigs, w1_sq, delta_sq, _ = covariance_moments(np.eye(2), np.ones(2), np.zeros(2))
      >>> float(w1_sq.sum()), float(delta_sq.sum())  # ||w1||^2 and ||w2 - w1||^2, Sigma = I
      (2.0, 2.0)
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
    return eigs, w1_sq, delta_sq, float(sigma2)


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


def _pool_moments(x, y, teacher, features, block_rows):
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


class DataMoments(NamedTuple):
    """What ``data_moments`` estimates from a pool: a Problem's fields and the rest.

    Attributes:
      eigs, w1_sq, delta_sq, sigma2: the fields of the ``Problem`` (``Problem.from_data``).
      synthetic_sigma2: residual variance of the synthetic labels around their best linear
        predictor. n_pool: inputs N. n_outputs: target columns k. dim: features before any
        direction was dropped.

    Example:
      >>> m = DataMoments(np.ones(2), np.ones(2), np.zeros(2), 0.5, 0.5, 100, 1, 2)
      >>> m.sigma2, m.n_pool
      (0.5, 100)
    """

    eigs: np.ndarray
    w1_sq: np.ndarray
    delta_sq: np.ndarray
    sigma2: float
    synthetic_sigma2: float
    n_pool: int
    n_outputs: int
    dim: int


def data_moments(
    x: Any,
    y: Any,
    *,
    teacher: Any = None,
    features: Callable[[np.ndarray], Any] | None = None,
    center: bool = True,
    finite_pool: bool = True,
    rtol: float | None = DEFAULT_RTOL,
    block_rows: int = 1024,
) -> DataMoments:
    """The moments of a pool of data (arguments as ``simcollapse.data_problems.data_problem``).

    With F = phi(X - mean) the features of the N pool inputs and r the kept directions::

        Sigma = F'F/N,   w1 = Sigma^+ F'Y/N,   sigma^2 = ||Y - F w1||^2 / (N - r)
        w1_sq[j] = sum_k (v_j'w1_k)^2 - sigma^2/(N s_j),   clipped at 0   (finite_pool)

    and likewise for the synthetic labels T (``data_problem`` gives every formula).

    Example:
      >>> rng = np.random.default_rng(0)
      >>> x = rng.standard_normal((2000, 5))
      >>> m = data_moments(x, x @ np.ones(5) + 0.5 * rng.standard_normal(2000))
      >>> m.eigs.size, m.n_pool, round(m.sigma2, 2)
      (5, 2000, 0.25)
    """
    check_range("block_rows", block_rows, 1, integer=True)
    x, y, teacher = _check_inputs(x, y, teacher)
    if center:
        x = x - x.mean(axis=0, keepdims=True)
    mom = _pool_moments(x, y, teacher, features, int(block_rows))
    n_pool = x.shape[0]
    eigs, vecs = _kept_directions(mom["ff"], rtol, n_pool)
    sigma2, syn_sigma2, w1_sq, delta_sq = _teacher_moments(mom, eigs, vecs, n_pool, finite_pool)
    if teacher is None:
        syn_sigma2, delta_sq = sigma2, np.zeros_like(eigs)
    return DataMoments(
        eigs, w1_sq, delta_sq, sigma2, syn_sigma2, n_pool, y.shape[1], int(mom["ff"].shape[0])
    )
