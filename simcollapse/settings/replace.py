"""Replace loop: generation k is fitted on fresh rows labelled by generation k - 1 only."""

from __future__ import annotations

from typing import Any

from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms
from simcollapse.settings._params import GENERATIONS, LAM, N
from simcollapse.settings.base import Setting
from simcollapse.simulate import mixing
from simcollapse.simulate.driver import MonteCarlo
from simcollapse.theory.generations import replace_error, replace_terms


def _theory(problem: Problem, p: dict[str, Any], throw: bool) -> ErrorTerms:
    return replace_error(problem, p["n"], p["lam"], p["generations"], throw=throw)


def _simulate(problem: Problem, p: dict[str, Any], mc: MonteCarlo) -> ErrorTerms:
    return mixing.replace_error(problem, p["n"], p["lam"], p["generations"], mc.key, mc.reps,
                                dtype=mc.dtype, batch=mc.batch)  # fmt: skip


SETTING = Setting(
    name="replace",
    doc="Generation k: ridge on n fresh rows labelled x.w_{k-1} + eps, w_0 = w1 (Theorem 1 "
    "fed back generation by generation; exact k sigma^2 d/(n - d - 1) for OLS). The shift "
    "delta is not used. Trailing axis: generation.",
    params=(N, LAM, GENERATIONS),
    theory_fn=_theory,
    terms_fn=replace_terms,
    simulate_fn=_simulate,
    kernels={"exact": mixing.loop_draw},
    trailing="generation",
    examples=(dict(n=[120, 240, 240], lam=[1e-2, 0.0, 1e-1], generations=3),),
    ridge_case=lambda n, lam: (dict(n=n, lam=lam, generations=1), 0.0),
)
