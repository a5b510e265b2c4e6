"""Safeguarded Newton for monotone scalar roots in float64 under jit, with per-point status.

The fixed points of the deterministic equivalents (docs/theory.md, "Fixed points") are monotone
roots of df_1 equations. ``solve_monotone`` runs Newton from a start inside a bracket that
provably holds the root; a step that leaves the bracket or is not finite becomes a bisection step
(geometric midpoint once the lower end is positive). Each point reports its value, a ``Status``
code, the steps taken and the residual, so a failed point is flagged, never silently a number.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax import Array

from simcollapse.results import FixedPoint, Status

MAX_STEPS = 100
# A Newton step below STEP_RTOL (relative) has converged: both equations have
# K = x |F''| / (2 |F'|) <= 1 on their branch, so the iterate after such a step is off by at most
# K * STEP_RTOL^2 ~ 1e-18 relative, below rounding (the step is still applied).
STEP_RTOL = 1e-9
RTOL = 1e-13  # bracket width (relative) at which bisection has converged
FTOL = 1e-14  # |fn| below this times the size of fn's terms: at the rounding floor
RESIDUAL_CHECK = 1e-9  # a stopped point whose residual exceeds this (relative) is flagged

Equation = Callable[[Array, Array], Array]


def df1(eigs: Array, t: Array) -> Array:
    """df_1(t) = sum_j s_j / (s_j + t), for t of shape (P,) -> (P,).

    Example:
      >>> import jax.numpy as jnp
      >>> df1(jnp.ones(4), jnp.array([1.0, 3.0])).tolist()  # 4 / (1 + t)
      [2.0, 1.0]
    """
    return jnp.sum(eigs / (eigs + t[..., None]), axis=-1)


def df2(eigs: Array, t: Array) -> Array:
    """df_2(t) = sum_j (s_j / (s_j + t))^2, for t of shape (P,) -> (P,).

    Example:
      >>> import jax.numpy as jnp
      >>> df2(jnp.ones(4), jnp.array([1.0, 3.0])).tolist()  # 4 / (1 + t)^2
      [1.0, 0.25]
    """
    r = eigs / (eigs + t[..., None])
    return jnp.sum(r * r, axis=-1)


def df1_and_slope(eigs: Array, t: Array) -> tuple[Array, Array]:
    """(df_1(t), d df_1/dt = -sum_j s_j/(s_j + t)^2) in one pass over the spectrum, t (P,).

    The temporaries are laid out (d, P), eigenvalue axis first, and both sums are products with
    the vector s: XLA on CPU runs these as two fast matrix-vector products over one loop of
    divisions (measured 1.7x faster than two fused sums, 3x faster than ``jax.jvp`` of ``df1``).
    """
    u = 1.0 / (eigs[:, None] + t[None, :])
    return eigs @ u, -(eigs @ (u * u))


def newton_status(x: Array, done: Array, residual: Array, scale: Array) -> Array:
    return jnp.where(
        ~jnp.isfinite(x) | ~jnp.isfinite(residual),
        Status.NONFINITE,
        jnp.where(
            ~done,
            Status.MAX_STEPS,
            jnp.where(residual > RESIDUAL_CHECK * scale, Status.RESIDUAL, Status.CONVERGED),
        ),
    ).astype(jnp.int32)


def newton_solve(
    value_and_slope: Callable[[Array], tuple[Array, Array]],
    lo: Array,
    hi: Array,
    x0: Array,
    done0: Array,
    scale: Callable[[Array], Array],
    rtol: float,
    ftol: float,
    max_steps: int,
    step_rtol: float = STEP_RTOL,
) -> tuple[Array, Array, Array]:
    """The safeguarded Newton loop of ``solve_monotone``; returns (x, steps, done)."""

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
        step_small = inside & (jnp.abs(newton - x) <= step_rtol * jnp.abs(newton))
        converged = (jnp.abs(g) <= ftol * scale(x)) | step_small | (hi - lo <= rtol * hi)
        # On convergence keep x, or x plus its Newton step when that stays in the bracket; never
        # a bisection step away from a point that already solves fn to rounding.
        x_next = jnp.where(converged, jnp.where(inside, newton, x), jnp.where(inside, newton, mid))
        x = jnp.where(done, x, x_next)
        steps = steps + (~done).astype(steps.dtype)
        return x, lo, hi, steps, done | converged

    steps0 = jnp.zeros(x0.shape, jnp.int32)
    x, _, _, steps, done = jax.lax.while_loop(cond, body, (x0, lo, hi, steps0, done0))
    return x, steps, done


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
    step_rtol: float = STEP_RTOL,
) -> FixedPoint:
    """Root of an increasing-through-zero function on a bracket, for many points at once.

    ``fn`` maps x of shape (P,) to (P,) elementwise, with fn(lo) <= 0 <= fn(hi) and a single sign
    change in between. Points with ``done0`` set are returned unchanged at ``x0`` (a closed-form
    limit the caller already knows). A point has converged when its Newton step is below
    ``step_rtol`` relative (Newton is quadratic: the iterate after it is exact to rounding), when
    the bracket is below ``rtol`` relative, or when |fn(x)| <= ftol * scale(x) (the rounding floor
    of fn, where ``scale`` bounds the size of fn's terms); the last Newton step is applied.

    Returns:
      FixedPoint(value, status, steps, residual) with arrays of shape (P,).

    Example:
      >>> import jax, jax.numpy as jnp
      >>> with jax.enable_x64(True):  # x^2 = 2 on [0, 2]
      ...     lo, hi, x0, done0 = jnp.zeros(1), jnp.full(1, 2.0), jnp.ones(1), jnp.zeros(1, bool)
      ...     fp = solve_monotone(lambda x: x * x - 2.0, lo, hi, x0, done0, lambda x: x * x + 2.0)
      >>> round(float(fp.value[0]), 12), fp.status.tolist()
      (1.414213562373, [0])
    """

    def value_and_slope(x: Array) -> tuple[Array, Array]:
        return jax.jvp(fn, (x,), (jnp.ones_like(x),))

    x, steps, done = newton_solve(
        value_and_slope, lo, hi, x0, done0, scale, rtol, ftol, max_steps, step_rtol
    )
    residual = jnp.where(done0, 0.0, jnp.abs(fn(x)))
    return FixedPoint(x, newton_status(x, done, residual, scale(x)), steps, residual)
