"""Least squares (lam = 0) at finite n: the exact value or the deterministic equivalent.

docs/theory.md, "Least squares: exact or equivalent". For Gaussian inputs x ~ N(0, Sigma) and
n > d + 1 rows, E (X'X)^{-1} = Sigma^{-1}/(n - d - 1) (the inverse-Wishart mean), so the noise
part of the least-squares error is exactly

    sigma^2 E tr(Sigma (X'X)^{-1}) = sigma^2 d/(n - d - 1)      (any Sigma, any labels' teacher)

where the deterministic equivalent of Theorem 1 at lam = 0 gives sigma^2 d/(n - d). Every
setting takes ``ols`` ("equivalent", the default everywhere, or "exact") and reports the same
number for the same model: ridge at lam = 0 and the first generation of the generation loops
agree under each choice. At n = d + 1 the exact value diverges (inf with ``Status.THRESHOLD``;
0 if sigma^2 = 0).
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms, Status

__all__ = ["OLS_CHOICES", "check_ols", "exact_ols_terms"]

OLS_CHOICES = ("exact", "equivalent")


def check_ols(ols: Any) -> str:
    """The least-squares choice, "exact" or "equivalent"; a ValueError naming ``ols`` otherwise.

    Example:
      >>> check_ols("exact")
      'exact'
    """
    if not isinstance(ols, str) or ols not in OLS_CHOICES:
        raise ValueError(f"ols must be one of {', '.join(OLS_CHOICES)}, got {ols!r}")
    return ols


def exact_ols_terms(
    problem: Problem, n: Any, lam: Any, terms: ErrorTerms, trailing: int = 0
) -> ErrorTerms:
    """``terms`` with the noise part replaced by its exact value where lam = 0 and n > d.

    Pure and jittable. Where lam = 0 and n > d + 1: variance = sigma^2 d/(n - d - 1), bias = 0
    (the least-squares fit of n > d rows is unbiased); n = d + 1: inf with ``Status.THRESHOLD``
    (0 if sigma^2 = 0). The shift part zeta is kept: with synthetic rows (p2 > 0) the total is
    exact in its noise part only; with p2 = 0 the whole total is exact. Elsewhere (lam > 0 or
    n <= d) ``terms`` is returned unchanged.

    Args:
      problem: gives d and sigma^2.
      n, lam: the points of ``terms`` (broadcastable to its leading shape).
      terms: the deterministic equivalent at those points.
      trailing: how many trailing axes (the generation) ``terms`` has beyond the points.

    Returns:
      ErrorTerms of the same shapes.

    Example:
      >>> import numpy as np, simcollapse as sc
      >>> prob = sc.Problem.isotropic(50, sigma2=1.0)
      >>> deq = sc.theory.ridge_error(prob, 60, 0.0, 0.0)
      >>> round(float(deq.total), 4), round(float(exact_ols_terms(prob, 60, 0.0, deq).total), 4)
      (5.0, 5.5556)
    """
    d = problem.eigs.shape[-1]
    n_ = jnp.reshape(jnp.asarray(n, jnp.result_type(float)), np.shape(n) + (1,) * trailing)
    lam_ = jnp.reshape(jnp.asarray(lam), np.shape(lam) + (1,) * trailing)
    ridgeless = lam_ == 0
    exact = ridgeless & (n_ > d + 1)
    edge = ridgeless & (n_ == d + 1)
    noisy = jnp.asarray(problem.sigma2) > 0
    ols = problem.sigma2 * d / jnp.where(exact, n_ - d - 1, 1.0)
    variance = jnp.where(exact, ols, terms.variance)
    variance = jnp.where(edge, jnp.where(noisy, jnp.inf, 0.0), variance)
    bias = jnp.where(exact | edge, 0.0, terms.bias)
    total = bias + variance + terms.zeta
    status = jnp.where(edge & noisy, Status.THRESHOLD, terms.status).astype(terms.status.dtype)
    return ErrorTerms(bias, variance, terms.zeta, total, terms.stderr, status)
