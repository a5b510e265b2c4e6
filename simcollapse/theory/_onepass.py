"""A table-started fixed point and the spectral sums at it in one pass over the spectrum.

``solve_with_table`` followed by the final sums costs two passes over the spectrum per point
(each a d-long loop of divisions u_j = 1/(s_j + x)): one for the Newton step from the table's
start x0, one for the sums at the root. When that step delta is small, the sums at the root
x1 = x0 + delta follow from the pass at x0 by a first-order expansion (u' = -u^2)::

    sum_j a_j u_j(x1)   = sum_j a_j u0_j   - delta sum_j a_j u0_j^2
    sum_j a_j u_j(x1)^2 = sum_j a_j u0_j^2 - 2 delta sum_j a_j u0_j^3,     u0_j = 1/(s_j + x0),

with relative error at most 3 (delta u0_j)^2 <= 3 (delta / x0)^2 for weights a_j >= 0: below
1e-17 when the step is below STEP_RTOL. So the safeguarded Newton
loop here carries the sums: each step is one pass that gives F, F' and the sums, and a point whose
step is below STEP_RTOL takes that step with its sums expanded to it; a point that stops on
another criterion (the bracket, or |F| at the rounding floor) keeps x and the sums at x. From the
table's start nearly every point stops after its first pass. A table too coarse for that (fewer
than ONEPASS_MIN_NODES nodes: small traced grids, very large d) gets the plain loop with its
cheaper steps, then one pass at the roots.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import Array

from simcollapse.theory.fixed_points import (
    FTOL,
    MAX_STEPS,
    RTOL,
    STEP_RTOL,
    Root,
    SpectralTable,
    solve_root,
    table_start,
)

Sums = tuple[Array, Array, Array, Array, Array]
# Tables with fewer nodes start too far from the root for one step below STEP_RTOL (the cubic
# start is off by about h^4/384, h the node spacing in log t): they go to the Newton loop at once.
ONEPASS_MIN_NODES = 2048


def solve_and_sum(
    eigs: Array, table: SpectralTable, root: Root, weights: tuple[Array, Array]
) -> Sums:
    """Root of ``root.equation(t, df_1(t))`` per point and weighted sums of u = 1/(s + t) at it.

    Args:
      eigs: spectrum (d,).  table: its ``spectral_table``.  root: the equation and bracket.
      weights: (w1, w2), arrays (R1, d) and (R2, d) of non-negative weights; w1's first row must
        be ``eigs`` (so that the first sum is df_1 at the root).

    Returns:
      (x, steps, done, s1, s2): the root, Newton steps, convergence flags (C,), and the sums
      s1 = w1 @ u (R1, C) and s2 = w2 @ u^2 (R2, C) at x.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from simcollapse.theory import fixed_points as fp
      >>> with jax.enable_x64(True):  # isotropic d = 100, lam = 0, n = 50: kappa = d/n - 1 = 1
      ...     s = jnp.ones(100)
      ...     root = fp.ridge_root(s, jnp.array([50.0]), jnp.zeros(1))
      ...     table = fp.spectral_table(s, 4096)
      ...     x, _, done, s1, s2 = solve_and_sum(s, table, root, (s[None], s[None]))
      >>> round(float(x[0]), 12), bool(done[0]), round(float(s2[0, 0]), 12)  # df_2 = 100 / 4
      (1.0, True, 25.0)
    """
    if table.t.shape[0] < ONEPASS_MIN_NODES:
        return solve_then_sum(eigs, table, root, weights)
    equation, lo, hi, x0, done0 = root[:5]
    w1, w2 = weights
    rows = w1.shape[0]
    lo_t, hi_t, start = table_start(table, equation, lo, hi, x0, done0, root.positive)

    def body(state: tuple[Array, ...]) -> tuple[Array, ...]:
        x, lo, hi, steps, done, s1, s2 = state
        u = 1.0 / (eigs[:, None] + x[None, :])  # (d, C): one division pass per step
        u2 = u * u
        first = jnp.concatenate([w1, w2]) @ u2  # w1 u^2 (row 0: -d df_1/dt), then w2 u^2
        a1 = w1 @ u
        g, slope = jax.jvp(equation, (x, a1[0]), (jnp.ones_like(x), -first[0]))
        below = g < 0
        lo, hi = jnp.where(below, x, lo), jnp.where(below, hi, x)
        newton = x - g / slope
        inside = jnp.isfinite(newton) & (newton >= lo) & (newton <= hi)
        small = inside & (jnp.abs(newton - x) <= STEP_RTOL * jnp.abs(newton)) & ~done0
        converged = small | done0 | (jnp.abs(g) <= FTOL * root.scale(x)) | (hi - lo <= RTOL * hi)
        delta = jnp.where(small, newton - x, 0.0)  # the last step: applied only when small
        mid = jnp.where(lo > 0, jnp.sqrt(lo * hi), 0.5 * (lo + hi))
        x_next = jnp.where(converged, x + delta, jnp.where(inside, newton, mid))
        new_s1 = a1 - delta * first[:rows]
        new_s2 = first[rows:] - 2.0 * delta * (w2 @ (u2 * u))
        active = ~done
        return (
            jnp.where(active, x_next, x),
            lo,
            hi,
            steps + (active & ~done0).astype(steps.dtype),
            done | converged,
            jnp.where(active, new_s1, s1),
            jnp.where(active, new_s2, s2),
        )

    def cond(state: tuple[Array, ...]) -> Array:
        return jnp.any(~state[4]) & (jnp.max(state[3]) < MAX_STEPS)

    size = start.shape[0]
    zeros = (jnp.zeros((rows, size), start.dtype), jnp.zeros((w2.shape[0], size), start.dtype))
    steps0 = jnp.zeros(start.shape, jnp.int32)
    state = (start, lo_t, hi_t, steps0, jnp.zeros_like(done0), *zeros)
    x, _, _, steps, done, s1, s2 = jax.lax.while_loop(cond, body, state)
    return x, steps, done, s1, s2


def sums_at(eigs: Array, x: Array, steps: Array, done: Array, weights: tuple[Array, Array]) -> Sums:
    """(x, steps, done, w1 @ u, w2 @ u^2) with u = 1/(s + x): one exact pass at x."""
    u = 1.0 / (eigs[:, None] + x[None, :])
    return x, steps, done, weights[0] @ u, weights[1] @ (u * u)


def solve_then_sum(
    eigs: Array, table: SpectralTable, root: Root, weights: tuple[Array, Array]
) -> Sums:
    """``solve_and_sum`` the long way: the safeguarded Newton loop, then a pass at the roots."""
    return sums_at(eigs, *solve_root(eigs, table, root), weights)
