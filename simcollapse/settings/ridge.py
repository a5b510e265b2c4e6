"""Ridge on a real/synthetic mix (Theorem 1): the paper's main setting."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import numpy as np

from simcollapse import theory as public
from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms
from simcollapse.settings._params import LAM, OLS, P2, N, simulation_of
from simcollapse.settings.base import FastPath, Setting
from simcollapse.simulate import engine
from simcollapse.simulate.grid import threshold_status
from simcollapse.simulate.ridge import ridge_error as simulate_ridge
from simcollapse.theory import ols as exact_ols
from simcollapse.theory._common import run_x64
from simcollapse.theory.ridge import ridge_terms


def _theory(problem: Problem, p: dict[str, Any], throw: bool) -> ErrorTerms:
    out = public.ridge_error(  # looked up at call time, as theory_of does
        problem, p["n"], p["lam"], p["p2"], throw=throw
    )
    if p["ols"] == "equivalent":
        return out
    n = np.asarray(p["n"], float)
    return run_x64(exact_ols.exact_ols_terms, problem, n, p["lam"], out)


def ridge_outer(const: Any, n: Any, lam: Any) -> ErrorTerms:
    """Theorem 1 at solve points (n, lam), shape (P,), times every p2 of ``const = (problem,
    p2)``: ErrorTerms of shape (P, p2.size), one fixed point per (n, lam).

    Example:
      >>> import jax, numpy as np, simcollapse as sc
      >>> prob = sc.Problem.isotropic(20, c2=1.0)
      >>> p2 = np.array([0.0, 0.3, 1.0])
      >>> with jax.enable_x64(True):
      ...     out = ridge_outer((prob, p2), np.array([40.0]), np.array([0.1]))
      >>> out.total.shape
      (1, 3)
    """
    unit, p2 = const
    return ridge_terms(unit, n[:, None], lam[:, None], p2[None, :])


def prepare_draws(
    shape: Mapping[str, int], points: Mapping[str, np.ndarray], dtype: Any
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The ridge kernel's inputs at one simulated shape: the distinct lam and synthetic row
    counts n2 = round(p2 n) of the points with each point's index, and the width m of a
    projection (None: the raw features).

    Example:
      >>> import numpy as np
      >>> arrays, static = prepare_draws({"n": 10}, {"lam": np.array([0.1, 0.1]),
      ...                                 "p2": np.array([0.0, 0.5])}, np.float32)
      >>> [a.tolist() for a in arrays[1:]], static
      ([[0, 5], [0, 0], [0, 1]], {'m': None})
    """
    n2 = engine.synthetic_rows(shape["n"], points["p2"])
    return engine.ridge_arrays(points["lam"], n2, dtype), {"m": shape.get("m")}


# One fixed point per (n, lam) serves every p2; one factorisation per draw and n every (lam, p2).
FAST_PATH = FastPath(
    solve=("n", "lam"), outer=ridge_outer, shape_axes=("n",), kernel=engine.ridge_kernel,
    prepare=prepare_draws, status=threshold_status,
)  # fmt: skip

SETTING = Setting(
    name="ridge",
    doc="Ridge on n rows, the last round(p2 n) labelled by the shifted teacher w1 + delta "
    "(Theorem 1). One fixed point per (n, lam) serves every p2, c2 and sigma2. "
    "ols='exact' gives the exact finite-n noise part sigma^2 d/(n - d - 1) at lam = 0.",
    params=(N, LAM, P2, OLS),
    theory_fn=_theory,
    terms_fn=ridge_terms,
    # The plain estimator, the "exact" kernel: draw for draw the same numbers as the mixing
    # settings at one round (the conformance checks), common random numbers across settings.
    simulate_fn=simulation_of(partial(simulate_ridge, estimator="plain"), ("n", "lam", "p2")),
    examples=(dict(n=[120, 240, 240], lam=[1e-2, 1e-3, 0.0], p2=[0.3, 0.5, 0.2]),),
    ridge_case=lambda n, lam: (dict(n=n, lam=lam, p2=0.4), 0.4),
    fast_path=FAST_PATH,
)
