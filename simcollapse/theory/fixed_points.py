"""The one-dimensional fixed points of the deterministic equivalents, solved in float64 under jit.

Both are monotone roots (docs/theory.md, "Fixed points"). Each is solved by a bracketed,
safeguarded Newton iteration inside ``lax.while_loop``: Newton from the right end of a bracket that
provably holds the root; a step that leaves the bracket or is not finite becomes a bisection step
(geometric midpoint once the lower end is positive). The iteration reports, per point, the value,
a ``Status`` code, the steps taken and the residual, so a point that failed is flagged, never
silently returned as a number.

All functions here take the spectrum ``eigs`` (d,) and flat point arrays of shape (P,); they are
pure and jittable, and the public wrappers in ``simcollapse.theory`` broadcast, validate and enable
float64.

The Newton core lives in ``simcollapse.theory.newton`` and the df_1 table in
``simcollapse.theory.spectral_table``; their names are re-exported here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax import Array

from simcollapse.results import FixedPoint, Status
from simcollapse.theory.newton import (  # noqa: F401 (re-exported)
    FTOL,
    MAX_STEPS,
    RTOL,
    STEP_RTOL,
    Equation,
    df1,
    df1_and_slope,
    df2,
    newton_status,
    solve_monotone,
)
from simcollapse.theory.spectral_table import (  # noqa: F401 (re-exported)
    TABLE_MAX,
    SpectralTable,
    solve_with_table,
    spectral_table,
    table_size,
    table_start,
)

# Points per chunk: the grid is swept in chunks of about CHUNK_ELEMS (point, eigenvalue) pairs so
# that each chunk's (d x points) temporaries stay in cache (measured: 15x faster than one
# reduction over 10^5 x 1000 elements on a 2-core CPU).
CHUNK_ELEMS = 1 << 18


def ridge_equation(n: Array, lam: Array) -> Equation:
    """F(k, df_1) = k (1 - df_1/n) - lam: zero at ridge's kappa (Theorem 1)."""
    return lambda k, f1: k * (1.0 - f1 / n) - lam


class Root(NamedTuple):
    """One fixed-point equation per point, as ``solve_with_table`` takes it.

    Attributes:
      equation: F(t, df_1(t)), increasing through zero on [lo, hi].  lo, hi: the bracket (P,).
      x0: start used where the table does not hold the root; done0: points already solved (x0 is
        the root).  scale: bound on the size of F's terms.  positive: the sign-monotone
        predicate on table nodes (None: F >= 0).
    """

    equation: Equation
    lo: Array
    hi: Array
    x0: Array
    done0: Array
    scale: Callable[[Array], Array]
    positive: Callable[[Array, Array], Array] | None = None


def ridge_root(eigs: Array, n: Array, lam: Array) -> Root:
    """Ridge's kappa as a ``Root``: bracket [0, lam + tr(Sigma)/n], kappa = 0 at lam = 0, n >= d."""
    hi = lam + jnp.sum(eigs) / n
    ridgeless_full_rank = (lam == 0) & (n >= eigs.shape[-1])

    def scale(k: Array) -> Array:
        return 2.0 * k + lam

    x0 = jnp.where(ridgeless_full_rank, 0.0, hi)
    return Root(ridge_equation(n, lam), jnp.zeros_like(hi), hi, x0, ridgeless_full_rank, scale)


def solve_root(eigs: Array, table: SpectralTable, root: Root) -> tuple[Array, Array, Array]:
    """``solve_with_table`` on a ``Root``: (x, steps, done), done including ``root.done0``."""
    x, steps, done = solve_with_table(eigs, table, *root[:6], root.positive)
    return x, steps, done | root.done0


def finish(
    x: Array, steps: Array, done: Array, residual: Array, scale: Callable[[Array], Array]
) -> FixedPoint:
    """FixedPoint with its status from the residual the caller computed at x."""
    return FixedPoint(x, newton_status(x, done, residual, scale(x)), steps, residual)


def ridge_kappa(
    eigs: Array, n: Array, lam: Array, table: SpectralTable | None = None
) -> FixedPoint:
    """Effective regularisation kappa of ridge regression (docs/theory.md, "Fixed points").

    Solves  kappa - lam = kappa df_1(kappa) / n  for kappa >= lam, written as
    F(k) = k (1 - df_1(k)/n) - lam = 0. F is convex (F'' = (2/n) sum s^2/(s+k)^3 > 0), negative on
    (0, kappa) and F(lam + tr(Sigma)/n) >= 0: the root is bracketed on [0, lam + tr(Sigma)/n],
    located on a shared table of df_1 (binary search, then the root of the interpolated
    equation), and finished by safeguarded Newton with exact df_1 (usually one step). Ridgeless
    limits: lam = 0, n >= d gives kappa = 0; lam = 0, n < d gives the root of df_1(kappa) = n.

    Args:
      eigs: spectrum (d,). n, lam: shape (P,), float.
      table: a ``spectral_table(eigs, size)`` to share between calls; built here when None.

    Returns:
      FixedPoint(value=kappa, status, steps, residual), each of shape (P,).

    Example:
      >>> import jax, jax.numpy as jnp
      >>> with jax.enable_x64(True):  # isotropic, lam = 0, n < d: df_1(kappa) = n, kappa = d/n - 1
      ...     fp = ridge_kappa(jnp.ones(100), jnp.array([50.0, 25.0]), jnp.zeros(2))
      >>> fp.value.round(6).tolist(), fp.status.tolist()
      ([1.0, 3.0], [0, 0])
    """
    if table is None:
        table = spectral_table(eigs, table_size(n.shape[0]))
    root = ridge_root(eigs, n, lam)
    x, steps, done = solve_root(eigs, table, root)
    residual = jnp.where(root.done0, 0.0, jnp.abs(root.equation(x, df1(eigs, x))))
    return finish(x, steps, done, residual, root.scale)


def rp_theta0_root(eigs: Array, n: Array, m: Array) -> Root:
    """theta_0 as a ``Root``: df_1(theta_0) = q = min(m, n) (q - df_1 increases, concave)."""
    q = jnp.minimum(m, n)

    def scale0(t: Array) -> Array:
        return 2.0 * q

    zero = jnp.zeros_like(q)
    return Root(lambda t, f1: q - f1, zero, jnp.sum(eigs) / q, zero, q >= eigs.shape[-1], scale0)


def rp_theta_root(eigs: Array, n: Array, m: Array, lam: Array, theta0: Array) -> Root:
    """theta as a ``Root`` above theta_0 (see ``rp_theta``); theta = theta_0 at lam = 0."""
    q = jnp.minimum(m, n)
    target = lam * eigs.shape[-1] / m

    def equation(t: Array, f1: Array) -> Array:
        return t * (1.0 - f1 / m) * (1.0 - f1 / n) - target

    def positive(t: Array, f1: Array) -> Array:
        return (f1 < q) & (equation(t, f1) >= 0)

    def scale(t: Array) -> Array:
        return 2.0 * t + target

    hi = theta0 + jnp.maximum(4.0 * target, 2.0 * jnp.sum(eigs) / q)
    ridgeless = lam == 0
    x0 = jnp.where(ridgeless, theta0, hi)
    return Root(equation, theta0, hi, x0, ridgeless, scale, positive)


def theta0_point(root: Root, x: Array, steps: Array, done: Array, f1: Array) -> FixedPoint:
    """theta_0's FixedPoint from the solve and df_1 at x (the residual |q - df_1|)."""
    res0 = jnp.where(root.done0, 0.0, jnp.abs(root.equation(x, f1)))
    return FixedPoint(x, newton_status(x, done, res0, root.scale(x)), steps, res0)


def rp_theta(
    eigs: Array, n: Array, m: Array, lam: Array, table: SpectralTable | None = None
) -> FixedPoint:
    """Renormalised ridge theta of random projections (docs/theory.md, "Fixed points").

    Solves  theta (1 - df_1(theta)/m) (1 - df_1(theta)/n) = lam d / m  on the branch
    df_1(theta) < min(m, n), where the left side increases from 0 at theta_0 (df_1(theta_0) =
    min(m, n), or theta_0 = 0 when min(m, n) >= d). The bracket is [theta_0, theta_0 +
    max(4 lam d/m, 2 tr(Sigma)/min(m, n))]: there both factors exceed 1/2. lam = 0 gives
    theta = theta_0. Both roots start from the shared table of df_1 (see ``ridge_kappa``).

    Args:
      eigs: spectrum (d,). n, m, lam: shape (P,), float.
      table: a ``spectral_table(eigs, size)`` to share between calls; built here when None.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> with jax.enable_x64(True):  # lam = 0: df_1(theta) = min(m, n) = 50, theta = 100/50 - 1
      ...     fp = rp_theta(jnp.ones(100), jnp.array([200.0]), jnp.array([50.0]), jnp.zeros(1))
      >>> fp.value.round(6).tolist(), fp.status.tolist()
      ([1.0], [0])
    """
    if table is None:
        table = spectral_table(eigs, table_size(n.shape[0]))
    root0 = rp_theta0_root(eigs, n, m)
    x0, steps0, done0 = solve_root(eigs, table, root0)
    # theta_0's residual, exact (one more pass over the spectrum).
    theta0 = theta0_point(root0, x0, steps0, done0, df1_and_slope(eigs, x0)[0])
    root = rp_theta_root(eigs, n, m, lam, theta0.value)
    x, steps, done = solve_root(eigs, table, root)
    residual = jnp.where(root.done0, 0.0, jnp.abs(root.equation(x, df1(eigs, x))))
    fp = finish(x, steps + theta0.steps, done, residual, root.scale)
    return FixedPoint(
        fp.value,
        jnp.maximum(fp.status, theta0.status),
        fp.steps,
        jnp.maximum(fp.residual, theta0.residual),
    )


def zero_safe_product(a: Array, b: Array, xp: Any = jnp) -> Array:
    """a * b with 0 * inf = 0: a term that vanishes stays 0 at the interpolation threshold.

    ``xp`` is ``jax.numpy`` or ``numpy`` (then the caller silences the 0 * inf warning).
    """
    return xp.where(a == 0, 0.0, a * b)


def on_threshold(lam: Array, n: Array, rank: Array) -> Array:
    """True where a ridgeless fit (lam = 0) has exactly as many rows n as free directions ``rank``.

    There the lam -> 0+ limit of the variance factor 1/(1 - df_2/n) diverges (the smallest
    singular value of the square design goes to zero): ridge at n = d, random projections at
    n = min(m, d), weighted mixing at n_eff = d.
    """
    return (lam == 0) & (n == rank)


def threshold_status(status: Array, threshold: Array) -> Array:
    """``status`` with Status.THRESHOLD where ``threshold`` holds (see ``Status``)."""
    return jnp.where(threshold, Status.THRESHOLD, status).astype(jnp.int32)


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


# The extreme-range path of ridge's kappa (``ridge_kappa_wide``): bisection in log kappa over
# all of float64's normal positive range, [2.2e-308, lam + tr(Sigma)/n]: about 1420 in log,
# so LOG_STEPS halvings leave kappa exact to about 1e-16 relative.
LOG_STEPS = 64
# A point of the fast path is re-solved on the wide path when s + kappa leaves
# [WIDE_SMALL, WIDE_BIG] (u^2 = 1/(s + kappa)^2 near float64's ends) or when 1 - df_2/n is below
# WIDE_SHRINK times df_2 (the cancellation there costs more than five digits).
WIDE_BIG = 1e100
WIDE_SMALL = 1e-100
WIDE_SHRINK = 1e-5


def ridge_margin(eigs: Array, n: Array, k: Array) -> Array:
    """n (1 - df_1(k)/n) = n - d + sum_j k/(s_j + k), without the cancellation at small k.

    Directions with s_j < k contribute 1 - s_j/(s_j + k) each: their 1 is counted exactly as an
    integer, so only the small remainders meet in the sum (shape (P,) from k of shape (P,)).
    """
    s, kk = eigs[:, None], k[None, :]
    low = s < kk
    rest = jnp.where(low, -s / (s + kk), kk / (s + kk))
    return (n - eigs.shape[-1] + jnp.sum(low, axis=0)) + jnp.sum(rest, axis=0)


def ridge_kappa_wide(eigs: Array, n: Array, lam: Array) -> Array:
    """Ridge's kappa anywhere in float64's range, by bisection in log kappa.

    kappa > 0 solves kappa (1 - df_1(kappa)/n) = lam; with the margin of ``ridge_margin`` the
    sign of kappa * margin / n - lam is taken in logs, so neither a denormal eigenvalue, nor
    lam = 1e-300 at n = d (kappa ~ sqrt(lam)), nor lam = 1e300 loses it. lam = 0 with n >= d
    gives kappa = 0. Costs LOG_STEPS passes over the spectrum: the fast path calls it only for
    the points it cannot resolve.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> with jax.enable_x64(True):  # n = d = 1 isotropic: kappa^2/(1 + kappa) = lam
      ...     k = ridge_kappa_wide(jnp.ones(1), jnp.array([1.0]), jnp.array([1e-300]))
      >>> float(k[0])  # sqrt(1e-300)
      1e-150
    """
    # The smallest normal number: XLA on CPU flushes subnormals to zero.
    tiny = math.log(float(jnp.finfo(eigs.dtype).tiny))
    log_lam = jnp.log(lam)
    top = jnp.logaddexp(log_lam, jnp.log(jnp.sum(eigs)) - jnp.log(n))
    lo = jnp.full_like(top, tiny)

    def body(_: int, bracket: tuple[Array, Array]) -> tuple[Array, Array]:
        lo, hi = bracket
        mid = 0.5 * (lo + hi)
        margin = ridge_margin(eigs, n, jnp.exp(mid))
        log_margin = jnp.log(jnp.where(margin > 0, margin, 1.0)) - jnp.log(n)
        above = (margin > 0) & (mid + log_margin > log_lam)
        return jnp.where(above, lo, mid), jnp.where(above, mid, hi)

    lo, hi = jax.lax.fori_loop(0, LOG_STEPS, body, (lo, top))
    k = jnp.exp(0.5 * (lo + hi))
    # exp of a log near +-700 is off by ~1e-13 relative: two Newton steps on k margin/n = lam
    # (slope (margin + sum_j r_j v_j)/n) restore the last digits. The residual is taken relative
    # to lam, (k margin/n / lam - 1) * lam/slope: near lam = 1e-300 the plain difference
    # k margin/n - lam is subnormal, which XLA on CPU flushes to zero.
    safe_lam = jnp.where(lam > 0, lam, 1.0)
    for _ in range(2):
        r = eigs[:, None] / (eigs[:, None] + k[None, :])
        margin = ridge_margin(eigs, n, k)
        v = k[None, :] / (eigs[:, None] + k[None, :])
        slope = (margin + jnp.sum(r * v, axis=0)) / n
        value = k * (margin / n)
        step = jnp.where(lam > 0, (value / safe_lam - 1.0) * (safe_lam / slope), value / slope)
        new = k - step
        k = jnp.where(jnp.isfinite(new) & (new > 0), new, k)
    return jnp.where((lam == 0) & (n >= eigs.shape[-1]), 0.0, k)


def ridge_wide_sums(
    eigs: Array, n: Array, lam: Array, k: Array, wv: Array, wr: Array
) -> tuple[Array, Array, Array, Array]:
    """(df_2, 1 - df_2/n, wv @ v^2, wr @ r^2) at kappa, in r = s/(s+k), v = k/(s+k).

    ``wv`` (R, d) and ``wr`` (R', d) are the weights of the v^2 and r^2 sums.
    1 - df_2/n = lam/kappa + sum r v/n at the fixed point (every term >= 0: no cancellation);
    1 - d/n at kappa = 0.
    """
    s, kk = eigs[:, None], k[None, :]
    r = s / (s + kk)
    v = jnp.where(kk == 0, 0.0, kk / (s + kk))
    f2 = jnp.sum(r * r, axis=0)
    shrink = jnp.where(k > 0, lam / jnp.where(k > 0, k, 1.0) + jnp.sum(r * v, axis=0) / n, 0.0)
    shrink = jnp.where(k > 0, shrink, 1.0 - eigs.shape[-1] / n)
    return f2, shrink, wv @ (v * v), wr @ (r * r)
