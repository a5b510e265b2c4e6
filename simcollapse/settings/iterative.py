"""Iterative mixing: each round refits on real rows plus rows labelled by the last round."""

from __future__ import annotations

from typing import Any

from simcollapse.settings._params import LAM, P2, ROUNDS, N, simulation_of, theory_of
from simcollapse.settings.base import OPTION, Param, Setting
from simcollapse.simulate import mixing
from simcollapse.theory.iterative import iterative_terms

REUSE = Param("reuse_real", OPTION, default=False, doc="keep the first round's real rows")


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
    theory_fn=theory_of("iterative_error", ("n", "lam", "p2", "rounds")),
    terms_fn=iterative_terms,
    simulate_fn=simulation_of(
        mixing.iterative_error, ("n", "lam", "p2", "rounds"), ("reuse_real",)
    ),
    no_theory=_reused,
    examples=(dict(n=[120, 240, 240], lam=[1e-2, 1e-3, 1e-1], p2=[0.5, 0.3, 0.7], rounds=3),),
    ridge_case=lambda n, lam: (dict(n=n, lam=lam, p2=0.4, rounds=1), 0.4),
)
