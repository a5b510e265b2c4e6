"""Deterministic equivalent of random-projection models on a real/synthetic mixture (Theorem 2)."""

from __future__ import annotations

import math
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from simcollapse._validate import check_common, is_traced
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
    SpectralTable,
    finish,
    map_points,
    on_threshold,
    rp_theta0_root,
    rp_theta_root,
    spectral_table,
    table_size,
    theta0_point,
    threshold_status,
    zero_safe_product,
)

__all__ = ["rp_error", "rp_terms"]

RP_REACH = 1e-10


def rp_point_parts(
    problem: Problem, table: SpectralTable, n: Array, m: Array, lam: Array
) -> tuple[Array, ...]:
    """The p2-free parts of Theorem 2 at flat (n, m, lam) points, shape (C,) each.

    Returns (amp, bias, resp, status): amp = gam/(1 - gam), the bias, the response term
    c^2 - 2 theta sum s Delta/(s+theta) + Epop(Delta)/(1 - gam), and theta's status.
    """
    s, w2, dl = problem.eigs, problem.w1_sq, problem.delta_sq
    d = s.shape[-1]
    c2 = jnp.sum(s * dl)
    # The final sums in u = 1/(s + theta): r = s u, q = theta u (non-negative weights).
    w_u = jnp.stack([s, s * dl])
    w_u2 = jnp.stack([s * s, s * w2, s * s * w2, s * dl, s * s * dl, s * s * s * dl])
    # lam -> 0+ at m = n = d: theta -> 0 and 1 - gam ~ 3 theta sum(1/s)/(2d), so Epop(v)/(1 - gam)
    # -> d sum(v) / (3 sum(1/s)) (finite; it is the whole error when sigma^2 = 0, p2 in {0, 1}).
    square_w, square_d = d * jnp.stack([jnp.sum(w2), jnp.sum(dl)]) / (3.0 * jnp.sum(1.0 / s))
    root0 = rp_theta0_root(s, n, m)
    no_sums = jnp.zeros((0, d), s.dtype)
    t0, steps0, done0, (f1_0,), _ = solve_and_sum(s, table, root0, (s[None], no_sums))
    theta0 = theta0_point(root0, t0, steps0, done0, f1_0)
    root = rp_theta_root(s, n, m, lam, t0)
    t, steps, done, (f1, sdu), (f2, sw_u2, ssw_u2, sd_u2, ssd_u2, sssd_u2) = solve_and_sum(
        s, table, root, (w_u, w_u2)
    )
    residual = jnp.where(lam == 0, 0.0, jnp.abs(root.equation(t, f1)))
    status = finish(t, steps + steps0, done, residual, root.scale).status
    status = jnp.maximum(status, theta0.status)
    # Ridgeless with m >= d and n > d gives theta = 0: the features span the inputs (OLS),
    # df2C -> d and Epop -> 0; written out, since at m = d both are 0/0 there.
    ols = t == 0
    df2c = (f2 + (f1 * f1 - 2.0 * f1 * f2) / m) / (1.0 - f2 / m)  # feature-space df_2
    gam = jnp.where(ols, f2, df2c) / n
    ratio = jnp.where(ols, 0.0, (f1 - f2) / (m - f2))
    threshold = on_threshold(lam, n, jnp.minimum(m, d))  # n = min(m, d): inf
    status = threshold_status(status, threshold)
    # lam > 0 next to a threshold with m, n >= d: theta << the spectrum and both factors
    # 1 - df_1/m, 1 - df_1/n cancel; once their product is below REACH the error terms carry
    # more than 1e-6 relative rounding (eps / product; measured against a 350-digit reference).
    cancel = (1.0 - f1 / m) * (1.0 - f1 / n)
    lost = (lam > 0) & (jnp.minimum(m, n) >= d) & (cancel < RP_REACH)
    status = jnp.where(lost, Status.OUT_OF_REACH, status).astype(status.dtype)
    inv = jnp.where(threshold, jnp.inf, 1.0 / (1.0 - gam))

    def epop(sv_u2: Array, ssv_u2: Array) -> Array:
        # theta^2 sum s v2/(s+theta)^2 + theta sum s^2 v2/(s+theta)^2 (df1 - df2)/(m - df2)
        return t * t * sv_u2 + t * ssv_u2 * ratio

    square = threshold & (m == d)
    amp = jnp.where(threshold, jnp.inf, gam * inv)
    bias = jnp.where(square, square_w, zero_safe_product(epop(sw_u2, ssw_u2), inv))
    # resp = c^2 - 2 theta sum s Delta/(s+theta) + Epop(Delta)/(1 - gam), summed without
    # cancellation as sum s^3 Delta u^2 + theta^2 sum s Delta u^2 gam/(1 - gam)
    # + theta sum s^2 Delta u^2 ratio/(1 - gam) (every term >= 0; c^2 - 2 theta sum s Delta u
    # + theta^2 sum s Delta u^2 = sum s^3 Delta u^2).
    resp = (
        sssd_u2 + zero_safe_product(t * t * sd_u2, amp) + zero_safe_product(t * ssd_u2 * ratio, inv)
    )
    resp = jnp.where(square, c2 - 2.0 * t * sdu + square_d, resp)
    # lam -> inf: theta >= lam d/m, so once s_max < 1e-17 lam d/m every correction to the null
    # model (predict 0: bias = sum s w^2, no variance, no synthetic term) is below float64's
    # rounding, while the sums above underflow. The limit is returned, converged.
    null = (lam > 0) & (jnp.max(s) < 1e-17 * (lam * (d / m)))
    status = jnp.where(null, Status.CONVERGED, status).astype(status.dtype)
    amp = jnp.where(null, 0.0, amp)
    bias = jnp.where(null, jnp.sum(s * w2), bias)
    resp = jnp.where(null, 0.0, resp)
    return amp, bias, resp, status


def rp_combine(problem: Problem, parts: tuple[Any, ...], p2: Any, xp: Any = jnp) -> ErrorTerms:
    """ErrorTerms of Theorem 2 from ``rp_point_parts`` (any shape A) and p2 (broadcasting).

    ``xp`` is ``jax.numpy`` (traceable) or ``numpy`` (concrete parts, no compilation).
    """
    amp, bias, resp, status = parts
    c2 = xp.sum(problem.eigs * problem.delta_sq)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        zeta = zero_safe_product((1.0 - p2) * p2 * c2, amp, xp) + zero_safe_product(
            p2 * p2, resp, xp
        )
        return exact_terms(bias, zero_safe_product(problem.sigma2, amp, xp), zeta, status, xp)


def rp_terms(problem: Problem, n: Array, m: Array, lam: Array, p2: Array) -> ErrorTerms:
    """Theorem 2 as a pure, jittable function (no validation, no float64 switch).

    ``n``, ``m`` and ``lam`` must share a shape A; ``p2`` broadcasts against A. theta is solved
    once per (n, m, lam) point.

    Example:
      >>> import jax, jax.numpy as jnp, numpy as np, simcollapse as sc
      >>> prob = sc.Problem.isotropic(50, c2=1.0, sigma2=1.0)
      >>> n, m, lam = jnp.array([200.0]), jnp.array([30.0]), jnp.array([1e-3])
      >>> with jax.enable_x64(True):
      ...     terms = jax.jit(rp_terms)(prob, n, m, lam, 0.1)
      >>> bool(np.isclose(terms.total[0], rp_error(prob, 200, 30, 1e-3, 0.1).total))
      True
    """
    shape = jnp.shape(n)
    s = problem.eigs
    table = spectral_table(s, table_size(math.prod(shape)))
    flat = (jnp.ravel(x).astype(s.dtype) for x in (n, m, lam))
    parts = map_points(partial(rp_point_parts, problem, table), s.shape[-1], *flat)
    return rp_combine(problem, tuple(jnp.reshape(x, shape) for x in parts), p2)


_rp_parts_jit = chunk_kernel(rp_point_parts)


def _rp_bucketed(
    problem: Problem, n: np.ndarray, m: np.ndarray, lam: np.ndarray, p2: Any
) -> ErrorTerms:
    """``rp_terms`` on concrete inputs: one compiled chunk kernel per d, parts in NumPy."""
    parts = run_chunks(_rp_parts_jit, problem, n.ravel(), m.ravel(), lam.ravel())
    return rp_combine(problem, tuple(x.reshape(n.shape) for x in parts), p2, np)


_rp_terms_jit = jax.jit(rp_terms)


def rp_error(
    problem: Problem, n: Any, m: Any, lam: Any, p2: Any, *, throw: bool = True
) -> ErrorTerms:
    """Test error of a random-projection model of width m on a real/synthetic mix (Theorem 2).

    Model f(x) = v' S x with S (m x d) of i.i.d. N(0, 1/d) entries, v fitted by ridge on the
    features z = S x: v_hat = argmin (1/n) ||Z v - y||^2 + lam ||v||^2. theta solves
    theta (1 - df_1/m)(1 - df_1/n) = lam d/m on the branch df_1 < min(m, n); then with
    df2C = (df_2 + (df_1^2 - 2 df_1 df_2)/m)/(1 - df_2/m), gam = df2C/n and
    Epop(v2) = theta^2 sum s v2/(s+theta)^2 + theta sum s^2 v2/(s+theta)^2 (df_1-df_2)/(m-df_2)::

        bias     = Epop(w1^2) / (1 - gam)
        variance = sigma^2 gam / (1 - gam)
        zeta     = p1 p2 c^2 gam/(1 - gam)
                   + p2^2 [c^2 - 2 theta sum s Delta/(s+theta) + Epop(Delta)/(1 - gam)]

    so total = clean(w1; sigma^2 + p1 p2 c^2) + p2^2 resp (docs/theory.md). With lam -> 0 the
    clean curve peaks at the interpolation threshold m = n; m -> infinity gives ridge with
    penalty lam d/m.

    lam = 0 returns the limit lam -> 0+: inf with ``Status.THRESHOLD`` on the interpolation
    threshold n = min(m, d) (where that limit diverges); OLS (ridge at kappa = 0) for m >= d and
    n > d, m = d included; theta solving df_1(theta) = min(m, n) otherwise.

    Args:
      problem: the spectrum, teacher, shift and noise.
      n: sample size(s) >= 1.  m: width(s) >= 1.  lam: penalty(ies) >= 0.
      p2: synthetic fraction(s) in [0, 1].
      throw: raise FixedPointError if theta did not converge somewhere (else flagged in status);
        a point on a threshold is not a failure (inf, ``Status.THRESHOLD``).

    Returns:
      ErrorTerms of float64 NumPy arrays with the broadcast shape of (n, m, lam, p2).

    Raises:
      ValueError: n or m < 1, lam < 0, p2 outside [0, 1], NaN, shapes that do not broadcast.

    Example:
      >>> import numpy as np, simcollapse as sc
      >>> prob = sc.Problem.isotropic(100, c2=1.0, sigma2=1.0)
      >>> float(rp_error(prob, n=50, m=50, lam=0.0, p2=0.0, throw=False).total)  # m = n
      inf
      >>> wide = rp_error(prob, n=200, m=1e6, lam=100.0, p2=0.1)  # ridge at penalty lam d/m
      >>> ridge = sc.theory.ridge_error(prob, n=200, lam=1e-2, p2=0.1)
      >>> bool(np.isclose(wide.total, ridge.total, rtol=1e-3))
      True
    """
    check_common(problem, n=n, m=m, lam=lam, p2=p2)
    n_b, m_b, lam_b = np.broadcast_arrays(
        np.asarray(n, float), np.asarray(m, float), np.asarray(lam, float)
    )
    concrete = not any(is_traced(v) for v in (*jax.tree_util.tree_leaves(problem), n, m, lam, p2))
    if concrete:
        problem, lam_b = normal_range(problem, lam_b)
    args = (problem, n_b, m_b, lam_b, np.asarray(p2, float))
    out = run_x64(_rp_bucketed if concrete else _rp_terms_jit, *args)
    if concrete:
        out = flag_subnormal(out, problem.eigs, lam_b)
    if throw:
        raise_if_failed(out, "random-projection theta", n=n, m=m, lam=lam)
    return out
