"""One-dimensional solvers in JAX, vectorised over many problems at once.

Neither JAX nor optimistix ships a bounded scalar minimiser (optimistix's minimisers are
multivariate and its root finders need a bracketed, differentiable function), so the two classic
bracketing methods are written here with ``jax.lax.fori_loop``: a fixed number of steps, no
Python ``if`` on a traced value, and every problem of a batch advancing in lockstep.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax import Array

__all__ = ["bisect_decreasing", "golden_section", "grid_golden"]

_INV_PHI = 0.6180339887498949  # (sqrt(5) - 1) / 2


def golden_section(
    fn: Callable[[Array], Array], lo: Array, hi: Array, steps: int = 48
) -> tuple[Array, Array]:
    """Minimise a unimodal ``fn`` on [lo, hi], elementwise over arrays of problems.

    Golden-section search: the bracket shrinks by 0.618 per step, one evaluation of ``fn`` per
    step, so 48 steps reduce it by 1e-10.

    Args:
      fn: maps x of shape S to values of shape S, elementwise.
      lo, hi: bracket ends, shape S, lo <= hi.
      steps: number of golden-section steps (static).

    Returns:
      (x, fn(x)) at the best point found, shape S each.

    Example:
      >>> x, f = golden_section(lambda x: (x - 0.3) ** 2, jnp.zeros(2), jnp.ones(2))
      >>> [round(float(v), 6) for v in x]
      [0.3, 0.3]
    """
    a, b = jnp.asarray(lo), jnp.asarray(hi)
    c = b - _INV_PHI * (b - a)
    d = a + _INV_PHI * (b - a)
    state = (a, b, c, d, fn(c), fn(d))

    def step(_: int, s: tuple[Array, ...]) -> tuple[Array, ...]:
        a, b, c, d, fc, fd = s
        left = fc <= fd  # the minimum lies in [a, d]
        a, b = jnp.where(left, a, c), jnp.where(left, d, b)
        c_new = jnp.where(left, b - _INV_PHI * (b - a), d)
        d_new = jnp.where(left, c, a + _INV_PHI * (b - a))
        x_new = jnp.where(left, c_new, d_new)
        f_new = fn(x_new)
        fc_new = jnp.where(left, f_new, fd)
        fd_new = jnp.where(left, fc, f_new)
        return a, b, c_new, d_new, fc_new, fd_new

    a, b, c, d, fc, fd = jax.lax.fori_loop(0, steps, step, state)
    take_c = fc <= fd
    return jnp.where(take_c, c, d), jnp.where(take_c, fc, fd)


def bisect_decreasing(
    fn: Callable[[Array], Array], target: Array, lo: Array, hi: Array, steps: int = 64
) -> Array:
    """x in [lo, hi] with fn(x) = target for a decreasing ``fn``, elementwise (bisection).

    Where target >= fn(lo) the answer is lo; where target <= fn(hi) it is hi (the caller decides
    what a root outside the bracket means).

    Args:
      fn: decreasing on [lo, hi], elementwise on shape S.
      target: shape S (or broadcasting).  lo, hi: bracket ends, shape S.
      steps: bisection steps (static); 64 halve any float64 bracket to rounding.

    Returns:
      The root, shape S.

    Example:
      >>> lo, hi = jnp.ones(2), jnp.full(2, 8.0)
      >>> x = bisect_decreasing(lambda x: 1.0 / x, jnp.array([0.5, 0.25]), lo, hi)
      >>> [round(float(v), 6) for v in x]
      [2.0, 4.0]
    """
    lo, hi = jnp.broadcast_arrays(jnp.asarray(lo), jnp.asarray(hi))

    def step(_: int, s: tuple[Array, Array]) -> tuple[Array, Array]:
        a, b = s
        mid = 0.5 * (a + b)
        above = fn(mid) > target  # root to the right of mid
        return jnp.where(above, mid, a), jnp.where(above, b, mid)

    a, b = jax.lax.fori_loop(0, steps, step, (lo, hi))
    return 0.5 * (a + b)


def grid_golden(
    fn: Callable[[Array], Array], lo: Array, hi: Array, grid_size: int = 32, steps: int = 32
) -> tuple[Array, Array]:
    """Minimise ``fn`` on [lo, hi]: an even grid, then golden section around its best point.

    The grid guards against a poor bracket (a plateau or a far-off shallow minimum); the golden
    section then refines within two grid spacings. Non-finite values count as +inf.

    Args:
      fn: maps x of shape S to shape S elementwise (vmapped over the grid axis).
      lo, hi: bracket ends, shape S.  grid_size, steps: static sizes.

    Returns:
      (x, fn(x)) at the best point, shape S each.

    Example:
      >>> x, _ = grid_golden(lambda x: jnp.cos(x), jnp.array(0.0), jnp.array(6.0))
      >>> round(float(x), 2)  # pi
      3.14
    """

    def safe(x: Array) -> Array:
        value = fn(x)
        return jnp.where(jnp.isfinite(value), value, jnp.inf)

    lo, hi = jnp.broadcast_arrays(jnp.asarray(lo), jnp.asarray(hi))
    t = jnp.linspace(0.0, 1.0, grid_size).reshape((grid_size,) + (1,) * lo.ndim)
    grid = lo + t * (hi - lo)
    values = jax.vmap(safe)(grid)
    k = jnp.argmin(values, axis=0)
    pick = lambda i: jnp.take_along_axis(grid, jnp.clip(i, 0, grid_size - 1)[None], 0)[0]  # noqa: E731
    x, f = golden_section(safe, pick(k - 1), pick(k + 1), steps)
    best_grid = jnp.min(values, axis=0)
    better = f <= best_grid
    return jnp.where(better, x, pick(k)), jnp.where(better, f, best_grid)
