"""Deterministic equivalent of weighted ridge on a real/synthetic mix (Section 5, Corollary 2).

docs/theory.md, "Weighted mixing". The estimator weights the n1 real rows by a1 = (1 - alpha)/p1 and
the n2 synthetic rows by a2 = alpha/p2 in the loss (so sum_k p_k a_k = 1; alpha = p2 is plain
ridge). Its test error follows from one scalar fixed point tau (the trace of the weighted
resolvent), solved in float64 under jit like the kappa of Theorem 1.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from simcollapse._validate import check_broadcast, check_common, check_range
from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms
from simcollapse.theory._common import exact_terms, raise_if_failed, run_x64
from simcollapse.theory.fixed_points import (
    df1,
    df2,
    map_points,
    on_threshold,
    ridge_kappa,
    solve_monotone,
    threshold_status,
    zero_safe_product,
)

__all__ = ["WeightedPoint", "check_weights", "weighted_error", "weighted_point", "weighted_terms"]


def _population_weights(p2: Array, alpha: Array) -> tuple[Array, Array, Array, Array]:
    """(p1 a1, p2 a2, a1, a2); a population with no rows gets a_k = 0 (it carries no weight)."""
    p1 = 1.0 - p2
    a1 = jnp.where(p1 > 0, (1.0 - alpha) / jnp.where(p1 > 0, p1, 1.0), 0.0)
    a2 = jnp.where(p2 > 0, alpha / jnp.where(p2 > 0, p2, 1.0), 0.0)
    return p1 * a1, p2 * a2, a1, a2


def _solve_tau(
    eigs: Array, n: Array, lam: Array, pa1: Array, pa2: Array, a1: Array, a2: Array, skip: Array
) -> Any:
    """tau >= 0 with F(tau) = tau mu(tau) - df_1(lam/mu(tau))/n = 0 (increasing in tau).

    Multiplying tau = (1/n) sum_j s_j/(mu s_j + lam) by mu gives tau mu = df_1(kappa)/n with
    kappa = lam/mu: the left side increases in tau and the right side decreases (mu decreases),
    so the root is unique. Bracket: F(0) < 0; for lam > 0 F(tr Sigma/(n lam)) >= 0; when the rows
    with positive weight outnumber d (n_eff = n P+ > d), also F(hi0) >= 0 with
    hi0 = (d/n)/(a_min (P+ - d/n)), because tau mu >= P+ x/(1 + x), x = a_min tau.
    """
    d = eigs.shape[-1]
    pos1, pos2 = a1 > 0, a2 > 0
    p_plus = jnp.where(pos1, pa1 / jnp.where(pos1, a1, 1.0), 0.0) + jnp.where(
        pos2, pa2 / jnp.where(pos2, a2, 1.0), 0.0
    )
    a_min = jnp.minimum(jnp.where(pos1, a1, jnp.inf), jnp.where(pos2, a2, jnp.inf))
    phi = d / n
    enough = p_plus > phi
    hi0 = jnp.where(enough, phi / (a_min * jnp.where(enough, p_plus - phi, 1.0)), jnp.inf)
    hi_lam = jnp.where(lam > 0, jnp.sum(eigs) / (n * jnp.where(lam > 0, lam, 1.0)), jnp.inf)
    hi = jnp.where(skip, 1.0, jnp.minimum(hi0, hi_lam))

    def mu_of(tau: Array) -> Array:
        return pa1 / (1.0 + a1 * tau) + pa2 / (1.0 + a2 * tau)

    def fn(tau: Array) -> Array:
        mu = mu_of(tau)
        return tau * mu - df1(eigs, lam / mu) / n

    return solve_monotone(
        fn,
        jnp.zeros_like(hi),
        hi,
        jnp.where(skip, 0.0, hi),
        skip,
        lambda tau: tau * mu_of(tau) + phi,
    )


class WeightedPoint(NamedTuple):
    """The scalars of Corollary 2's fixed point at a batch of points (each a (C,) array).

    kappa: the effective penalty lam/mu(tau).  gamma: eta df_2(kappa)/(n mu^2), the variance
    gain (1/(1 - gamma) amplifies every fluctuation).  beta = mu_2/mu: the synthetic share of
    the mean fit.  rho = eta_2/eta: the synthetic share of the residual energy.  status: the
    fixed point's ``Status`` (THRESHOLD at n_eff = d, lam = 0).  threshold: that condition.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> with jax.enable_x64(True):
      ...     fp = weighted_point(jnp.ones(10), *(jnp.array([v]) for v in (100.0, 0.1, 0.5, 0.5)))
      >>> fp._fields
      ('kappa', 'gamma', 'beta', 'rho', 'status', 'threshold')
      >>> fp.beta.round(4).tolist(), fp.status.tolist()  # alpha = p2: plain ridge, beta = p2
      ([0.5], [0])
    """

    kappa: Array
    gamma: Array
    beta: Array
    rho: Array
    status: Array
    threshold: Array


def weighted_point(s: Array, nf: Array, lam: Array, p2: Array, alpha: Array) -> WeightedPoint:
    """Solve Corollary 2's fixed point for (C,) points: the scalars the error is built from.

    Pure and jittable (no validation); ``s`` is the (d,) spectrum. See ``weighted_error`` for
    the fixed point and its ridgeless limits; ``weighted_terms`` and the weighted recursion of
    ``theory.golden`` both start from it.

    Example:
      >>> import jax, jax.numpy as jnp, numpy as np
      >>> s = jnp.ones(10)
      >>> with jax.enable_x64(True):
      ...     fp = weighted_point(s, *(jnp.array([v]) for v in (1e6, 0.0, 0.5, 0.5)))
      >>> [round(float(v[0]), 4) for v in (fp.kappa, fp.beta, fp.rho)]  # plain OLS: beta = p2
      [0.0, 0.5, 0.5]
    """
    d = s.shape[-1]
    pa1, pa2, a1, a2 = _population_weights(p2, alpha)
    p_plus = jnp.where(a1 > 0, 1.0 - p2, 0.0) + jnp.where(a2 > 0, p2, 0.0)
    # Rows with positive weight; a count one rounding away from an integer is that integer
    # (n = 1000, p1 = 1 - 0.7 gives 300.00000000000006, which must meet d = 300).
    n_eff = nf * p_plus
    whole = jnp.round(n_eff)
    n_eff = jnp.where(jnp.abs(n_eff - whole) <= 4e-16 * n_eff, whole, n_eff)
    # lam = 0 with n_eff <= d: minimum-norm interpolation of the weighted rows, which does not
    # see the (positive) weights: tau -> infinity and kappa solves df_1(kappa) = n_eff.
    interp = (lam == 0) & (n_eff <= d)
    fp_tau = _solve_tau(s, nf, lam, pa1, pa2, a1, a2, interp)
    tau = fp_tau.value
    fp_int = ridge_kappa(s, jnp.where(interp, n_eff, float(d)), jnp.zeros_like(lam))
    mu1, mu2 = pa1 / (1.0 + a1 * tau), pa2 / (1.0 + a2 * tau)
    eta1, eta2 = mu1 * a1 / (1.0 + a1 * tau), mu2 * a2 / (1.0 + a2 * tau)
    mu, eta = mu1 + mu2, eta1 + eta2
    kappa = jnp.where(interp, fp_int.value, lam / mu)
    f2 = df2(s, kappa)
    gamma = jnp.where(interp, f2 / n_eff, eta * f2 / (nf * mu * mu))
    share = jnp.where(a2 > 0, p2, 0.0) / p_plus
    beta = jnp.where(interp, share, mu2 / mu)
    rho = jnp.where(interp, share, eta2 / eta)
    threshold = on_threshold(lam, n_eff, d)
    status = threshold_status(jnp.where(interp, fp_int.status, fp_tau.status), threshold)
    return WeightedPoint(kappa, gamma, beta, rho, status, threshold)


def weighted_terms(problem: Problem, n: Array, lam: Array, p2: Array, alpha: Array) -> ErrorTerms:
    """Corollary 2 (weighted mixing) as a pure, jittable function: no validation, no float64 switch.

    ``n``, ``lam``, ``p2`` and ``alpha`` must already share one shape (all enter the fixed point).
    See ``weighted_error`` for the formulas.

    Example:
      >>> import jax, jax.numpy as jnp, numpy as np, simcollapse as sc
      >>> prob = sc.Problem.isotropic(50, c2=1.0, sigma2=1.0)
      >>> n, lam, p2, alpha = (jnp.array([v]) for v in (400.0, 1e-2, 0.2, 0.5))
      >>> with jax.enable_x64(True):
      ...     terms = jax.jit(weighted_terms)(prob, n, lam, p2, alpha)
      >>> bool(np.isclose(terms.total[0], weighted_error(prob, 400, 1e-2, 0.2, alpha=0.5).total))
      True
    """
    shape = jnp.shape(n)
    s, w2, dl = problem.eigs, problem.w1_sq, problem.delta_sq
    d = s.shape[-1]
    c2 = jnp.sum(s * dl)

    def per_point(nf: Array, lam: Array, p2: Array, alpha: Array) -> tuple[Array, ...]:
        fp = weighted_point(s, nf, lam, p2, alpha)
        kappa, gamma, beta, rho = fp.kappa, fp.gamma, fp.beta, fp.rho
        e = s / (s + kappa[:, None])
        q = 1.0 - e
        inv = jnp.where(fp.threshold, jnp.inf, 1.0 / (1.0 - gamma))  # inf at n_eff = d, lam = 0
        bias = zero_safe_product(jnp.sum(s * w2 * q * q, axis=-1), inv)
        syn = (
            beta * beta * jnp.sum(s * dl * e * e, axis=-1)
            - 2.0 * beta * rho * gamma * jnp.sum(s * dl * e, axis=-1)
            + rho * gamma * c2
        )
        syn = zero_safe_product(jnp.maximum(syn, 0.0), inv)
        vgain = zero_safe_product(gamma, inv)
        return bias, vgain, syn, fp.status

    flat = tuple(jnp.ravel(v).astype(s.dtype) for v in (n, lam, p2, alpha))
    bias, vgain, zeta, status = (jnp.reshape(x, shape) for x in map_points(per_point, d, *flat))
    variance = zero_safe_product(jnp.asarray(problem.sigma2, s.dtype), vgain)
    return exact_terms(bias, variance, zeta, status)


_weighted_terms_jit = jax.jit(weighted_terms)


def check_weights(p2: Any, alpha: Any) -> None:
    """alpha in [0, 1]; an empty population (p2 = 0 or p2 = 1) cannot carry a positive weight.

    Raises:
      ValueError: alpha outside [0, 1], NaN, or alpha > 0 with p2 = 0 (no synthetic rows to weight)
        or alpha < 1 with p2 = 1 (no real rows).

    Example:
      >>> check_weights([0.0, 0.5, 1.0], [0.0, 0.3, 1.0])  # valid: nothing returned
      >>> check_weights(0.0, 0.3)
      Traceback (most recent call last):
      ...
      ValueError: alpha must be 0 where p2 = 0 (no synthetic rows to weight), got alpha=[0.3]
    """
    check_range("alpha", alpha, 0.0, 1.0)
    check_range("p2", p2, 0.0, 1.0)
    check_broadcast(p2=p2, alpha=alpha)
    p2_b, a_b = np.broadcast_arrays(np.asarray(p2, float), np.asarray(alpha, float))
    if np.any((p2_b == 0) & (a_b > 0)):
        raise ValueError(
            "alpha must be 0 where p2 = 0 (no synthetic rows to weight), "
            f"got alpha={a_b[p2_b == 0]}"
        )
    if np.any((p2_b == 1) & (a_b < 1)):
        raise ValueError(
            f"alpha must be 1 where p2 = 1 (no real rows to weight), got alpha={a_b[p2_b == 1]}"
        )


def _checked_points(problem: Problem, n: Any, lam: Any, p2: Any, alpha: Any) -> list[np.ndarray]:
    """Validate the arguments of ``weighted_error``; (n, lam, p2, alpha) broadcast, as floats."""
    check_common(problem, n=n, lam=lam, p2=p2)
    check_weights(p2, alpha)
    check_broadcast(n=n, lam=lam, p2=p2, alpha=alpha)
    return np.broadcast_arrays(*(np.asarray(v, float) for v in (n, lam, p2, alpha)))


def weighted_error(
    problem: Problem, n: Any, lam: Any, p2: Any, alpha: Any, *, throw: bool = True
) -> ErrorTerms:
    """Test error of weighted ridge on a real/synthetic mix (Section 5, Corollary 2 of the paper).

    Estimator w_hat = (X'AX/n + lam I)^{-1} X'A y/n with row weights a1 = (1 - alpha)/p1 on the
    n1 = p1 n real rows and a2 = alpha/p2 on the n2 = p2 n synthetic rows: alpha is the share of
    the loss put on the synthetic rows, and alpha = p2 is plain ridge (Theorem 1).

    Fixed point (tau = (1/n) tr Sigma R, R the resolvent of the weighted Gram)::

        mu(tau) = sum_k p_k a_k/(1 + a_k tau),  tau = (1/n) sum_j s_j/(mu(tau) s_j + lam),
        kappa = lam/mu(tau)

    (lam = 0, n > d: kappa = 0 and tau solves sum_k p_k a_k tau/(1 + a_k tau) = d/n; lam = 0,
    n < d: tau -> infinity, kappa solves df_1(kappa) = n and the weights drop out: minimum-norm
    interpolation. A population with zero weight is dropped from the row count.) Then, with
    e_j = s_j/(s_j + kappa), mu_k = p_k a_k/(1 + a_k tau), eta_k = p_k a_k^2/(1 + a_k tau)^2::

        gamma = eta df_2(kappa)/(n mu^2),  beta = mu_2/mu,  rho = eta_2/eta
        bias     = kappa^2 sum_j s_j w_j^2/(s_j + kappa)^2 / (1 - gamma)
        variance = sigma^2 gamma/(1 - gamma)
        zeta     = [beta^2 sum_j s_j Delta_j e_j^2 - 2 beta rho gamma sum_j s_j Delta_j e_j
                    + rho gamma c^2] / (1 - gamma)
        total    = bias + variance + zeta

    For n -> infinity at fixed d: total -> alpha^2 c^2 (plus the bias of a fixed lam): every
    fixed alpha in (0, 1] keeps a floor, reweighting does not cure strong model collapse.

    Assumptions: Gaussian inputs, proportional asymptotics (a deterministic equivalent; agrees with
    Monte Carlo to a few percent at d of a few hundred).

    Args:
      problem: the spectrum, teacher, shift and noise.
      n: sample size(s), >= 1.
      lam: ridge penalty(ies), >= 0.
      p2: synthetic fraction(s), in [0, 1].
      alpha: loss weight(s) on the synthetic rows, in [0, 1] (0 where p2 = 0, 1 where p2 = 1).
      throw: raise FixedPointError if tau (or kappa) did not converge somewhere; with False the
        status of each point comes back in ``ErrorTerms.status``.

    Returns:
      ErrorTerms of float64 NumPy arrays with the broadcast shape of (n, lam, p2, alpha); ``zeta``
      holds the synthetic term S.

    Raises:
      ValueError: n < 1, lam < 0, p2 or alpha outside [0, 1], inconsistent (p2, alpha), NaN,
        shapes that do not broadcast.

    Float64 is switched on for this call only (``jax.enable_x64``), whatever the global setting.

    Example:
      >>> import simcollapse as sc
      >>> prob = sc.Problem.isotropic(100, c2=1.0)
      >>> float(weighted_error(prob, 1e7, 0.0, 0.5, 0.2).zeta)  # -> alpha^2 c^2 = 0.04
      0.04...
    """
    out = run_x64(_weighted_terms_jit, problem, *_checked_points(problem, n, lam, p2, alpha))
    if throw:
        raise_if_failed(out, "weighted tau", n=n, lam=lam, p2=p2, alpha=alpha)
    return out
