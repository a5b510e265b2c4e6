"""Jitted core of the power-law fit: variable projection over padded curves (no validation).

Model E(x) = E_inf + A x^(-a). For a fixed exponent a the model is linear in (E_inf, A), so the
best non-negative pair comes from a two-variable non-negative least squares, solved in closed
form by comparing its four active sets; the exponent is then found on a grid and refined by a
golden-section search between the grid neighbours of the best grid point.

Residuals are r_i = w_i (y_i - E(x_i)): with w_i = 1/y_i this is the log-space residual
log y_i - log E(x_i) to first order, and with w_i = 1/stderr_i it is that residual divided by
the log-scale error stderr_i/y_i. The loss is sum_i c_i rho(r_i) with row multiplicities c_i
(1, or bootstrap counts, 0 on padding) and rho the square (halved) or Huber's function, fitted by
iteratively reweighted least squares.

x is measured relative to each curve's smallest x (``logx = log(x / x_min)``), so x^-a <= 1 and
the normal equations stay well conditioned; A is returned in those units (A x_min^a outside).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import Array

from simcollapse.analysis._solvers import grid_golden

EXPONENT_RANGE = (0.02, 6.0)
GRID_SIZE = 32
GOLDEN_STEPS = 32
HUBER_STEPS = 6


class Curve(NamedTuple):
    """One padded curve: logx, y, w (1/sigma, 0 on padding), counts (row multiplicities)."""

    logx: Array
    y: Array
    w: Array
    counts: Array


class Params(NamedTuple):
    """Fitted floor, amplitude (relative x units), exponent and the loss at the optimum."""

    e_inf: Array
    amp: Array
    a: Array
    loss: Array


def _nnls2(v: Array, z: Array, y: Array) -> tuple[Array, Array]:
    """argmin over E, A >= 0 of sum_i v_i (y_i - E - A z_i)^2, by its four active sets."""
    s0, s1, s2 = v.sum(), (v * z).sum(), (v * z * z).sum()
    t0, t1 = (v * y).sum(), (v * y * z).sum()
    det = s0 * s2 - s1 * s1
    safe = jnp.where(det > 0, det, 1.0)
    e_free, a_free = (s2 * t0 - s1 * t1) / safe, (s0 * t1 - s1 * t0) / safe
    free_ok = (det > 0) & (e_free >= 0) & (a_free >= 0)
    cands_e = jnp.stack([e_free, jnp.zeros_like(s0), jnp.maximum(t0 / s0, 0.0), 0.0 * s0])
    cands_a = jnp.stack(
        [a_free, jnp.maximum(t1 / jnp.where(s2 > 0, s2, 1.0), 0.0), 0.0 * s0, 0.0 * s0]
    )
    # sum v (y - E - A z)^2 up to the constant sum v y^2
    quad = cands_e**2 * s0 + 2 * cands_e * cands_a * s1 + cands_a**2 * s2
    loss = quad - 2 * cands_e * t0 - 2 * cands_a * t1
    allowed = jnp.stack([free_ok, True, True, True])
    loss = jnp.where(allowed, loss, jnp.inf)
    best = jnp.argmin(loss)
    return cands_e[best], cands_a[best]


def _rho(r: Array, delta: Array, huber: bool) -> Array:
    if not huber:
        return 0.5 * r * r
    absr = jnp.abs(r)
    return jnp.where(absr <= delta, 0.5 * r * r, delta * (absr - 0.5 * delta))


def profile(a: Array, curve: Curve, delta: Array, huber: bool) -> Params:
    """Best (E_inf, A) for the exponent ``a`` and the loss there (IRLS for Huber)."""
    z = jnp.exp(-a * curve.logx)
    base = curve.counts * curve.w * curve.w
    e, amp = _nnls2(base, z, curve.y)
    if huber:

        def reweight(_: int, ea: tuple[Array, Array]) -> tuple[Array, Array]:
            r = curve.w * (curve.y - ea[0] - ea[1] * z)
            h = jnp.minimum(1.0, delta / jnp.maximum(jnp.abs(r), 1e-300))
            return _nnls2(base * h, z, curve.y)

        e, amp = jax.lax.fori_loop(0, HUBER_STEPS, reweight, (e, amp))
    r = curve.w * (curve.y - e - amp * z)
    return Params(e, amp, a, jnp.sum(curve.counts * _rho(r, delta, huber)))


def fit_curve(curve: Curve, delta: Array, huber: bool) -> Params:
    """Variable projection: log a on an even grid, refined by golden section."""
    loss = lambda log_a: profile(jnp.exp(log_a), curve, delta, huber).loss  # noqa: E731
    lo, hi = (jnp.log(jnp.asarray(v)) for v in EXPONENT_RANGE)
    log_a, _ = grid_golden(loss, lo, hi, GRID_SIZE, GOLDEN_STEPS)
    return profile(jnp.exp(log_a), curve, delta, huber)


def identifiable(params: Params) -> Array:
    """A decaying part was found and the exponent is not stuck at an end of its range.

    The decaying part counts when it is more than 1e-6 of the fitted value at the smallest x
    (``amp`` is measured there); below that the curve is flat to rounding and a is arbitrary.
    """
    lo, hi = EXPONENT_RANGE
    decays = params.amp > 1e-6 * (params.e_inf + params.amp)
    return decays & (params.a > lo * 1.001) & (params.a < hi * 0.999)


def _fit_many(curves: Curve, delta: Array, huber: bool) -> Params:
    return jax.vmap(lambda c: fit_curve(c, delta, huber))(curves)


fit_many = jax.jit(_fit_many, static_argnames="huber")
