"""Replace loop: generation k is fitted on fresh rows labelled by generation k - 1 only."""

from __future__ import annotations

from simcollapse.settings._params import GENERATIONS, LAM, N, simulation_of, theory_of
from simcollapse.settings.base import Setting
from simcollapse.simulate import mixing
from simcollapse.theory.generations import replace_terms

SETTING = Setting(
    name="replace",
    doc="Generation k: ridge on n fresh rows labelled x.w_{k-1} + eps, w_0 = w1 (Theorem 1 "
    "fed back generation by generation; exact k sigma^2 d/(n - d - 1) for OLS). The shift "
    "delta is not used. Trailing axis: generation.",
    params=(N, LAM, GENERATIONS),
    theory_fn=theory_of("replace_error", ("n", "lam", "generations")),
    terms_fn=replace_terms,
    simulate_fn=simulation_of(mixing.replace_error, ("n", "lam", "generations")),
    kernels={"exact": mixing.loop_draw},
    examples=(dict(n=[120, 240, 240], lam=[1e-2, 0.0, 1e-1], generations=3),),
    ridge_case=lambda n, lam: (dict(n=n, lam=lam, generations=1), 0.0),
)
