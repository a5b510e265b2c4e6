"""Golden-ratio weighting: each generation refits on real rows and the last generation's labels,
with a loss weight on each (He, Xu, Cheng 2025)."""

from __future__ import annotations

from simcollapse.settings._params import GENERATIONS, LAM, N, simulation_of, theory_of
from simcollapse.settings.base import SOLVE, Param, Setting
from simcollapse.simulate import mixing
from simcollapse.theory.golden import check_golden, golden_terms

RATIO = Param("ratio", SOLVE, low=0.0, default=1.0, doc="synthetic rows per real row")
REAL_WEIGHT = Param(
    "real_weight", SOLVE, low=0.0, high=1.0, doc="loss share of the real rows (1: real only)"
)

SETTING = Setting(
    name="golden_weighted",
    doc="Generation t = 1..T: ridge on n fresh real rows and ratio n fresh rows labelled by "
    "generation t - 1 (w_0 = w1 + delta), the loss real_weight on the real rows' mean and "
    "1 - real_weight on the synthetic rows' mean (He, Xu, Cheng 2025, arXiv 2502.18049: for "
    "n >> d and equal sizes the best real weight tends to 1/phi = 0.618). Weighted ridge fed "
    "back through the fresh-rows recursion; ratio and real_weight enter the fixed point, so "
    "both are solve axes. Trailing axis: generation.",
    params=(N, LAM, RATIO, REAL_WEIGHT, GENERATIONS),
    theory_fn=theory_of("golden_error", ("n", "lam", "ratio", "real_weight", "generations")),
    terms_fn=golden_terms,
    simulate_fn=simulation_of(
        mixing.golden_error, ("n", "lam", "ratio", "real_weight", "generations")
    ),
    check=lambda p: check_golden(p["ratio"], p["real_weight"]),
    examples=(  # one sample size of N = n (1 + ratio) = 240 rows: one compile
        dict(
            n=[120, 160, 80],
            lam=[1e-2, 1e-3, 1e-1],
            ratio=[1.0, 0.5, 2.0],
            real_weight=[0.6, 0.3, 0.8],
            generations=3,
        ),
        dict(n=120, lam=0.0, ratio=1.0, real_weight=[0.618, 0.9, 0.3], generations=3),
    ),
    ridge_case=lambda n, lam: (
        dict(n=n, lam=lam, ratio=0.0, real_weight=1.0, generations=1),
        0.0,
    ),
)
