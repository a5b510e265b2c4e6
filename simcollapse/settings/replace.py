"""Replace loop: generation k is fitted on fresh rows labelled by generation k - 1 only."""

from __future__ import annotations

from typing import Any

import numpy as np

from simcollapse import theory as public
from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms
from simcollapse.settings._params import DESIGN, GENERATIONS, LAM, OLS, N, simulation_of
from simcollapse.settings.base import Setting, SimulationOnly
from simcollapse.simulate import mixing
from simcollapse.theory.generations import replace_terms


def _theory(problem: Problem, p: dict[str, Any], throw: bool) -> ErrorTerms:

    n, lam = np.broadcast_arrays(np.asarray(p["n"]), np.asarray(p["lam"]))
    if p["design"] == "fixed" and np.any((n < problem.d) & (lam == 0)):
        raise SimulationOnly(
            f"setting 'replace' is simulation only: the fixed design at lam = 0 has an exact "
            f"value only for n >= d = {problem.d}"
        )
    return public.replace_error(problem, p["n"], p["lam"], p["generations"],
                                design=p["design"], ols=p["ols"], throw=throw)  # fmt: skip


SETTING = Setting(
    name="replace",
    doc="Generation k: ridge on n rows labelled x.w_{k-1} + eps, w_0 = w1 (Theorem 1 fed back "
    "generation by generation; for OLS the deterministic equivalent k sigma^2 d/(n - d), or the "
    "exact k sigma^2 d/(n - d - 1) in both designs with ols='exact'). Fresh "
    "design: new inputs every generation; fixed design: generation 1's inputs relabelled "
    "(ridge: the two-point deterministic equivalent of a polynomial in the resolvent). "
    "The shift delta is not used. Trailing axis: generation.",
    params=(N, LAM, GENERATIONS, DESIGN, OLS),
    theory_fn=_theory,
    terms_fn=replace_terms,
    simulate_fn=simulation_of(mixing.replace_error, ("n", "lam", "generations"), ("design",)),
    examples=(
        dict(n=[120, 240, 240], lam=[1e-2, 0.0, 1e-1], generations=3, ols="exact"),
        dict(n=[80, 120, 240], lam=[0.0, 0.0, 0.0], generations=3, design="fixed", ols="exact"),
        dict(n=[40, 120, 240], lam=[1e-1, 1e-2, 1e-1], generations=3, design="fixed"),
    ),
    ridge_case=lambda n, lam: (dict(n=n, lam=lam, generations=1), 0.0),
)
