"""Ridge on a real/synthetic mix (Theorem 1): the paper's main setting."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
from jax import Array

from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms
from simcollapse.settings._params import LAM, OLS, P2, N, simulation_of
from simcollapse.settings.base import Setting
from simcollapse.simulate import engine
from simcollapse.simulate.ridge import ridge_error as simulate_ridge
from simcollapse.theory.ols import exact_ols_terms
from simcollapse.theory.ridge import ridge_terms


def _exact_terms(problem: Problem, n: Array, lam: Array, p2: Array) -> ErrorTerms:
    """Theorem 1 with the exact least-squares noise part at lam = 0 (the default ``ols``)."""
    return exact_ols_terms(problem, n, lam, ridge_terms(problem, n, lam, p2))


def _theory(problem: Problem, p: dict[str, Any], throw: bool) -> ErrorTerms:
    from simcollapse import theory as public

    out = public.ridge_error(problem, p["n"], p["lam"], p["p2"], throw=throw)
    if p["ols"] == "equivalent":
        return out
    return public.run_x64(exact_ols_terms, problem, np.asarray(p["n"], float), p["lam"], out)


SETTING = Setting(
    name="ridge",
    doc="Ridge on n rows, the last round(p2 n) labelled by the shifted teacher w1 + delta "
    "(Theorem 1). One fixed point per (n, lam) serves every p2, c2 and sigma2. At lam = 0 "
    "(ols='exact', the default) the noise part is the exact finite-n sigma^2 d/(n - d - 1).",
    params=(N, LAM, P2, OLS),
    theory_fn=_theory,
    terms_fn=_exact_terms,
    # The plain estimator, the "exact" kernel: draw for draw the same numbers as the mixing
    # settings at one round (the conformance checks), common random numbers across settings.
    simulate_fn=simulation_of(partial(simulate_ridge, estimator="plain"), ("n", "lam", "p2")),
    kernels={"exact": engine.ridge_kernel},
    examples=(dict(n=[120, 240, 240], lam=[1e-2, 1e-3, 0.0], p2=[0.3, 0.5, 0.2]),),
    ridge_case=lambda n, lam: (dict(n=n, lam=lam, p2=0.4), 0.4),
)
