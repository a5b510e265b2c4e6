"""A table-started fixed point and the spectral sums at it in one pass over the spectrum.

``solve_with_table`` followed by the final sums costs two passes over the spectrum per point
(each a d-long loop of divisions u_j = 1/(s_j + x)): one for the Newton step from the table's
start x0, one for the sums at the root. When that step delta is small, the sums at the root
x1 = x0 + delta follow from the pass at x0 by a first-order expansion (u' = -u^2)::

    sum_j a_j u_j(x1)   = sum_j a_j u0_j   - delta sum_j a_j u0_j^2
    sum_j a_j u_j(x1)^2 = sum_j a_j u0_j^2 - 2 delta sum_j a_j u0_j^3,     u0_j = 1/(s_j + x0),

with relative error at most 3 (delta u0_j)^2 <= 3 (delta / x0)^2 for weights a_j >= 0: below
1e-17 when the step is below STEP_RTOL (docs/theory.md, "Fixed points"). A chunk in which some
point's step is larger (a start outside the table, a closed-form bracket end) runs the full
safeguarded Newton loop and an exact pass at its roots instead, so every point's result is the
root to rounding either way; so does every chunk when the table is too coarse for one step
(fewer than ONEPASS_MIN_NODES nodes: small traced grids, very large d).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import Array

from simcollapse.theory.fixed_points import (
    STEP_RTOL,
    Root,
    SpectralTable,
    newton_from,
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
    lo_t, hi_t, x0t = table_start(table, equation, lo, hi, x0, done0, root.positive)
    u = 1.0 / (eigs[:, None] + x0t[None, :])  # (d, C): the one division pass
    u2 = u * u
    s1 = w1 @ u
    first = jnp.concatenate([w1, w2]) @ u2  # rows: -d df_1/dt, w1 u^2, w2 u^2
    s2 = first[w1.shape[0] :]
    g, slope = jax.jvp(equation, (x0t, s1[0]), (jnp.ones_like(x0t), -first[0]))
    x1 = x0t - g / slope
    inside = jnp.isfinite(x1) & (x1 >= lo_t) & (x1 <= hi_t)
    accept = done0 | (inside & (jnp.abs(x1 - x0t) <= STEP_RTOL * jnp.abs(x1)))

    def expanded() -> Sums:
        delta = jnp.where(done0, 0.0, x1 - x0t)
        third = w2 @ (u2 * u)
        return (
            x0t + delta,
            jnp.where(done0, 0, 1).astype(jnp.int32),
            jnp.ones_like(done0),
            s1 - delta * first[: w1.shape[0]],
            s2 - 2.0 * delta * third,
        )

    def long_way() -> Sums:  # the Newton loop from the same start, then a pass at the roots
        x, steps, done = newton_from(eigs, equation, (lo_t, hi_t), x0t, done0, root.scale)
        return sums_at(eigs, x, steps, done | done0, weights)

    return jax.lax.cond(jnp.all(accept), expanded, long_way)


def sums_at(eigs: Array, x: Array, steps: Array, done: Array, weights: tuple[Array, Array]) -> Sums:
    """(x, steps, done, w1 @ u, w2 @ u^2) with u = 1/(s + x): one exact pass at x."""
    u = 1.0 / (eigs[:, None] + x[None, :])
    return x, steps, done, weights[0] @ u, weights[1] @ (u * u)


def solve_then_sum(
    eigs: Array, table: SpectralTable, root: Root, weights: tuple[Array, Array]
) -> Sums:
    """``solve_and_sum`` the long way: the safeguarded Newton loop, then a pass at the roots."""
    return sums_at(eigs, *solve_root(eigs, table, root), weights)
