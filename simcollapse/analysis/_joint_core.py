"""Jitted core of the joint law fit: variable projection over two exponents (no validation).

Model E(x1, x2) = E + A x1^(-alpha) + B x2^(-beta) [+ F s], with s an optional per-row
covariate (the collapse form uses s = p2^2 c^2). For fixed exponents the model is linear in the
k = 3 (or 4) coefficients, so the best non-negative coefficients are a k-variable non-negative
least squares, solved exactly by comparing the least-squares solutions of its 2^k supports (the
NNLS optimum is the best feasible one of them). The exponents are found on a log grid, refined on
a finer grid around the best grid point, then polished by a damped Newton iteration on the
profiled loss in (log alpha, log beta) that only accepts steps which lower it.

Residuals are r_i = w_i (y_i - E(x_i)) with w_i = 1/y_i (the log residual to first order) or
1/stderr_i; the loss is sum_i c_i rho(r_i), rho the halved square or Huber's function (summed,
not averaged), fitted for fixed exponents by iteratively reweighted least squares. x1 and x2 are
measured relative to each curve's smallest value (z <= 1 keeps the normal equations conditioned).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

EXPONENT_RANGE = (0.02, 6.0)
GRID_SIZE = 16
FINE_SIZE = 7
NEWTON_STEPS = 16
HUBER_STEPS = 10
GRID_HUBER_STEPS = 0
MM_STEPS = 6
MM_NEWTON = 8
FD_STEP = 1e-4


class Data(NamedTuple):
    """One padded table: log(x1/x1_min), log(x2/x2_min), covariate s, y, w, counts (L,)."""

    lx1: Array
    lx2: Array
    s: Array
    y: Array
    w: Array
    counts: Array


class Params(NamedTuple):
    """Coefficients (E, A, B, F; relative x units), exponents and the loss at the optimum."""

    coef: Array
    alpha: Array
    beta: Array
    loss: Array


def _supports(k: int) -> np.ndarray:
    """(2^k, k) 0/1 masks of every support, the empty one included."""
    return np.array(list(itertools.product((0.0, 1.0), repeat=k)))


def _cholesky_solve(a: Array, b: Array) -> Array:
    """Solve a x = b for symmetric positive definite k x k ``a`` (leading batch axes), unrolled.

    Elementwise over the batch: for the k <= 4 systems here this is far cheaper under vmap than
    a batched LU call.
    """
    k = a.shape[-1]
    low: list[list[Array]] = [[jnp.zeros(())] * k for _ in range(k)]
    for j in range(k):
        diag = a[..., j, j] - sum((low[j][p] ** 2 for p in range(j)), jnp.zeros(()))
        low[j][j] = jnp.sqrt(jnp.maximum(diag, 1e-300))
        for i in range(j + 1, k):
            off = a[..., i, j] - sum((low[i][p] * low[j][p] for p in range(j)), jnp.zeros(()))
            low[i][j] = off / low[j][j]
    z: list[Array] = []
    for i in range(k):
        z.append((b[..., i] - sum((low[i][p] * z[p] for p in range(i)), jnp.zeros(()))) / low[i][i])
    x: list[Array] = [jnp.zeros(())] * k
    for i in reversed(range(k)):
        tail = sum((low[p][i] * x[p] for p in range(i + 1, k)), jnp.zeros(()))
        x[i] = (z[i] - tail) / low[i][i]
    return jnp.stack(x, axis=-1)


def nnls(gram: Array, rhs: Array) -> Array:
    """argmin over c >= 0 of c'Gc - 2 c't for a small positive semi-definite G (k x k).

    Every support S gets the least-squares solution on S (zero off S); the feasible one with the
    lowest objective is the NNLS optimum (it is the least-squares solution on its own support).
    """
    k = gram.shape[0]
    masks = jnp.asarray(_supports(k), gram.dtype)
    scale = jnp.sqrt(jnp.maximum(jnp.diagonal(gram), 1e-300))
    g = gram / scale[:, None] / scale[None, :]
    t = rhs / scale
    outer = masks[:, :, None] * masks[:, None, :]
    restricted = g * outer + (1.0 + 1e-13) * jnp.eye(k) - outer * jnp.eye(k) * (1.0 - 1e-12)
    cands = _cholesky_solve(restricted, masks * t) * masks
    ok = jnp.all(cands >= 0, axis=-1) & jnp.all(jnp.isfinite(cands), axis=-1)
    values = jnp.einsum("si,ij,sj->s", cands, g, cands) - 2.0 * cands @ t
    values = jnp.where(ok, values, jnp.inf)
    return cands[jnp.argmin(values)] / scale


def _rho(r: Array, delta: Array, huber: bool) -> Array:
    if not huber:
        return 0.5 * r * r
    absr = jnp.abs(r)
    return jnp.where(absr <= delta, 0.5 * r * r, delta * (absr - 0.5 * delta))


def basis(log_ab: Array, data: Data, k: int) -> Array:
    """(L, k) columns 1, x1^-alpha, x2^-beta (and s when k = 4), x relative to its minimum."""
    cols = [jnp.ones_like(data.y), jnp.exp(-jnp.exp(log_ab[0]) * data.lx1)]
    cols.append(jnp.exp(-jnp.exp(log_ab[1]) * data.lx2))
    if k == 4:
        cols.append(data.s)
    return jnp.stack(cols, axis=-1)


def coefficients(
    log_ab: Array, data: Data, delta: Array, huber: bool, k: int, steps: int = HUBER_STEPS
) -> Array:
    """The best non-negative coefficients at these exponents (``steps`` IRLS steps for Huber)."""
    z = basis(log_ab, data, k)
    base = data.counts * data.w * data.w

    def solve(v: Array) -> Array:
        # Gram entries as weighted sums (elementwise reductions vectorise better under vmap than
        # a batch of tiny matrix products).
        vz = v[:, None] * z
        gram = jnp.stack([jnp.sum(vz * z[:, j : j + 1], axis=0) for j in range(k)], axis=-1)
        return nnls(gram, jnp.sum(vz * data.y[:, None], axis=0))

    coef = solve(base)
    if huber:

        def reweight(_: int, c: Array) -> Array:
            return solve(base * huber_weights(data.w * (data.y - z @ c), delta))

        coef = jax.lax.fori_loop(0, steps, reweight, coef)
    return coef


def huber_weights(r: Array, delta: Array) -> Array:
    """IRLS weights of Huber's function: rho(r) <= 0.5 h r^2 + const with equality at r."""
    return jnp.minimum(1.0, delta / jnp.maximum(jnp.abs(r), 1e-300))


def profile_loss(
    log_ab: Array, data: Data, delta: Array, huber: bool, k: int, steps: int = HUBER_STEPS
) -> Array:
    """The loss at the best coefficients for the exponents exp(log_ab) (+inf if not finite)."""
    coef = coefficients(log_ab, data, delta, huber, k, steps)
    r = data.w * (data.y - basis(log_ab, data, k) @ coef)
    value = jnp.sum(data.counts * _rho(r, delta, huber))
    return jnp.where(jnp.isfinite(value), value, jnp.inf)


def _grid(center: Array, half: Array, size: int) -> Array:
    t = jnp.linspace(-1.0, 1.0, size)
    a, b = jnp.meshgrid(center[0] + half[0] * t, center[1] + half[1] * t, indexing="ij")
    return jnp.stack([a.ravel(), b.ravel()], axis=-1)


_OFFSETS = np.array([[i, j] for i in (-1, 0, 1) for j in (-1, 0, 1)], dtype=np.float64)


def newton(
    loss: Callable[[Array], Array], p: Array, steps: int, bounds: tuple[float, float]
) -> Array:
    """Damped Newton on a smooth function of two variables, from ``p``; returns the last point.

    Gradient and Hessian by central differences on a 3 x 3 stencil (one vmapped call; exact for a
    quadratic, which the loss is near a smooth minimum). A step is kept only when the loss falls
    (then the damping shrinks; otherwise it grows), so a kink of the NNLS support is harmless.
    """
    lo, hi = bounds
    offsets = jnp.asarray(_OFFSETS, p.dtype) * FD_STEP

    def step(_: int, state: tuple[Array, Array, Array]) -> tuple[Array, Array, Array]:
        p, f, mu = state
        v = jax.vmap(loss)(p + offsets).reshape(3, 3)
        v = jnp.where(jnp.isfinite(v), v, f)
        g = jnp.stack([v[2, 1] - v[0, 1], v[1, 2] - v[1, 0]]) / (2 * FD_STEP)
        h00 = (v[2, 1] - 2 * v[1, 1] + v[0, 1]) / FD_STEP**2
        h11 = (v[1, 2] - 2 * v[1, 1] + v[1, 0]) / FD_STEP**2
        h01 = (v[2, 2] - v[2, 0] - v[0, 2] + v[0, 0]) / (4 * FD_STEP**2)
        h = jnp.array([[h00, h01], [h01, h11]])
        shift = jnp.maximum(0.0, -jnp.min(jnp.linalg.eigvalsh(h))) + mu * (1e-12 + jnp.trace(h))
        cand = jnp.clip(p - jnp.linalg.solve(h + shift * jnp.eye(2), g), lo, hi)
        fc = loss(cand)
        better = fc < f
        return (
            jnp.where(better, cand, p),
            jnp.where(better, fc, f),
            jnp.where(better, mu * 0.2, mu * 8.0),
        )

    start = (p, loss(p), jnp.asarray(1e-3, p.dtype))
    return jax.lax.fori_loop(0, steps, step, start)[0]


def fit_one(data: Data, delta: Array, huber: bool, k: int) -> Params:
    """Grid, finer grid, then Newton on (log alpha, log beta) for one padded table.

    The grids search the profiled loss (Huber with a few IRLS steps). Least squares is then
    polished by Newton on its profile; Huber by majorize-minimize: each outer step replaces
    Huber's function by the quadratic 0.5 h_i r_i^2 that touches it at the current residuals
    (h_i its IRLS weight) and polishes that smooth weighted least squares by Newton, so the
    Huber loss never rises.
    """
    lo, hi = (float(np.log(v)) for v in EXPONENT_RANGE)
    search = lambda p: profile_loss(p, data, delta, huber, k, GRID_HUBER_STEPS)  # noqa: E731
    center = jnp.full(2, 0.5 * (lo + hi))
    coarse = _grid(center, jnp.full(2, 0.5 * (hi - lo)), GRID_SIZE)
    best = coarse[jnp.argmin(jax.vmap(search)(coarse))]
    spacing = (hi - lo) / (GRID_SIZE - 1)
    fine = jnp.clip(_grid(best, jnp.full(2, spacing), FINE_SIZE), lo, hi)
    p = fine[jnp.argmin(jax.vmap(search)(fine))]
    if not huber:
        p = newton(lambda q: profile_loss(q, data, delta, False, k), p, NEWTON_STEPS, (lo, hi))
    else:
        full = lambda q: profile_loss(q, data, delta, True, k)  # noqa: E731

        def outer(_: int, p: Array) -> Array:
            coef = coefficients(p, data, delta, True, k)
            h = huber_weights(data.w * (data.y - basis(p, data, k) @ coef), delta)
            surrogate = data._replace(counts=data.counts * h)
            q = newton(
                lambda q: profile_loss(q, surrogate, delta, False, k), p, MM_NEWTON, (lo, hi)
            )
            return jnp.where(full(q) < full(p), q, p)

        p = jax.lax.fori_loop(0, MM_STEPS, outer, p)
    coef = coefficients(p, data, delta, huber, k)
    return Params(coef, jnp.exp(p[0]), jnp.exp(p[1]), profile_loss(p, data, delta, huber, k))


@functools.partial(jax.jit, static_argnames=("huber", "k"))
def fit_many(data: Data, delta: Array, huber: bool, k: int) -> Params:
    """``fit_one`` vmapped over a leading axis of tables."""
    return jax.vmap(lambda d: fit_one(d, delta, huber, k))(data)


def identifiable(params: Params) -> Array:
    """Both decaying parts found and neither exponent stuck at an end of its range."""
    lo, hi = EXPONENT_RANGE
    coef = params.coef
    total = jnp.sum(coef[..., :3], axis=-1)
    decays = (coef[..., 1] > 1e-6 * total) & (coef[..., 2] > 1e-6 * total)
    inside = lambda a: (a > lo * 1.001) & (a < hi * 0.999)  # noqa: E731
    return decays & inside(params.alpha) & inside(params.beta)
