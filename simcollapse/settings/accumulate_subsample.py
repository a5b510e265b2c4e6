"""Accumulate-subsample loop: generation k is fitted on a fixed-size sample of all rows so far."""

from __future__ import annotations

from typing import Any

from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms
from simcollapse.settings._params import GENERATIONS, LAM, N
from simcollapse.settings.base import OPTION, Param, Setting
from simcollapse.simulate import mixing
from simcollapse.simulate.driver import MonteCarlo

SAMPLE = Param(
    "sample_size", OPTION, low=1, integer=True, default=None, doc="rows per fit (default: n)"
)


def _simulate(problem: Problem, p: dict[str, Any], mc: MonteCarlo) -> ErrorTerms:
    return mixing.accumulate_subsample_error(
        problem, p["n"], p["lam"], p["generations"], mc.key, mc.reps,
        sample_size=p["sample_size"], dtype=mc.dtype, batch=mc.batch,
    )  # fmt: skip


SETTING = Setting(
    name="accumulate_subsample",
    doc="As accumulate, but generation k is fitted on sample_size rows (default n) drawn "
    "without replacement from the k n rows so far. Trailing axis: generation.",
    params=(N, LAM, GENERATIONS, SAMPLE),
    no_theory="no closed form for a subsample of the accumulated rows",
    simulate_fn=_simulate,
    kernels={"exact": mixing.loop_draw},
    trailing="generation",
    examples=(dict(n=120, lam=[1e-2, 1e-1, 1.0], generations=3),),
    ridge_case=lambda n, lam: (dict(n=n, lam=lam, generations=1), 0.0),
)
