"""The one-dimensional fixed points of the deterministic equivalents, solved in float64 under jit.

Both are monotone roots (THEORY.md, "Numerics that matter"). Each is solved by a bracketed,
safeguarded Newton iteration inside ``lax.while_loop``: Newton from the right end of a bracket that
provably holds the root; a step that leaves the bracket or is not finite becomes a bisection step
(geometric midpoint once the lower end is positive). The iteration reports, per point, the value,
a ``Status`` code, the steps taken and the residual, so a point that failed is flagged, never
silently returned as a number.

All functions here take the spectrum ``eigs`` (d,) and flat point arrays of shape (P,); they are
pure and jittable, and the public wrappers in ``simcollapse.theory`` broadcast, validate and enable
float64.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax import Array

from simcollapse.results import FixedPoint, Status

MAX_STEPS = 100
RTOL = 1e-13  # step size at which Newton has converged (the step is still applied)
FTOL = 1e-14  # |fn| below this times the size of fn's terms: at the rounding floor
RESIDUAL_CHECK = 1e-9  # a stopped point whose residual exceeds this (relative) is flagged
# Points per chunk: the grid is swept in chunks of about CHUNK_ELEMS (point, eigenvalue) pairs so
# that each chunk's (points x d) temporaries stay in cache (measured: 15x faster than one
# reduction over 10^5 x 1000 elements on a 2-core CPU).
CHUNK_ELEMS = 1 << 18


def df1(eigs: Array, t: Array) -> Array:
    """df_1(t) = sum_j s_j / (s_j + t), for t of shape (P,) -> (P,)."""
    return jnp.sum(eigs / (eigs + t[..., None]), axis=-1)


def df2(eigs: Array, t: Array) -> Array:
    """df_2(t) = sum_j (s_j / (s_j + t))^2, for t of shape (P,) -> (P,)."""
    r = eigs / (eigs + t[..., None])
    return jnp.sum(r * r, axis=-1)


def solve_monotone(
    fn: Callable[[Array], Array],
    lo: Array,
    hi: Array,
    x0: Array,
    done0: Array,
    scale: Callable[[Array], Array],
    *,
    rtol: float = RTOL,
    ftol: float = FTOL,
    max_steps: int = MAX_STEPS,
) -> FixedPoint:
    """Root of an increasing-through-zero function on a bracket, for many points at once.

    ``fn`` maps x of shape (P,) to (P,) elementwise, with fn(lo) <= 0 <= fn(hi) and a single sign
    change in between. Points with ``done0`` set are returned unchanged at ``x0`` (a closed-form
    limit the caller already knows). A point has converged when its Newton step is below
    ``rtol`` relative, or when |fn(x)| <= ftol * scale(x) (the rounding floor of fn, where
    ``scale`` bounds the size of fn's terms); the last Newton step is applied either way.

    Returns:
      FixedPoint(value, status, steps, residual) with arrays of shape (P,).
    """

    def value_and_slope(x: Array) -> tuple[Array, Array]:
        return jax.jvp(fn, (x,), (jnp.ones_like(x),))

    def cond(state: tuple[Array, ...]) -> Array:
        _, _, _, steps, done = state
        return jnp.any(~done) & (jnp.max(steps) < max_steps)

    def body(state: tuple[Array, ...]) -> tuple[Array, ...]:
        x, lo, hi, steps, done = state
        g, slope = value_and_slope(x)
        below = g < 0
        lo = jnp.where(below, x, lo)
        hi = jnp.where(below, hi, x)
        newton = x - g / slope
        inside = jnp.isfinite(newton) & (newton >= lo) & (newton <= hi)
        mid = jnp.where(lo > 0, jnp.sqrt(lo * hi), 0.5 * (lo + hi))
        step_small = inside & (jnp.abs(newton - x) <= rtol * jnp.abs(newton))
        converged = (jnp.abs(g) <= ftol * scale(x)) | step_small | (hi - lo <= rtol * hi)
        # On convergence keep x, or x plus its Newton step when that stays in the bracket; never
        # a bisection step away from a point that already solves fn to rounding.
        x_next = jnp.where(converged, jnp.where(inside, newton, x), jnp.where(inside, newton, mid))
        x = jnp.where(done, x, x_next)
        steps = steps + (~done).astype(steps.dtype)
        return x, lo, hi, steps, done | converged

    steps0 = jnp.zeros(x0.shape, jnp.int32)
    x, _, _, steps, done = jax.lax.while_loop(cond, body, (x0, lo, hi, steps0, done0))
    residual = jnp.where(done0, 0.0, jnp.abs(fn(x)))
    status = jnp.where(
        ~jnp.isfinite(x) | ~jnp.isfinite(residual),
        Status.NONFINITE,
        jnp.where(
            ~done,
            Status.MAX_STEPS,
            jnp.where(residual > RESIDUAL_CHECK * scale(x), Status.RESIDUAL, Status.CONVERGED),
        ),
    ).astype(jnp.int32)
    return FixedPoint(x, status, steps, residual)


def ridge_kappa(eigs: Array, n: Array, lam: Array) -> FixedPoint:
    """Effective regularisation kappa of ridge regression (THEORY.md, Theorem 1).

    Solves  kappa - lam = kappa df_1(kappa) / n  for kappa >= lam, written as
    F(k) = k (1 - df_1(k)/n) - lam = 0. F is convex (F'' = (2/n) sum s^2/(s+k)^3 > 0), negative on
    (0, kappa) and F(lam + tr(Sigma)/n) >= 0, so Newton from that right end converges
    monotonically. Ridgeless limits: lam = 0, n >= d gives kappa = 0; lam = 0, n < d gives the root
    of df_1(kappa) = n.

    Args:
      eigs: spectrum (d,). n, lam: shape (P,), float.
    """
    d = eigs.shape[-1]

    def fn(k: Array) -> Array:
        return k * (1.0 - df1(eigs, k) / n) - lam

    hi = lam + jnp.sum(eigs) / n
    ridgeless_full_rank = (lam == 0) & (n >= d)
    x0 = jnp.where(ridgeless_full_rank, 0.0, hi)
    return solve_monotone(
        fn, jnp.zeros_like(hi), hi, x0, ridgeless_full_rank, lambda k: 2.0 * k + lam
    )


def rp_theta(eigs: Array, n: Array, m: Array, lam: Array) -> FixedPoint:
    """Renormalised ridge theta of random projections (THEORY.md, Theorem 2).

    Solves  theta (1 - df_1(theta)/m) (1 - df_1(theta)/n) = lam d / m  on the branch
    df_1(theta) < min(m, n), where the left side increases from 0 at theta_0 (df_1(theta_0) =
    min(m, n), or theta_0 = 0 when min(m, n) >= d). The bracket is [theta_0, max(4 lam d/m,
    2 tr(Sigma)/min(m, n))]: there both factors exceed 1/2. lam = 0 gives theta = theta_0.

    Args:
      eigs: spectrum (d,). n, m, lam: shape (P,), float.
    """
    d = eigs.shape[-1]
    q = jnp.minimum(m, n)
    trace = jnp.sum(eigs)

    # theta_0: df_1(theta_0) = q, i.e. q - df_1 (increasing, concave) crosses zero.
    full = q >= d
    theta0 = solve_monotone(
        lambda t: q - df1(eigs, t),
        jnp.zeros_like(q),
        trace / q,
        jnp.zeros_like(q),
        full,
        lambda t: 2.0 * q,
    )
    lo = theta0.value
    target = lam * d / m

    def fn(t: Array) -> Array:
        f1 = df1(eigs, t)
        return t * (1.0 - f1 / m) * (1.0 - f1 / n) - target

    hi = lo + jnp.maximum(4.0 * target, 2.0 * trace / q)
    ridgeless = lam == 0
    sol = solve_monotone(
        fn, lo, hi, jnp.where(ridgeless, lo, hi), ridgeless, lambda t: 2.0 * t + target
    )
    return FixedPoint(
        sol.value,
        jnp.maximum(sol.status, theta0.status),
        sol.steps + theta0.steps,
        jnp.maximum(sol.residual, jnp.where(full, 0.0, theta0.residual)),
    )


def zero_safe_product(a: Array, b: Array) -> Array:
    """a * b with 0 * inf = 0: a term that vanishes stays 0 at the interpolation threshold."""
    return jnp.where(a == 0, 0.0, a * b)


def map_points(fn: Callable[..., tuple[Array, ...]], d: int, *arrays: Array) -> tuple[Array, ...]:
    """Apply ``fn`` (flat (C,) arrays in, tuple of (C,) arrays out) over all points in chunks.

    The points are padded (with the last point) to a whole number of chunks of about
    CHUNK_ELEMS / d points and swept with ``lax.map``, so the (points x d) temporaries of the
    spectral sums never leave cache; a point's result does not depend on the chunking.
    """
    size = arrays[0].shape[0]
    chunk = int(max(1, min(size, CHUNK_ELEMS // max(d, 1))))
    pad = (-size) % chunk
    padded = [jnp.concatenate([a, jnp.repeat(a[-1:], pad)]) if pad else a for a in arrays]
    out = jax.lax.map(lambda xs: fn(*xs), tuple(a.reshape(-1, chunk) for a in padded))
    return tuple(o.reshape(-1)[:size] for o in out)
