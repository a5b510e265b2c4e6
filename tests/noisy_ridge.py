"""A setting in one module: ridge whose synthetic rows carry extra label noise tau2.

The worked example of docs/extending.md (which shows this file whole; tests/test_docs_extending
checks they agree). Rows are exchangeable, so the noise part of the ridge error is (mean noise
variance) x (the ridge variance gain) and Theorem 1 gives the theory with sigma^2 replaced by
sigma^2 + p2 tau2 in the variance term.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from simcollapse.results import ErrorTerms
from simcollapse.settings import RECOMBINE, SOLVE, Param, Setting
from simcollapse.simulate import engine
from simcollapse.simulate.mixing import fit_columns
from simcollapse.theory import exact_terms, ridge_terms

PARAMS = (
    Param("n", SOLVE, low=1, integer=True, doc="training rows"),
    Param("lam", SOLVE, low=0.0, default=0.0, doc="ridge penalty"),
    Param("p2", RECOMBINE, low=0.0, high=1.0, default=0.0, doc="synthetic fraction"),
    Param("tau2", RECOMBINE, low=0.0, default=0.0, doc="extra noise on the synthetic labels"),
)


def terms(problem: Any, n: Any, lam: Any, p2: Any, tau2: Any) -> ErrorTerms:
    """Pure, jittable: Theorem 1 at unit noise, variance scaled by sigma^2 + p2 tau2.

    At lam = 0, n = d ridge_terms reports inf with Status.THRESHOLD; exact_terms keeps it.
    """
    unit = ridge_terms(dataclasses.replace(problem, sigma2=1.0), n, lam, p2)
    variance = unit.variance * (problem.sigma2 + p2 * tau2)
    return exact_terms(unit.bias, variance, unit.zeta, unit.status)


def kernel(problem: Any, key: Any, lam: Any, p2: Any, tau2: Any, *, n: int, dtype: Any) -> Any:
    """One draw at every point (lam, p2, tau2): (P, 4) errors [bias, variance, zeta, total]."""
    x, eps, delta = engine.draw_data(problem, key, n, dtype)
    xi = jax.random.normal(jax.random.fold_in(key, 17), (n,), dtype)
    s, w1 = jnp.asarray(problem.eigs, dtype), jnp.sqrt(jnp.asarray(problem.w1_sq, dtype))
    n2 = jnp.floor(p2 * n + 0.5)  # the last round(p2 n) rows are synthetic
    syn = (jnp.arange(n)[None, :] >= (n - n2)[:, None]).astype(dtype)  # (P, n)
    teacher = jnp.broadcast_to(x @ w1, syn.shape)
    noise = eps + syn * jnp.sqrt(tau2)[:, None] * xi
    labels = jnp.stack([teacher, noise, syn * (x @ delta)], axis=-1)  # (P, n, 3)
    w = fit_columns(x, labels, lam)  # (P, 3, d): one factorisation for every point
    return engine.real_test_errors(s, w1, w[:, 0] - w1, w[:, 1], w[:, 2])


SETTING = Setting.from_terms(
    "noisy_ridge",
    "Ridge whose synthetic rows carry extra label noise of variance tau2.",
    PARAMS,
    terms,
    kernel,
    examples=(
        dict(n=[120, 240, 240], lam=[1e-2, 1e-3, 1e-2], p2=[0.3, 0.5, 0.7], tau2=[0.5, 1.0, 2.0]),
    ),  # fmt: skip
    ridge_case=lambda n, lam: (dict(n=n, lam=lam, p2=0.4, tau2=0.0), 0.4),
)
