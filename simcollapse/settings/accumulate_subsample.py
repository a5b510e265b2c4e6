"""Accumulate-subsample loop: generation k is fitted on a fixed-size sample of all rows so far."""

from __future__ import annotations

from simcollapse.settings._params import (
    DESIGN,
    GENERATIONS,
    LAM,
    N_SYNTHETIC,
    N,
    simulation_of,
)
from simcollapse.settings.base import OPTION, Param, Setting
from simcollapse.simulate import mixing
from simcollapse.theory.generations import check_design

SAMPLE = Param(
    "sample_size", OPTION, low=1, integer=True, default=None, doc="rows per fit (default: n)"
)


SETTING = Setting(
    name="accumulate_subsample",
    doc="As accumulate, but generation k is fitted on sample_size rows (default n) drawn "
    "without replacement from all rows so far, in the fresh or the fixed design. "
    "Trailing axis: generation.",
    params=(N, LAM, GENERATIONS, SAMPLE, DESIGN, N_SYNTHETIC),
    no_theory="no closed form for a subsample of the accumulated rows, in either design (fresh "
    "inputs or the same inputs relabelled): the sample mixes generations at random, and a "
    "fixed-design sample may repeat an input with different labels",
    simulate_fn=simulation_of(
        mixing.accumulate_subsample_error,
        ("n", "lam", "generations"),
        ("sample_size", "design", "n_synthetic"),
    ),
    check=lambda p: check_design(p["design"], p["n"], p["n_synthetic"]),
    examples=(dict(n=120, lam=[1e-2, 1e-1, 1.0], generations=3),),
    ridge_case=lambda n, lam: (dict(n=n, lam=lam, generations=1), 0.0),
)
