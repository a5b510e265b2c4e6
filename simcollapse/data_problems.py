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
from collections.abc import Callable
from typing import Any

import numpy as np

from simcollapse import theory
from simcollapse._moments import (
    DEFAULT_RTOL,
    DroppedDirectionsWarning,
    covariance_moments,
    data_moments,
    eigenbasis,
)
from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms

__all__ = [
    "DataProblem",
    "DroppedDirectionsWarning",
    "data_problem",
    "eigenbasis",
    "problem_from_covariance",
]


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
    return Problem(
        *covariance_moments(sigma, w1, w2, sigma2=sigma2, delta_cov=delta_cov, rtol=rtol)
    )


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
    m = data_moments(
        x, y, teacher=teacher, features=features, center=center, finite_pool=finite_pool,
        rtol=rtol, block_rows=block_rows,
    )  # fmt: skip
    return DataProblem(
        problem=Problem(m.eigs, m.w1_sq, m.delta_sq, m.sigma2),
        synthetic_sigma2=m.synthetic_sigma2,
        n_pool=m.n_pool,
        n_outputs=m.n_outputs,
        dim=m.dim,
    )
