"""Deterministic equivalent of ridge regression on a real/synthetic mixture (Theorem 1)."""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from simcollapse._validate import check_common, check_range, is_traced
from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms, Status
from simcollapse.theory._common import (
    exact_terms,
    flag_subnormal,
    normal_range,
    raise_if_failed,
    run_x64,
)
from simcollapse.theory._onepass import solve_and_sum
from simcollapse.theory._points import chunk_kernel, run_chunks
from simcollapse.theory.fixed_points import (
    WIDE_BIG,
    WIDE_SHRINK,
    WIDE_SMALL,
    SpectralTable,
    finish,
    map_points,
    on_threshold,
    ridge_kappa_wide,
    ridge_root,
    ridge_wide_sums,
    spectral_table,
    table_size,
    threshold_status,
    zero_safe_product,
)

__all__ = ["isotropic_ridgeless_error", "ridge_error", "ridge_terms"]


def ridge_fast_parts(
    problem: Problem, table: SpectralTable, n: Array, lam: Array
) -> tuple[Array, ...]:
    """Theorem 1's p2-free sums on the fast path, and which points it cannot resolve, shape (C,).

    Returns (g, sw, d3, d1, shrink, wide, status): g = (df_2/n)/(1 - df_2/n), sw = kappa^2
    sum s w^2/(s+k)^2, d3 = sum s^3 Delta/(s+k)^2, d1 = kappa^2 sum s Delta/(s+k)^2,
    shrink = 1 - df_2/n, ``wide`` where float64 cannot resolve the point this way (s + kappa near
    float64's ends, or 1 - df_2/n lost to cancellation: ``ridge_wide_parts`` solves it), and the
    fixed point's status.
    """
    s, w2, dl = problem.eigs, problem.w1_sq, problem.delta_sq
    d = s.shape[-1]
    root = ridge_root(s, n, lam)
    # The final sums: df_1 = sum s u and sum_j a_j u_j^2 for four weights a, u = 1/(s + kappa).
    weights = (s[None], jnp.stack([s * s, s * w2, s * s * s * dl, s * dl]))
    k, steps, done, (f1,), (f2, sw, d3, sd) = solve_and_sum(s, table, root, weights)
    residual = jnp.where(root.done0, 0.0, jnp.abs(root.equation(k, f1)))
    threshold = on_threshold(lam, n, d)
    status = threshold_status(finish(k, steps, done, residual, root.scale).status, threshold)
    shrink = jnp.where(threshold, 0.0, 1.0 - f2 / n)  # 1 - df2/n
    wide = (threshold & ~jnp.isfinite(k * k * sw + d3 + k * k * sd)) | ~threshold & (
        ~jnp.isfinite(k + f2 + sw + d3 + sd)
        | (jnp.max(s) + k > WIDE_BIG)
        | (jnp.min(s) + k < WIDE_SMALL)
        | (shrink < WIDE_SHRINK * jnp.maximum(f2 / n, 1.0))
    )
    # g = (df2/n)/(1 - df2/n), not 1/shrink - 1: the latter cancels once df2/n nears float64's eps.
    return (f2 / n) / shrink, k * k * sw, d3, k * k * sd, shrink, wide, status


def ridge_wide_parts(
    problem: Problem, table: SpectralTable, n: Array, lam: Array
) -> tuple[Array, ...]:
    """(g, sw, d3, d1, shrink) of ``ridge_fast_parts`` at kappa from ``ridge_kappa_wide``.

    Right anywhere in float64's range, at LOG_STEPS passes over the spectrum per point (the table
    is not used: it is there so that both paths share one chunk-kernel signature).
    """
    del table
    s, w2, dl = problem.eigs, problem.w1_sq, problem.delta_sq
    kw = ridge_kappa_wide(s, n, lam)
    f2w, shrink_w, (sw_v, sd_v), (sd_r,) = ridge_wide_sums(
        s, n, lam, kw, jnp.stack([s * w2, s * dl]), (s * dl)[None]
    )
    return f2w / n / shrink_w, sw_v, sd_r, sd_v, shrink_w


def ridge_finish_parts(
    fast: tuple[Any, ...], wide_parts: tuple[Any, ...], wide: Any, status: Any, xp: Any = jnp
) -> tuple[Any, ...]:
    """(g, bias, d3, d1, status) from the fast parts, with the wide path's where ``wide``.

    bias = kappa^2 sum s w^2/(s+k)^2 / (1 - df_2/n); a wide point off the threshold is
    CONVERGED (its kappa is exact by construction). ``xp``: ``jax.numpy`` or ``numpy``.
    """
    g, sw, d3, d1, shrink = (xp.where(wide, a, b) for a, b in zip(wide_parts, fast, strict=True))
    threshold = status == Status.THRESHOLD
    status = xp.where(wide & ~threshold, Status.CONVERGED, status).astype(status.dtype)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        bias = zero_safe_product(sw, 1.0 / shrink, xp)
    return g, bias, d3, d1, status


def ridge_point_parts(
    problem: Problem, table: SpectralTable, n: Array, lam: Array
) -> tuple[Array, ...]:
    """The p2-free parts of Theorem 1 at flat (n, lam) points, shape (C,) each (jittable).

    Returns (g, bias, d3, d1, status): g = (df_2/n)/(1 - df_2/n), the bias, sum s^3 Delta/(s+k)^2,
    kappa^2 sum s Delta/(s+k)^2, and the fixed point's status, all at kappa of each point. A
    chunk with a point the fast path cannot resolve runs the wide path on the whole chunk (under
    jit the points cannot be gathered); concrete calls gather them instead (``ridge_error``).
    """
    *fast, wide, status = ridge_fast_parts(problem, table, n, lam)
    wide_parts = jax.lax.cond(
        jnp.any(wide), lambda: ridge_wide_parts(problem, table, n, lam), lambda: tuple(fast)
    )
    return ridge_finish_parts(tuple(fast), wide_parts, wide, status)


def ridge_combine(problem: Problem, parts: tuple[Any, ...], p2: Any, xp: Any = jnp) -> ErrorTerms:
    """ErrorTerms of Theorem 1 from ``ridge_point_parts`` (any shape A) and p2 (broadcasting).

    ``xp`` is ``jax.numpy`` (traceable) or ``numpy`` (concrete parts, no compilation).
    """
    g, bias, d3, d1, status = parts
    c2 = xp.sum(problem.eigs * problem.delta_sq)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        zeta = p2 * p2 * (d3 + zero_safe_product(d1, g, xp)) + zero_safe_product(
            (1.0 - p2) * p2 * c2, g, xp
        )
        return exact_terms(bias, zero_safe_product(problem.sigma2, g, xp), zeta, status, xp)


def ridge_terms(problem: Problem, n: Array, lam: Array, p2: Array) -> ErrorTerms:
    """Theorem 1 as a pure, jittable function (no validation, no float64 switch).

    ``n`` and ``lam`` must already share a shape A; ``p2`` broadcasts against A. The fixed point
    kappa is solved once per (n, lam) point, and p2 only enters the final combination, so a grid
    with many p2 values costs one fixed point per (n, lam).

    Example:
      >>> import jax, jax.numpy as jnp, numpy as np, simcollapse as sc
      >>> prob = sc.Problem.isotropic(50, c2=1.0)
      >>> with jax.enable_x64(True):
      ...     terms = jax.jit(ridge_terms)(prob, jnp.array([100.0]), jnp.array([1e-2]), 0.1)
      >>> bool(np.isclose(terms.total[0], sc.theory.ridge_error(prob, 100, 1e-2, 0.1).total))
      True
    """
    shape = jnp.shape(n)
    s = problem.eigs
    table = spectral_table(s, table_size(math.prod(shape)))
    flat = (jnp.ravel(n).astype(s.dtype), jnp.ravel(lam).astype(s.dtype))
    parts = map_points(partial(ridge_point_parts, problem, table), s.shape[-1], *flat)
    return ridge_combine(problem, tuple(jnp.reshape(x, shape) for x in parts), p2)


_ridge_parts_jit = chunk_kernel(ridge_fast_parts)
_ridge_wide_jit = chunk_kernel(ridge_wide_parts)


def _ridge_bucketed(problem: Problem, n: np.ndarray, lam: np.ndarray, p2: Any) -> ErrorTerms:
    """``ridge_terms`` on concrete inputs: one compiled chunk kernel per d, parts in NumPy.

    The fast path runs on every point; the points it flags as wide, and only those, are gathered
    and solved again by the wide-path kernel.
    """
    flat = (n.ravel(), lam.ravel())
    *fast, wide, status = run_chunks(_ridge_parts_jit, problem, *flat)
    wide = wide.astype(bool)
    if wide.any():
        at = np.flatnonzero(wide)
        solved = run_chunks(_ridge_wide_jit, problem, *(a[at] for a in flat))
        wide_parts = tuple(a.copy() for a in fast)
        for full, part in zip(wide_parts, solved, strict=True):
            full[at] = part
        parts = ridge_finish_parts(tuple(fast), wide_parts, wide, status, np)
    else:  # the common case: every point resolved on the fast path
        g, sw, d3, d1, shrink = fast
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            parts = (g, zero_safe_product(sw, 1.0 / shrink, np), d3, d1, status)
    parts = tuple(x.reshape(n.shape) for x in parts)
    return ridge_combine(problem, parts, p2, np)


_ridge_terms_jit = jax.jit(ridge_terms)


def ridge_error(problem: Problem, n: Any, lam: Any, p2: Any, *, throw: bool = True) -> ErrorTerms:
    """Test error of ridge regression trained on a real/synthetic mix (Theorem 1 of the paper).

    Estimator w_hat = argmin (1/n) ||X w - y||^2 + lam ||w||^2 on n rows, a fraction p2 of them
    labelled by the shifted teacher w2 = w1 + delta. With kappa the root of
    kappa - lam = kappa df_1(kappa)/n and g = (df_2/n)/(1 - df_2/n) at kappa::

        bias     = kappa^2 sum_j s_j w_j^2/(s_j+kappa)^2 / (1 - df_2/n)
        variance = sigma^2 g
        zeta     = p2^2 [sum_j s_j^3 Delta_j/(s_j+kappa)^2
                         + kappa^2 g sum_j s_j Delta_j/(s_j+kappa)^2]
                   + p1 p2 c^2 g
        total    = bias + variance + zeta

    Assumptions: Gaussian inputs, proportional asymptotics (deterministic equivalent; agrees with
    Monte Carlo to a few percent at d of a few hundred). lam = 0 is the min-norm interpolator
    (the limit lam -> 0+); at the interpolation threshold n = d that limit diverges and the result
    is inf with ``Status.THRESHOLD`` (not a failure: ``throw`` does not raise for it).

    Args:
      problem: the spectrum, teacher, shift and noise.
      n: sample size(s), >= 1 (real-valued allowed: a continuous curve).
      lam: ridge penalty(ies), >= 0.
      p2: synthetic fraction(s), in [0, 1].
      throw: raise FixedPointError if kappa did not converge somewhere; with False the status of
        each point comes back in ``ErrorTerms.status`` instead.

    Returns:
      ErrorTerms of float64 NumPy arrays with the broadcast shape of (n, lam, p2); the fixed point
      is solved once per broadcast (n, lam) point.

    Raises:
      ValueError: n < 1, lam < 0, p2 outside [0, 1], NaN, or shapes that do not broadcast.

    Float64 is switched on for this call only (``jax.enable_x64``), whatever the global setting.

    Example:
      >>> import numpy as np, simcollapse as sc
      >>> prob = sc.Problem.isotropic(100, c2=1.0, sigma2=1.0)
      >>> err = ridge_error(prob, n=np.array([1e3, 1e5]), lam=0.0, p2=0.1)
      >>> err.zeta.round(4).tolist()  # p2^2 c^2 + p1 p2 c^2 phi/(1 - phi) -> p2^2 c^2 = 0.01
      [0.02, 0.0101]
    """
    check_common(problem, n=n, lam=lam, p2=p2)
    n_b, lam_b = np.broadcast_arrays(np.asarray(n, float), np.asarray(lam, float))
    concrete = not any(is_traced(v) for v in (*jax.tree_util.tree_leaves(problem), n, lam, p2))
    if concrete:
        problem, lam_b = normal_range(problem, lam_b)
    args = (problem, n_b, lam_b, np.asarray(p2, float))
    out = run_x64(_ridge_bucketed if concrete else _ridge_terms_jit, *args)
    if concrete:
        out = flag_subnormal(out, problem.eigs, lam_b)
    if throw:
        raise_if_failed(out, "ridge kappa", n=n, lam=lam)
    return out


def isotropic_ridgeless_error(phi: Any, p2: Any, c2: Any, sigma2: Any) -> np.ndarray:
    """Corollary 1 of the paper: isotropic ridgeless regression, phi = d/n < 1, in closed form.

        E_test = sigma^2 phi/(1 - phi) + (p2^2 + p1 p2 phi/(1 - phi)) c^2,   p1 = 1 - p2.

    For small phi this is sigma^2 d/n + p2^2 c^2 + O(phi^2): the floor p2^2 c^2 stays however
    large n grows (strong model collapse).

    Args:
      phi: d/n, in (0, 1).  p2: synthetic fraction in [0, 1].  c2: c^2 >= 0.  sigma2: >= 0.

    Returns:
      Float64 NumPy array with the broadcast shape of the arguments.

    Example:
      >>> isotropic_ridgeless_error([0.01, 0.1], p2=0.1, c2=1.0, sigma2=1.0).round(4).tolist()
      [0.021, 0.1311]
    """
    check_range("phi", phi, 0.0, 1.0, low_open=True, high_open=True)
    check_range("p2", p2, 0.0, 1.0)
    check_range("c2", c2, 0.0)
    check_range("sigma2", sigma2, 0.0)
    phi, p2, c2, sigma2 = (np.asarray(v, dtype=np.float64) for v in (phi, p2, c2, sigma2))
    g = phi / (1.0 - phi)
    return sigma2 * g + (p2**2 + (1.0 - p2) * p2 * g) * c2
