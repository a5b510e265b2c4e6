"""Iterative mixing: each round refits on real rows plus rows labelled by the last round."""

from __future__ import annotations

from typing import Any

from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms
from simcollapse.settings._params import LAM, P2, ROUNDS, N
from simcollapse.settings.base import OPTION, Param, Setting
from simcollapse.simulate import mixing
from simcollapse.simulate.driver import MonteCarlo
from simcollapse.theory.iterative import iterative_error, iterative_terms

REUSE = Param("reuse_real", OPTION, default=False, doc="keep the first round's real rows")


def _theory(problem: Problem, p: dict[str, Any], throw: bool) -> ErrorTerms:
    return iterative_error(problem, p["n"], p["lam"], p["p2"], p["rounds"], throw=throw)


def _simulate(problem: Problem, p: dict[str, Any], mc: MonteCarlo) -> ErrorTerms:
    return mixing.iterative_error(
        problem, p["n"], p["lam"], p["p2"], p["rounds"], mc.key, mc.reps,
        reuse_real=p["reuse_real"], dtype=mc.dtype, batch=mc.batch,
    )  # fmt: skip


def _reused(p: dict[str, Any]) -> str | None:
    if p["reuse_real"]:
        return "iterative mixing with reused real rows has no closed form (reuse_real=True)"
    return None


SETTING = Setting(
    name="iterative",
    doc="Round t = 1..T: ridge on p1 n real rows and p2 n rows labelled by round t - 1 "
    "(w_0 = w1 + delta). Fresh rows every round: the recursion of Corollary 3 (one kappa per "
    "(n, lam), p2 only recombines); reused real rows: simulation only. Trailing axis: round.",
    params=(N, LAM, P2, ROUNDS, REUSE),
    theory_fn=_theory,
    terms_fn=iterative_terms,
    simulate_fn=_simulate,
    kernels={"exact": mixing.iterative_draw},
    no_theory_if=_reused,
    trailing="round",
    examples=(dict(n=[120, 240, 240], lam=[1e-2, 1e-3, 1e-1], p2=[0.5, 0.3, 0.7], rounds=3),),
    ridge_case=lambda n, lam: (dict(n=n, lam=lam, p2=0.4, rounds=1), 0.4),
)
