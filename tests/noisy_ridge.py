"""A setting in one module: ridge whose synthetic rows carry extra label noise tau2.

The worked example of docs/extending.md. Rows are exchangeable, so the noise part of the ridge
error is (mean noise variance) x (the ridge variance gain) and Theorem 1 gives the theory with
sigma^2 replaced by sigma^2 + p2 tau2 in the variance term.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from simcollapse import FixedPointError
from simcollapse.results import ErrorTerms
from simcollapse.settings import RECOMBINE, SOLVE, Param, Setting
from simcollapse.simulate import driver, engine
from simcollapse.simulate.mixing import fit_columns
from simcollapse.theory import ridge_terms

PARAMS = (
    Param("n", SOLVE, low=1, integer=True, doc="training rows"),
    Param("lam", SOLVE, low=0.0, default=0.0, doc="ridge penalty"),
    Param("p2", RECOMBINE, low=0.0, high=1.0, default=0.0, doc="synthetic fraction"),
    Param("tau2", RECOMBINE, low=0.0, default=0.0, doc="extra noise on the synthetic labels"),
)


def terms(problem: Any, n: Any, lam: Any, p2: Any, tau2: Any) -> ErrorTerms:
    """Pure, jittable: Theorem 1 at unit noise, variance scaled by sigma^2 + p2 tau2."""
    unit = ridge_terms(dataclasses.replace(problem, sigma2=1.0), n, lam, p2)
    variance = unit.variance * (problem.sigma2 + p2 * tau2)
    total = unit.bias + variance + unit.zeta
    return ErrorTerms(unit.bias, variance, unit.zeta, total, jnp.zeros_like(total), unit.status)


def theory(problem: Any, p: dict[str, Any], throw: bool) -> ErrorTerms:
    arrays = np.broadcast_arrays(*(np.asarray(p[k], float) for k in ("n", "lam", "p2", "tau2")))
    with jax.enable_x64(True):
        out = ErrorTerms(*(np.asarray(v) for v in jax.jit(terms)(problem, *arrays)))
    if throw and np.any(out.status != 0):
        raise FixedPointError("the ridge fixed point did not converge (pass throw=False)")
    return out


def kernel(problem: Any, key: Any, lam: Any, n2: Any, tau2: Any, *, n: int, dtype: Any) -> Any:
    """One draw at every point (lam, n2, tau2): (P, 4) errors [bias, variance, zeta, total]."""
    x, eps, delta = engine.draw_data(problem, key, n, dtype)
    xi = jax.random.normal(jax.random.fold_in(key, 17), (n,), dtype)
    s, w1 = jnp.asarray(problem.eigs, dtype), jnp.sqrt(jnp.asarray(problem.w1_sq, dtype))
    syn = (jnp.arange(n)[None, :] >= (n - n2)[:, None]).astype(dtype)  # (P, n)
    teacher = jnp.broadcast_to(x @ w1, syn.shape)
    noise = eps + syn * jnp.sqrt(tau2)[:, None] * xi
    labels = jnp.stack([teacher, noise, syn * (x @ delta)], axis=-1)  # (P, n, 3)
    w = fit_columns(x, labels, lam)  # (P, 3, d): one factorisation for every point
    return engine.real_test_errors(s, w1, w[:, 0] - w1, w[:, 1], w[:, 2])


def simulate(problem: Any, p: dict[str, Any], mc: driver.MonteCarlo) -> ErrorTerms:
    def prepare(group: tuple[int, ...], f: dict[str, np.ndarray]) -> tuple[tuple, dict]:
        n2 = engine.synthetic_rows(group[0], f["p2"])
        return (f["lam"].astype(mc.np_dtype), n2, f["tau2"].astype(mc.np_dtype)), {}

    grid = {k: p[k] for k in ("n", "lam", "p2", "tau2")}
    return driver.run(kernel, problem, grid, mc, prepare=prepare, static={"dtype": mc.np_dtype})


SETTING = Setting(
    name="noisy_ridge",
    doc="Ridge whose synthetic rows carry extra label noise of variance tau2.",
    params=PARAMS,
    theory_fn=theory,
    terms_fn=terms,
    simulate_fn=simulate,
    kernels={"exact": kernel},
    examples=(
        dict(n=[120, 240, 240], lam=[1e-2, 1e-3, 1e-2], p2=[0.3, 0.5, 0.7], tau2=[0.5, 1.0, 2.0]),
    ),  # fmt: skip
    ridge_case=lambda n, lam: (dict(n=n, lam=lam, p2=0.4, tau2=0.0), 0.4),
)
