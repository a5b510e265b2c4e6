"""Random projections of width m on a real/synthetic mix (Theorem 2)."""

from __future__ import annotations

from typing import Any

from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms
from simcollapse.settings._params import LAM, P2, M, N
from simcollapse.settings.base import Setting
from simcollapse.simulate import engine
from simcollapse.simulate.driver import MonteCarlo
from simcollapse.simulate.random_projection import rp_error as simulate_rp
from simcollapse.theory.random_projection import rp_error, rp_terms


def _theory(problem: Problem, p: dict[str, Any], throw: bool) -> ErrorTerms:
    return rp_error(problem, p["n"], p["m"], p["lam"], p["p2"], throw=throw)


def _simulate(problem: Problem, p: dict[str, Any], mc: MonteCarlo) -> ErrorTerms:
    return simulate_rp(problem, p["n"], p["m"], p["lam"], p["p2"], mc.key, mc.reps,
                       dtype=mc.dtype, batch=mc.batch)  # fmt: skip


SETTING = Setting(
    name="random_projection",
    doc="Ridge on m random features S x, S with N(0, 1/d) entries (Theorem 2). One fixed "
    "point per (n, m, lam) serves every p2, c2 and sigma2.",
    params=(N, M, LAM, P2),
    theory_fn=_theory,
    terms_fn=rp_terms,
    simulate_fn=_simulate,
    kernels={"exact": engine.ridge_kernel},
    examples=(dict(n=[120, 240, 240], m=[30, 90, 40], lam=[1e-2, 1e-2, 1e-3], p2=[0.3, 0.5, 0.2]),),
)
