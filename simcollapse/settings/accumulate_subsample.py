"""Accumulate-subsample loop: generation k is fitted on a fixed-size sample of all rows so far."""

from __future__ import annotations

from simcollapse.settings._params import GENERATIONS, LAM, N, simulation_of
from simcollapse.settings.base import OPTION, Param, Setting
from simcollapse.simulate import mixing

SAMPLE = Param(
    "sample_size", OPTION, low=1, integer=True, default=None, doc="rows per fit (default: n)"
)


SETTING = Setting(
    name="accumulate_subsample",
    doc="As accumulate, but generation k is fitted on sample_size rows (default n) drawn "
    "without replacement from the k n rows so far. Trailing axis: generation.",
    params=(N, LAM, GENERATIONS, SAMPLE),
    no_theory="no closed form for a subsample of the accumulated rows",
    simulate_fn=simulation_of(
        mixing.accumulate_subsample_error, ("n", "lam", "generations"), ("sample_size",)
    ),
    kernels={"exact": mixing.loop_draw},
    examples=(dict(n=120, lam=[1e-2, 1e-1, 1.0], generations=3),),
    ridge_case=lambda n, lam: (dict(n=n, lam=lam, generations=1), 0.0),
)
