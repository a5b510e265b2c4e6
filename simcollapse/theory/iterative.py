"""Iterative mixing: the fresh-rows recursion (Ferbach et al. 2024; Corollary 3, Figure 10).

docs/theory.md, "Iterative mixing". Round t = 1..T fits ridge (lam) on n1 = p1 n real rows labelled
x.w1 + eps and n2 = p2 n synthetic rows labelled x.w_{t-1} + eps, starting from the synthetic
teacher w_0 = w2 = w1 + delta. With FRESH rows in every round, w_{t-1} is independent of round t's
data, and only its per-direction mean m_j = E (w_t - w1)_j and second moment q_j = E (w_t - w1)_j^2
are carried from round to round. The variant that reuses the real rows has no closed form here
(simulation only: ``simcollapse.simulate.mixing.iterative_error(..., reuse_real=True)``).

The same recursion with p2 = 1 and no shift is the replace loop of ``generations.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from simcollapse._validate import check_broadcast, check_common, check_count, check_range
from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms, Status
from simcollapse.theory._common import exact_terms, raise_if_failed, run_x64
from simcollapse.theory.fixed_points import (
    WIDE_BIG,
    WIDE_SHRINK,
    WIDE_SMALL,
    on_threshold,
    ridge_kappa,
    ridge_kappa_wide,
    threshold_status,
    zero_safe_product,
)

__all__ = [
    "isotropic_iterative_error",
    "isotropic_iterative_limit",
    "iterative_error",
    "iterative_terms",
]


def fresh_rows_recursion(
    s: Array,
    w_sq: Array,
    qd0: Array,
    e: Array,
    q_: Array,
    chi: Array,
    carry: Array,
    energy: Callable[[tuple[Array, ...], Callable[[Array], Array]], tuple[Array, ...]],
    length: int,
    shape: tuple[int, ...],
) -> tuple[Array, Array, Array]:
    """The per-direction mean and second moment carried from one fit on fresh rows to the next.

    The state is m_j = E (w_t - w1)_j and q_j = E (w_t - w1)_j^2 split by source, q = q_w +
    q_sigma + q_Delta, starting from m = 0, q_w = q_sigma = 0, q_Delta = ``qd0`` (Delta, or 0
    without shift). ``carry`` (c: p2 for iterative mixing, beta for golden-ratio weighting) is
    the share of the previous error the mean fit passes on, e = s/(s + kappa), q_ = 1 - e and
    ``chi`` the fluctuation per unit of residual energy; ``energy(state, sq_norm)`` gives the
    residual energy A by source (a_w, a_sigma, a_Delta), sq_norm(v) = sum_j s_j v_j. Then

        q_w' = q_^2 w^2 - 2 c e q_ w m + c^2 e^2 q_w + a_w chi
        q_x' = c^2 e^2 q_x + a_x chi          (x = sigma, Delta)
        m'   = -q_ w + c e m

    with w = sqrt(w1_sq), every product with q or chi zero-safe (inf at the threshold, never NaN).

    Returns:
      bias, variance, zeta = sum_j s_j q_{w,sigma,Delta} after each step, shape + (length,).
    """
    zs = zero_safe_product
    keep = carry * carry * e * e  # the mean fit passes c e of the previous error on
    w = jnp.sqrt(w_sq)  # a representative teacher with the given second moments

    def sq_norm(v: Array) -> Array:
        return jnp.sum(s * v, axis=-1, keepdims=True)

    def step(state: tuple[Array, Array, Array, Array], _: None) -> tuple[tuple[Array, ...], Array]:
        m, qw, qs, qd = state
        a_w, a_s, a_d = energy(state, sq_norm)
        qw_new = q_ * q_ * w_sq - 2.0 * carry * e * q_ * w * m + zs(keep, qw) + zs(a_w, chi)
        qs_new = zs(keep, qs) + zs(a_s, chi)
        qd_new = zs(keep, qd) + zs(a_d, chi)
        m_new = -q_ * w + carry * e * m
        parts = jnp.concatenate([sq_norm(qw_new), sq_norm(qs_new), sq_norm(qd_new)], axis=-1)
        return (m_new, qw_new, qs_new, qd_new), parts

    zeros = jnp.zeros_like(e)
    start = (zeros, zeros, zeros, jnp.broadcast_to(qd0, e.shape))
    _, parts = jax.lax.scan(step, start, None, length=length)
    parts = jnp.moveaxis(parts, 0, 1)  # (P, T, 3)
    bias, variance, zeta = (jnp.reshape(parts[..., i], (*shape, length)) for i in range(3))
    return bias, variance, zeta


def recursion_terms(
    problem: Problem, n: Array, lam: Array, p2: Array, rounds: int, *, shift: bool = True
) -> ErrorTerms:
    """The fresh-rows recursion, split into the parts of the error it propagates.

    Pure and jittable; ``n``, ``lam`` and ``p2`` share one shape A, ``rounds`` is static. Returns
    ErrorTerms of shape A + (rounds,): entry t - 1 is the error after round t. With
    ``shift=False`` the start is w_0 = w1 (the replace loop) instead of w1 + delta.

    The recursion is linear in the three sources w1 (through the ridge bias), sigma^2 and Delta,
    so q = q_w + q_sigma + q_Delta and bias = sum_j s_j q_w, variance = sum_j s_j q_sigma,
    zeta = sum_j s_j q_Delta; at t = 1 these are Theorem 1's three terms.
    """
    shape = jnp.shape(n)
    s, w_sq, dl = problem.eigs, problem.w1_sq, problem.delta_sq
    dtype = s.dtype
    nf, lam, p2 = (jnp.ravel(v).astype(dtype)[:, None] for v in (n, lam, p2))
    fp = ridge_kappa(s, nf[:, 0], lam[:, 0])
    kappa = fp.value[:, None]
    e = s / (s + kappa)  # (P, d)
    df2 = jnp.sum(e * e, axis=-1, keepdims=True)
    # Points the Newton solve cannot resolve in float64 (see ridge's wide path) take kappa from
    # the bisection in log kappa; chunks without any skip it.
    wide = (lam > 0) & (
        (jnp.max(s) + kappa > WIDE_BIG)
        | (jnp.min(s) + kappa < WIDE_SMALL)
        | (1.0 - df2 / nf < WIDE_SHRINK * jnp.maximum(df2 / nf, 1.0))
    )
    kappa = jax.lax.cond(
        jnp.any(wide),
        lambda: jnp.where(wide, ridge_kappa_wide(s, nf[:, 0], lam[:, 0])[:, None], kappa),
        lambda: kappa,
    )
    e = s / (s + kappa)
    q_ = jnp.where(kappa == 0, 0.0, kappa / (s + kappa))  # 1 - e, without its cancellation
    # 1 - df_2/n = lam/kappa + sum e (1 - e)/n at the fixed point (no cancellation); 1 - d/n at 0.
    positive = jnp.where(kappa > 0, kappa, 1.0)
    shrink = jnp.where(
        kappa > 0,
        lam / positive + jnp.sum(e * q_, axis=-1, keepdims=True) / nf,
        1.0 - s.shape[-1] / nf,
    )
    status_fp = jnp.where(wide[:, 0], Status.CONVERGED, fp.status)
    chi = e / (s + kappa) / (nf * shrink)  # s/(n (s+k)^2 (1 - df_2/n)); kappa = 0 is OLS
    p1 = 1.0 - p2
    sigma2 = jnp.asarray(problem.sigma2, dtype)
    zs = zero_safe_product
    ridge_keep, mix = p2 * p2 * q_ * q_, p1 * p2
    w = jnp.sqrt(w_sq)

    def energy(state: tuple[Array, ...], sq_norm: Callable[[Array], Array]) -> tuple[Array, ...]:
        m, qw, qs, qd = state
        # chi is inf at the interpolation threshold (n = d, lam = 0), and so may be q from then
        # on: every product of a coefficient with chi or q is zero-safe (a source that is 0
        # stays 0, never NaN).
        # A_{t-1} = sigma^2 + p1 p2 ||.||^2 + kappa^2 sum s (w^2 + 2 p2 w m + p2^2 q)/(s+k)^2,
        # split by source (the w1 part also carries the mean m, which is linear in w1).
        ridge_w = sq_norm(q_ * q_ * (w_sq + 2.0 * p2 * w * m) + zs(ridge_keep, qw))
        a_w = zs(mix, sq_norm(qw)) + ridge_w
        a_s = sigma2 + zs(mix, sq_norm(qs)) + sq_norm(zs(ridge_keep, qs))
        a_d = zs(mix, sq_norm(qd)) + sq_norm(zs(ridge_keep, qd))
        return a_w, a_s, a_d

    qd0 = dl if shift else jnp.zeros_like(dl)
    bias, variance, zeta = fresh_rows_recursion(s, w_sq, qd0, e, q_, chi, p2, energy, rounds, shape)
    status = threshold_status(status_fp, on_threshold(lam[:, 0], nf[:, 0], s.shape[-1]))
    return exact_terms(bias, variance, zeta, jnp.reshape(status, (*shape, 1)))


def iterative_terms(problem: Problem, n: Array, lam: Array, p2: Array, rounds: int) -> ErrorTerms:
    """Iterative mixing with fresh rows as a pure, jittable function (see ``iterative_error``).

    Example:
      >>> import jax, jax.numpy as jnp, numpy as np, simcollapse as sc
      >>> prob = sc.Problem.isotropic(100, c2=1.0, sigma2=1.0)
      >>> args = jnp.array([400.0]), jnp.array([0.0]), jnp.array([0.5])
      >>> with jax.enable_x64(True):
      ...     terms = iterative_terms(prob, *args, 30)
      >>> ref = iterative_error(prob, 400, 0.0, 0.5, rounds=30)
      >>> bool(np.isclose(terms.total[0, -1], ref.total[-1]))
      True
    """
    return recursion_terms(problem, n, lam, p2, rounds, shift=True)


_iterative_terms_jit = jax.jit(iterative_terms, static_argnums=4)


def iterative_error(
    problem: Problem, n: Any, lam: Any, p2: Any, rounds: int, *, throw: bool = True
) -> ErrorTerms:
    """Test error after each round of iterative mixing with fresh rows (Corollary 3, Figure 10).

    Round t fits ridge on p1 n real rows (labels x.w1 + eps) and p2 n synthetic rows labelled by
    the previous round's model (x.w_{t-1} + eps), w_0 = w1 + delta; fresh design and noise in
    every round. With kappa, e_j = s_j/(s_j + kappa) and df_2 of plain ridge at (n, lam)::

        chi_j = s_j / (n (s_j + kappa)^2 (1 - df_2/n))
        m_j = 0, q_j = Delta_j at t = 0
        A   = sigma^2 + p1 p2 sum_j s_j q_j
              + kappa^2 sum_j s_j (w_j^2 + 2 p2 w_j m_j + p2^2 q_j)/(s_j + kappa)^2
        q_j <- (1-e_j)^2 w_j^2 - 2 p2 e_j (1-e_j) w_j m_j + p2^2 e_j^2 q_j + chi_j A
        m_j <- -(1-e_j) w_j + p2 e_j m_j
        E_t = sum_j s_j q_j

    t = 1 is Theorem 1 (``ridge_error``). Isotropic, lam -> 0, p2 = 1/2: E_t -> 4 sigma^2 phi /
    (3 - 4 phi) for phi = d/n < 3/4, and the iteration diverges for phi >= 3/4
    (``isotropic_iterative_error``). The teacher enters through w_j = sqrt(w1_sq[j]): with a
    random teacher of those second moments the sign pattern does not matter (the w-m cross terms
    only ever pair w_j with itself).

    Args:
      problem: the spectrum, teacher, shift and noise.
      n: sample size(s) per round, >= 1.  lam: penalty(ies) >= 0.  p2: fraction(s) in [0, 1].
      rounds: number of rounds T, an integer >= 1.
      throw: raise FixedPointError if kappa did not converge somewhere.

    Returns:
      ErrorTerms of float64 NumPy arrays of shape broadcast(n, lam, p2) + (rounds,): the last axis
      is the round t = 1..T. bias, variance and zeta are the parts of E_t propagated from the ridge
      bias of w1, from the label noise and from the initial shift delta.

    Raises:
      ValueError: n < 1, lam < 0, p2 outside [0, 1], rounds not an integer >= 1, NaN, shapes that
        do not broadcast.

    Example:
      >>> import simcollapse as sc
      >>> prob = sc.Problem.isotropic(100, c2=1.0, sigma2=1.0)
      >>> err = iterative_error(prob, 400, 0.0, 0.5, rounds=30)
      >>> round(float(err.total[-1]), 3)  # 4 phi/(3 - 4 phi) at phi = 1/4
      0.5
    """
    check_common(problem, n=n, lam=lam, p2=p2)
    rounds = check_count("rounds", rounds)
    check_broadcast(n=n, lam=lam, p2=p2)
    arrays = np.broadcast_arrays(*(np.asarray(v, float) for v in (n, lam, p2)))
    out = run_x64(_iterative_terms_jit, problem, *arrays, rounds)
    if throw:
        raise_if_failed(out, "ridge kappa", n=n, lam=lam)
    return out


def isotropic_iterative_error(phi: Any, p2: Any, c2: Any, sigma2: Any, rounds: int) -> np.ndarray:
    """Closed form of the fresh-rows recursion, isotropic Sigma, lam -> 0, phi = d/n < 1::

        g = phi/(1 - phi),  r = p2^2 + p1 p2 g,  E_0 = c^2
        E_t = r E_{t-1} + sigma^2 g = E_inf + r^t (c^2 - E_inf),  E_inf = sigma^2 g/(1 - r)

    (for r = 1 it is c^2 + t sigma^2 g). p1 = p2 = 1/2: r = 1/(4(1 - phi)), E_inf =
    4 sigma^2 phi/(3 - 4 phi); r >= 1 (phi >= 3/4) makes E_t grow without bound.

    Args:
      phi: d/n in (0, 1).  p2: in [0, 1].  c2, sigma2: >= 0.  rounds: T, an integer >= 1.

    Returns:
      Float64 array of shape broadcast(phi, p2, c2, sigma2) + (rounds,): E_1, ..., E_T.

    Example:
      >>> isotropic_iterative_error(0.25, 0.5, c2=1.0, sigma2=1.0, rounds=3).round(4).tolist()
      [0.6667, 0.5556, 0.5185]
    """
    check_range("phi", phi, 0.0, 1.0, low_open=True, high_open=True)
    check_range("p2", p2, 0.0, 1.0)
    check_range("c2", c2, 0.0)
    check_range("sigma2", sigma2, 0.0)
    rounds = check_count("rounds", rounds)
    phi, p2, c2, sigma2 = (np.asarray(v, np.float64)[..., None] for v in (phi, p2, c2, sigma2))
    g = phi / (1.0 - phi)
    r = p2 * p2 + (1.0 - p2) * p2 * g
    t = np.arange(1, rounds + 1, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        e_inf = sigma2 * g / (1.0 - r)
        out = e_inf + r**t * (c2 - e_inf)
    return np.where(r == 1.0, c2 + t * sigma2 * g, out)


def isotropic_iterative_limit(phi: Any, p2: Any, sigma2: Any) -> np.ndarray:
    """E_inf = sigma^2 g/(1 - r) of ``isotropic_iterative_error``; inf where r >= 1 (divergence).

    p2 = 1/2: 4 sigma^2 phi/(3 - 4 phi) for phi < 3/4, inf for phi >= 3/4.

    Example:
      >>> isotropic_iterative_limit([0.25, 0.75], 0.5, 1.0).round(12).tolist()
      [0.5, inf]
    """
    check_range("phi", phi, 0.0, 1.0, low_open=True, high_open=True)
    check_range("p2", p2, 0.0, 1.0)
    check_range("sigma2", sigma2, 0.0)
    phi, p2, sigma2 = (np.asarray(v, np.float64) for v in (phi, p2, sigma2))
    g = phi / (1.0 - phi)
    r = p2 * p2 + (1.0 - p2) * p2 * g
    with np.errstate(divide="ignore"):
        return np.where(r < 1.0, sigma2 * g / np.where(r < 1.0, 1.0 - r, 1.0), np.inf)
