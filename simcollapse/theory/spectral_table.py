"""A table of df_1 over the spectrum: every point's initial guess, built once per spectrum.

``spectral_table`` tabulates df_1 at nodes equally spaced in log t; ``table_start`` reads each
point's bracket and Newton start off it (a few Newton steps on the interpolated equation), and
``solve_with_table`` / ``newton_from`` finish each point with the safeguarded Newton of
``simcollapse.theory.newton`` on the exact equation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import Array

from simcollapse.theory.newton import (
    FTOL,
    MAX_STEPS,
    RTOL,
    Equation,
    df1_and_slope,
    newton_solve,
)

# Shared table of df_1 for the initial guesses: nodes equally spaced in log t over
# [min(eigs) e^-TABLE_MARGIN, max(eigs) e^TABLE_MARGIN]; TABLE_MIN..TABLE_MAX nodes (more for more
# points, so that the table never costs more than the points it serves).
TABLE_MARGIN = 18.0  # about 8 decades either side of the spectrum
TABLE_MIN = 64
TABLE_MAX = 4096
MODEL_STEPS = 3  # Newton steps on the interpolated (cheap) equation inside a table cell


class SpectralTable(NamedTuple):
    """df_1 at nodes equally spaced in log t: the shared source of every point's initial guess.

    Attributes:
      log_t: (T,) node positions log t_i.  t: (T,) exp(log_t).
      f1: df_1(t_i).  slope: d df_1 / d log t at t_i, = -(df_1 - df_2)(t_i).
    """

    log_t: Array
    t: Array
    f1: Array
    slope: Array


def table_size(points: int) -> int:
    """Nodes of the table for a call with ``points`` points (a power of two, static)."""
    return int(min(TABLE_MAX, max(TABLE_MIN, 1 << max(0, int(points - 1).bit_length()))))


def spectral_table(eigs: Array, size: int, block: int | None = None) -> SpectralTable:
    """df_1 and its log-slope at ``size`` nodes over the spectrum widened by TABLE_MARGIN.

    Costs size x d once; every point then finds its bracket by binary search in the table and its
    initial guess by cubic Hermite interpolation of df_1 in log t (error about h^4/384 relative
    for node spacing h), so that one or two exact Newton steps finish it. With ``block`` (a
    divisor of ``size``) the nodes are evaluated ``block`` at a time, so that the (d x block)
    temporaries stay in cache; the numbers are the same.
    """
    log_lo = jnp.log(jnp.min(eigs)) - TABLE_MARGIN
    log_hi = jnp.log(jnp.max(eigs)) + TABLE_MARGIN
    log_t = jnp.linspace(log_lo, log_hi, size)
    t = jnp.exp(log_t)

    def nodes(t: Array) -> tuple[Array, Array]:
        u = 1.0 / (eigs[:, None] + t[None, :])
        f1 = eigs @ u
        return f1, (eigs * eigs) @ (u * u) - f1

    if block is None or block >= size:
        f1, slope = nodes(t)
    else:
        f1, slope = jax.lax.map(nodes, t.reshape(-1, block))
    return SpectralTable(log_t, t, f1.reshape(-1), slope.reshape(-1))


def _first_positive(table: SpectralTable, positive: Callable[[Array, Array], Array]) -> Array:
    """Per point, the first node index i with positive(t_i, f1_i) (T when there is none).

    ``positive`` must be false then true along the nodes (a sign-monotone predicate); binary
    search with one gather per step.
    """
    size = table.t.shape[0]
    shape = jnp.shape(positive(table.t[:1], table.f1[:1]))
    lo = jnp.full(shape, -1, jnp.int32)  # positive is false at lo (or lo = -1)
    hi = jnp.full(shape, size, jnp.int32)  # positive is true at hi (or hi = T)

    def halve(_: int, bounds: tuple[Array, Array]) -> tuple[Array, Array]:
        lo, hi = bounds
        mid = (lo + hi) // 2
        active = hi - lo > 1
        pos = positive(table.t[jnp.clip(mid, 0, size - 1)], table.f1[jnp.clip(mid, 0, size - 1)])
        return jnp.where(active & ~pos, mid, lo), jnp.where(active & pos, mid, hi)

    # A loop, not unrolled: keeps the compiled program (and compile time) small.
    _, hi = jax.lax.fori_loop(0, int(size).bit_length(), halve, (lo, hi))
    return hi


def _model_guess(table: SpectralTable, equation: Equation, i: Array) -> Array:
    """Root of the equation with df_1 interpolated (cubic Hermite in log t) in cell (i-1, i)."""
    a = jnp.clip(i - 1, 0, table.t.shape[0] - 1)
    b = jnp.clip(i, 0, table.t.shape[0] - 1)
    xa, xb = table.log_t[a], table.log_t[b]
    h = xb - xa
    fa, fb, ga, gb = table.f1[a], table.f1[b], table.slope[a], table.slope[b]

    def model(x: Array) -> Array:
        tau = (x - xa) / h
        one = 1.0 - tau
        f = (
            (1.0 + 2.0 * tau) * one * one * fa
            + tau * one * one * h * ga
            + tau * tau * (3.0 - 2.0 * tau) * fb
            - tau * tau * one * h * gb
        )
        return equation(jnp.exp(x), f)

    va, vb = equation(table.t[a], fa), equation(table.t[b], fb)
    x = xa + h * jnp.clip(va / (va - vb), 0.0, 1.0)  # regula falsi start

    def step(_: int, x: Array) -> Array:
        v, dv = jax.jvp(model, (x,), (jnp.ones_like(x),))
        return jnp.clip(x - v / dv, xa, xb)

    x = jax.lax.fori_loop(0, MODEL_STEPS, step, x)
    return jnp.exp(jnp.where(jnp.isfinite(x), x, xb))


def table_start(
    table: SpectralTable,
    equation: Equation,
    lo: Array,
    hi: Array,
    x0: Array,
    done0: Array,
    positive: Callable[[Array, Array], Array] | None = None,
) -> tuple[Array, Array, Array]:
    """(lo_t, hi_t, start) per point: the bracket and start of ``solve_with_table``."""
    if positive is None:

        def positive(t: Array, f1: Array) -> Array:
            return equation(t, f1) >= 0

    size = table.t.shape[0]
    i = _first_positive(table, positive)
    interior = (i > 0) & (i < size)
    left = table.t[jnp.clip(i - 2, 0, size - 1)]
    right = table.t[jnp.clip(i + 1, 0, size - 1)]
    lo_t = jnp.where(i >= 2, jnp.maximum(lo, left), lo)
    hi_t = jnp.where(i < size - 1, jnp.minimum(hi, right), hi)
    guess = jnp.where(interior, _model_guess(table, equation, i), jnp.where(i == 0, hi_t, x0))
    return lo_t, hi_t, jnp.where(done0, x0, jnp.clip(guess, lo_t, hi_t))


def solve_with_table(
    eigs: Array,
    table: SpectralTable,
    equation: Equation,
    lo: Array,
    hi: Array,
    x0: Array,
    done0: Array,
    scale: Callable[[Array], Array],
    positive: Callable[[Array, Array], Array] | None = None,
    *,
    max_steps: int = MAX_STEPS,
) -> tuple[Array, Array, Array]:
    """Root of ``equation(t, df_1(t))`` on [lo, hi] per point, started from the shared table.

    ``equation`` is elementwise and increasing through zero on the bracket; ``positive(t, f1)``
    (default: equation >= 0) is the sign-monotone predicate located on the table nodes. A root
    strictly inside the table gets the bracket of its cell widened by one node each side
    (intersected with [lo, hi]) and the interpolated root as start; a root outside the table keeps
    [lo, hi] cut at the table end and starts from the bracket's upper end (``x0`` above the
    table). Then the safeguarded Newton loop runs with exact df_1 and slope, one pass over the
    spectrum per step: usually one step.

    Returns:
      (x, steps, done), arrays (P,); the caller computes the residual in its own final pass.
    """
    lo_t, hi_t, start = table_start(table, equation, lo, hi, x0, done0, positive)
    return newton_from(eigs, equation, (lo_t, hi_t), start, done0, scale, max_steps)


def newton_from(
    eigs: Array,
    equation: Equation,
    bracket: tuple[Array, Array],
    start: Array,
    done0: Array,
    scale: Callable[[Array], Array],
    max_steps: int = MAX_STEPS,
) -> tuple[Array, Array, Array]:
    """The safeguarded Newton loop of ``solve_with_table`` from its bracket and start."""

    def value_and_slope(t: Array) -> tuple[Array, Array]:
        f1, f1p = df1_and_slope(eigs, t)
        return jax.jvp(equation, (t, f1), (jnp.ones_like(t), f1p))

    return newton_solve(value_and_slope, *bracket, start, done0, scale, RTOL, FTOL, max_steps)
