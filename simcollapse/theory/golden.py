"""Golden-ratio weighting: recursive training on real rows plus the last generation's labels.

docs/theory.md, "Golden-ratio weighting" (He, Xu, Cheng 2025, arXiv 2502.18049). Generation
t = 1..T fits ridge (lam) on n fresh real rows labelled x.w1 + eps and n_s = ratio n fresh
synthetic rows labelled x.w_{t-1} + eps, with the loss

    real_weight * (mean loss on the real rows) + (1 - real_weight) * (mean loss on the synthetic
    rows) + lam ||w||^2,

starting from w_0 = w1 + delta (the synthetic teacher: c^2 enters generation 1; w_0 = w1 when
the problem has no shift). This is weighted ridge (``theory.weighted``, Corollary 2) on
N = n (1 + ratio) rows with synthetic fraction p2 = ratio/(1 + ratio) and synthetic loss share
alpha = 1 - real_weight, whose synthetic teacher is the previous generation: the fresh-rows
recursion of ``theory.iterative`` with separate row and loss shares. In the regime n >> d with
lam = 0 and equal sizes, the weight minimising the error as t -> infinity is 1/phi = 0.618...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from simcollapse._validate import check_broadcast, check_common, check_count, check_range
from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms
from simcollapse.theory._common import exact_terms, raise_if_failed, run_x64
from simcollapse.theory.fixed_points import df2, map_points, zero_safe_product
from simcollapse.theory.iterative import fresh_rows_recursion
from simcollapse.theory.weighted import weighted_point

__all__ = [
    "check_golden",
    "golden_error",
    "golden_reference",
    "golden_terms",
    "optimal_weight",
    "optimal_weight_limit",
]

INV_PHI = (np.sqrt(5.0) - 1.0) / 2.0  # 1/phi = phi - 1 = 0.6180339887...


def check_golden(ratio: Any, real_weight: Any) -> None:
    """ratio >= 0, real_weight in [0, 1], and real_weight = 1 where there are no synthetic rows.

    Raises:
      ValueError: ratio < 0, real_weight outside [0, 1], NaN, shapes that do not broadcast, or
        real_weight < 1 with ratio = 0 (no synthetic rows to weight).

    Example:
      >>> check_golden(1.0, 0.618)
      >>> try:
      ...     check_golden(0.0, 0.5)
      ... except ValueError as err:
      ...     print(err)
      real_weight must be 1 where ratio = 0 (no synthetic rows to weight), got real_weight=[0.5]
    """
    check_range("ratio", ratio, 0.0)
    check_range("real_weight", real_weight, 0.0, 1.0)
    check_broadcast(ratio=ratio, real_weight=real_weight)
    r_b, w_b = np.broadcast_arrays(np.asarray(ratio, float), np.asarray(real_weight, float))
    if np.any((r_b == 0) & (w_b < 1)):
        raise ValueError(
            "real_weight must be 1 where ratio = 0 (no synthetic rows to weight), "
            f"got real_weight={np.atleast_1d(w_b[r_b == 0])}"
        )


def golden_terms(
    problem: Problem, n: Array, lam: Array, ratio: Array, real_weight: Array, generations: int
) -> ErrorTerms:
    """The weighted fresh-rows recursion as a pure, jittable function (see ``golden_error``).

    ``n``, ``lam``, ``ratio`` and ``real_weight`` share one shape A (all enter the fixed point),
    ``generations`` is static. Returns ErrorTerms of shape A + (generations,).

    Example:
      >>> import jax, jax.numpy as jnp, numpy as np, simcollapse as sc
      >>> prob = sc.Problem.isotropic(50, c2=1.0, sigma2=1.0)
      >>> args = (jnp.array([v]) for v in (400.0, 1e-2, 1.0, 0.6))
      >>> with jax.enable_x64(True):
      ...     terms = jax.jit(golden_terms, static_argnums=5)(prob, *args, 4)
      >>> ref = golden_error(prob, 400, 1e-2, 1.0, 0.6, generations=4)
      >>> bool(np.allclose(terms.total[0], ref.total))
      True
    """
    shape = jnp.shape(n)
    s, w_sq, dl = problem.eigs, problem.w1_sq, problem.delta_sq
    dtype = s.dtype
    d = s.shape[-1]
    nf, lam, ratio, rw = (jnp.ravel(v).astype(dtype) for v in (n, lam, ratio, real_weight))
    rows = nf * (1.0 + ratio)
    p2 = ratio / (1.0 + ratio)

    def solve(rows: Array, lam: Array, p2: Array, alpha: Array) -> tuple[Array, ...]:
        return tuple(weighted_point(s, rows, lam, p2, alpha))

    kappa, gamma, beta, rho, status, threshold = map_points(solve, d, rows, lam, p2, 1.0 - rw)
    kappa, gamma, beta, rho = (v[:, None] for v in (kappa, gamma, beta, rho))
    zs = zero_safe_product
    e = s / (s + kappa)  # (P, d)
    q_ = jnp.where(kappa == 0, 0.0, kappa / (s + kappa))  # 1 - e, without its cancellation
    f2 = df2(s, kappa[:, 0])[:, None]
    inv = jnp.where(threshold[:, None], jnp.inf, 1.0 / (1.0 - gamma))  # inf at n_eff = d, lam = 0
    # chi_j: the fluctuation of direction j per unit of residual energy; sum_j s_j chi_j is
    # gamma/(1 - gamma), Corollary 2's variance gain (plain ridge: s_j/(n (s_j+k)^2 (1 - df_2/n))).
    chi = zs(gamma / f2 * e / (s + kappa), inv)
    cross = rho - beta * e  # the residual's w1-m cross coefficient
    # residual energy per unit of previous error: rho (1 - beta e)^2 + (1 - rho) beta^2 e^2
    resid = rho * (1.0 - beta * e) ** 2 + (1.0 - rho) * (beta * beta * e * e)
    w = jnp.sqrt(w_sq)
    sigma2 = jnp.asarray(problem.sigma2, dtype)

    def energy(state: tuple[Array, ...], sq_norm: Callable[[Array], Array]) -> tuple[Array, ...]:
        m, qw, qs, qd = state
        # A = sigma^2 + sum_j s_j [(1-e)^2 w^2 + 2 (1-e)(rho - beta e) w m + resid q], by source
        a_w = sq_norm(q_ * q_ * w_sq + 2.0 * q_ * cross * w * m + zs(resid, qw))
        a_s = sigma2 + sq_norm(zs(resid, qs))
        a_d = sq_norm(zs(resid, qd))
        return a_w, a_s, a_d

    bias, variance, zeta = fresh_rows_recursion(
        s, w_sq, dl, e, q_, chi, beta, energy, generations, shape
    )
    return exact_terms(bias, variance, zeta, jnp.reshape(status, (*shape, 1)))


_golden_terms_jit = jax.jit(golden_terms, static_argnums=5)


def golden_error(
    problem: Problem,
    n: Any,
    lam: Any,
    ratio: Any,
    real_weight: Any,
    generations: int,
    *,
    throw: bool = True,
) -> ErrorTerms:
    """Test error after each generation of golden-ratio weighting (He, Xu, Cheng 2025).

    Generation t fits w_t = argmin  w/n sum_real (x.v - y)^2 + (1 - w)/n_s sum_syn (x.v - y)^2
    + lam ||v||^2 (w = ``real_weight``) on n fresh real rows (y = x.w1 + eps) and
    n_s = ratio n fresh synthetic rows (y = x.w_{t-1} + eps), w_0 = w1 + delta. That is weighted
    ridge on N = n (1 + ratio) rows (p2 = ratio/(1 + ratio), alpha = 1 - w), so Corollary 2's
    fixed point gives kappa, gamma, beta = mu_2/mu and rho = eta_2/eta once (``weighted_point``),
    and, with e_j = s_j/(s_j + kappa) and the previous error's per-direction mean m_j and second
    moment q_j (m = 0, q = Delta at t = 0)::

        chi_j = gamma s_j / (df_2(kappa) (s_j + kappa)^2 (1 - gamma))
        A     = sigma^2 + sum_j s_j [(1-e_j)^2 w_j^2 + 2 (1-e_j)(rho - beta e_j) w_j m_j
                                     + (rho (1 - beta e_j)^2 + (1 - rho) beta^2 e_j^2) q_j]
        q_j  <- (1-e_j)^2 w_j^2 - 2 beta e_j (1-e_j) w_j m_j + beta^2 e_j^2 q_j + chi_j A
        m_j  <- -(1-e_j) w_j + beta e_j m_j,          E_t = sum_j s_j q_j

    Generation 1 is ``weighted_error(problem, N, lam, p2, 1 - w)``; w = 1/(1 + ratio) (every row
    weighted alike) is ``iterative_error(problem, N, lam, p2, rounds)``. For lam = 0 and
    n >> d: E_t = (1-w)^2 E_{t-1} + sigma^2 d (w^2/n + (1-w)^2/n_s) (``golden_reference``),
    whose limit is smallest at ratio w^2 + w - 1 = 0: w = 1/phi = 0.618 for equal sizes
    (``optimal_weight_limit``).

    Assumptions: Gaussian inputs, proportional asymptotics, fresh rows in every generation (so
    w_{t-1} is independent of generation t's data); the teacher enters through
    w_j = sqrt(w1_sq[j]) as in ``iterative_error``. This is the deterministic equivalent, not
    a finite-n identity: with unequal row weights the Gram a1 X1'X1 + a2 X2'X2 is not Wishart,
    so E G^-1 = Sigma^-1/(N - d - 1) does not carry over; the Monte Carlo meets it within
    3 SE + 3% down to n = 4 d real rows at lam = 0 (the golden_ratio figure). Only the second
    moments of w_0 - w1 enter, so the paper's generation 0 (OLS on n real rows) is the shift
    with Delta_j = sigma^2/(s_j (n - d - 1)), i.e. ``problem.with_teacher(n)``.

    Args:
      problem: the spectrum, teacher, shift (of w_0) and noise.
      n: real rows per generation, >= 1.
      lam: ridge penalty(ies), >= 0.
      ratio: synthetic rows per real row, >= 0 (0: no synthetic rows, real_weight must be 1).
      real_weight: loss share of the real rows, in [0, 1].
      generations: T, an integer >= 1.
      throw: raise FixedPointError if the fixed point did not converge somewhere.

    Returns:
      ErrorTerms of float64 NumPy arrays of shape broadcast(n, lam, ratio, real_weight) + (T,);
      bias, variance and zeta are the parts propagated from the ridge bias of w1, from the label
      noise and from the shift of w_0. ``Status.THRESHOLD`` (inf) where lam = 0 and the rows
      with positive weight number exactly d.

    Raises:
      ValueError: n < 1, lam < 0, ratio < 0, real_weight outside [0, 1], real_weight < 1 with
        ratio = 0, generations not an integer >= 1, NaN, shapes that do not broadcast.

    Float64 is switched on for this call only (``jax.enable_x64``), whatever the global setting.

    Example:
      >>> import simcollapse as sc
      >>> prob = sc.Problem.isotropic(10, c2=0.0, sigma2=1.0)
      >>> err = golden_error(prob, 10**6, 0.0, 1.0, 0.618, generations=30)
      >>> ref = golden_reference(prob, 10**6, 1.0, 0.618, generations=30)
      >>> bool(abs(err.total[-1] / ref[-1] - 1) < 1e-3)
      True
    """
    check_common(problem, n=n, lam=lam)
    check_golden(ratio, real_weight)
    generations = check_count("generations", generations)
    check_broadcast(n=n, lam=lam, ratio=ratio, real_weight=real_weight)
    arrays = np.broadcast_arrays(*(np.asarray(v, float) for v in (n, lam, ratio, real_weight)))
    out = run_x64(_golden_terms_jit, problem, *arrays, generations)
    if throw:
        trail = (...,) + (None,)
        raise_if_failed(out, "weighted tau", n=arrays[0][trail], lam=arrays[1][trail],
                        ratio=arrays[2][trail], real_weight=arrays[3][trail])  # fmt: skip
    return out


def golden_reference(
    problem: Problem, n: Any, ratio: Any, real_weight: Any, generations: int
) -> np.ndarray:
    """The n >> d least-squares limit of ``golden_error`` (He, Xu, Cheng 2025)::

        E_t = (1 - w)^2 E_{t-1} + sigma^2 d (w^2/n + (1 - w)^2/n_s),   E_0 = c^2,
        E_inf = sigma^2 d (w^2/n + (1 - w)^2/n_s) / (1 - (1 - w)^2)

    with n_s = ratio n (the synthetic term is 0 where w = 1). Each generation is OLS on the
    weighted rows: its error is w (noise of the real fit) + (1 - w) (previous error + noise of
    the synthetic fit), each fit's noise of second moment sigma^2 d/(rows) when rows >> d.

    Args:
      problem: gives d, sigma^2 and c^2 (the error of w_0).  n: real rows, > 0.
      ratio: synthetic rows per real row, >= 0.  real_weight: in [0, 1] (1 where ratio = 0).
      generations: T, an integer >= 1.

    Returns:
      Float64 array of shape broadcast(n, ratio, real_weight) + (T,).

    Example:
      >>> import simcollapse as sc
      >>> prob = sc.Problem.isotropic(10, c2=0.0, sigma2=1.0)
      >>> golden_reference(prob, 1000, 1.0, 0.5, 3).round(5).tolist()  # d/n (w^2 + u^2) = 0.005
      [0.005, 0.00625, 0.00656]
    """
    check_range("n", n, 0.0, low_open=True)
    check_golden(ratio, real_weight)
    generations = check_count("generations", generations)
    check_broadcast(n=n, ratio=ratio, real_weight=real_weight)
    n, ratio, w = (np.asarray(v, np.float64)[..., None] for v in (n, ratio, real_weight))
    u2 = (1.0 - w) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        syn = np.where(u2 > 0, u2 / (ratio * n), 0.0)
    v = float(problem.sigma2) * problem.d * (w * w / n + syn)
    t = np.arange(1, generations + 1, dtype=np.float64)
    e0 = float(problem.c2)
    # E_t = E_inf + u2^t (E_0 - E_inf), E_inf = v/(1 - u2); u2 = 1 (w = 0): E_t = E_0 + t v
    with np.errstate(divide="ignore", invalid="ignore"):
        e_inf = v / (1.0 - u2)
        out = e_inf + u2**t * (e0 - e_inf)
    return np.where(u2 == 1.0, e0 + t * v, out)


def optimal_weight_limit(ratio: Any) -> np.ndarray:
    """The real weight minimising ``golden_reference``'s limit E_inf (n >> d, lam = 0)::

        ratio w^2 + w - 1 = 0,   w* = (sqrt(1 + 4 ratio) - 1) / (2 ratio)   (1 at ratio = 0)

    (from d E_inf/dw = 0 with u = 1 - w: ratio (1 - u)^2 = u). Equal sizes (ratio = 1):
    w* = (sqrt 5 - 1)/2 = 1/phi = 0.618..., the golden ratio of He, Xu, Cheng (2025).

    Example:
      >>> optimal_weight_limit([1.0, 0.0, 2.0]).round(6).tolist()
      [0.618034, 1.0, 0.5]
    """
    check_range("ratio", ratio, 0.0)
    r = np.asarray(ratio, np.float64)
    safe = np.where(r > 0, r, 1.0)
    # 2/(1 + sqrt(1 + 4 r)) is the same root without the cancellation at small r
    return np.where(r > 0, 2.0 / (1.0 + np.sqrt(1.0 + 4.0 * safe)), 1.0)


def _errors_at(
    problem: Problem, n: float, lam: float, ratio: float, weights: np.ndarray, generations: int
) -> np.ndarray:
    """E_t at each weight (shape weights.shape + (T,)); non-finite points are +inf."""
    out = golden_error(problem, n, lam, ratio, weights, generations, throw=False)
    return np.where(np.isfinite(out.total), out.total, np.inf)


def optimal_weight(
    problem: Problem,
    n: Any,
    lam: Any,
    generations: int,
    *,
    ratio: Any = 1.0,
    all_generations: bool = False,
    grid: int = 41,
    tol: float = 1e-7,
) -> Any:
    """The real weight minimising the generation-T test error of ``golden_error``.

    A grid of ``grid`` weights over [0, 1], then the bracket around each generation's best grid
    point is refined (11 points per pass, each pass one call of the vectorised theory for every
    generation at once) until it is narrower than ``tol``. The error need not be convex in the
    weight; the grid picks the basin. For n >> d, lam = 0 and equal sizes the result tends to
    1/phi = 0.618 as T grows (``optimal_weight_limit``); ridge (lam > 0) moves it.

    Args:
      problem: as ``golden_error``.  n: real rows, >= 1 (a single number).
      lam: penalty, >= 0 (a single number).  generations: T, an integer >= 1.
      ratio: synthetic rows per real row, > 0 (a single number).
      all_generations: return the optimum of every generation t = 1..T, not only of T.
      grid: points of the first grid, an integer >= 3.  tol: width of the final bracket, > 0.

    Returns:
      A float (the optimum at generation T) or, with ``all_generations``, a float64 array (T,).

    Raises:
      ValueError: a non-scalar or out-of-range n, lam or ratio (ratio = 0 has nothing to
        weigh), generations or grid not an integer in range, tol <= 0.

    Example:
      >>> import simcollapse as sc
      >>> prob = sc.Problem.isotropic(10, c2=0.0, sigma2=1.0)
      >>> w = optimal_weight(prob, n=100_000, lam=0.0, generations=30)
      >>> round(w, 3), bool(abs(w - (5 ** 0.5 - 1) / 2) < 1e-3)  # n >> d: 1/phi
      (0.618, True)
    """
    for name, value in (("n", n), ("lam", lam), ("ratio", ratio)):
        if np.ndim(value) != 0:
            raise ValueError(f"{name} must be a single number, got {value!r}")
    check_common(problem, n=n, lam=lam)
    check_range("ratio", ratio, 0.0, low_open=True)
    generations = check_count("generations", generations)
    grid = check_count("grid", grid, 3)
    check_range("tol", tol, 0.0, low_open=True)
    t_idx = np.arange(generations)
    weights = np.linspace(0.0, 1.0, grid)
    errs = _errors_at(problem, n, lam, ratio, weights, generations)  # (grid, T)
    best = np.argmin(errs, axis=0)  # (T,)
    step = weights[1] - weights[0]
    centre = weights[best]
    while step > tol:
        lo = np.clip(centre - step, 0.0, 1.0)
        hi = np.clip(centre + step, 0.0, 1.0)
        cand = lo[:, None] + (hi - lo)[:, None] * np.linspace(0.0, 1.0, 11)  # (T, 11)
        errs = _errors_at(problem, n, lam, ratio, cand, generations)[t_idx, :, t_idx]  # (T, 11)
        centre = cand[t_idx, np.argmin(errs, axis=1)]
        step = (hi - lo).max() / 10.0
    return centre if all_generations else float(centre[-1])
