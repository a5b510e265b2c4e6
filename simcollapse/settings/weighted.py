"""Weighted ridge: loss share alpha on the synthetic rows (Corollary 2)."""

from __future__ import annotations

from simcollapse.settings._params import LAM, P2_SOLVE, N, simulation_of, theory_of
from simcollapse.settings.base import SOLVE, Param, Setting
from simcollapse.simulate import mixing
from simcollapse.theory.weighted import check_weights, weighted_terms

ALPHA = Param("alpha", SOLVE, low=0.0, high=1.0, doc="loss share of the synthetic rows")


SETTING = Setting(
    name="weighted",
    doc="Weighted ridge: row weights (1 - alpha)/p1 on the real rows and alpha/p2 on the "
    "synthetic ones (Corollary 2); alpha = p2 is plain ridge. p2 and alpha enter the fixed "
    "point, so both are solve axes.",
    params=(N, LAM, P2_SOLVE, ALPHA),
    theory_fn=theory_of("weighted_error", ("n", "lam", "p2", "alpha")),
    terms_fn=weighted_terms,
    simulate_fn=simulation_of(mixing.weighted_error, ("n", "lam", "p2", "alpha")),
    check=lambda p: check_weights(p["p2"], p["alpha"]),
    examples=(
        dict(n=[120, 240, 240], lam=[1e-2, 1e-3, 1e-2], p2=[0.5, 0.3, 0.7], alpha=[0.2, 0.6, 0.1]),
    ),
    ridge_case=lambda n, lam: (dict(n=n, lam=lam, p2=0.4, alpha=0.4), 0.4),
)
