"""Accumulate loop: generation k is fitted on all k n rows so far, the first n real."""

from __future__ import annotations

from simcollapse.settings._params import GENERATIONS, LAM, N, simulation_of
from simcollapse.settings.base import Setting
from simcollapse.simulate import mixing

SETTING = Setting(
    name="accumulate",
    doc="Generation k: ridge on all k n rows so far (the first n real, each later batch "
    "labelled by the generation before it). Trailing axis: generation.",
    params=(N, LAM, GENERATIONS),
    no_theory="no finite-n formula for ridge; for least squares (lam = 0) "
    "sc.theory.accumulate_ols_error gives the exact finite-n error, "
    "sc.theory.accumulate_reference the n >> d asymptote",
    simulate_fn=simulation_of(mixing.accumulate_error, ("n", "lam", "generations")),
    kernels={"exact": mixing.loop_draw},
    examples=(dict(n=120, lam=[1e-2, 1e-1, 1.0], generations=3),),
    ridge_case=lambda n, lam: (dict(n=n, lam=lam, generations=1), 0.0),
)
