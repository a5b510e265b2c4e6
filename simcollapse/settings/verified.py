"""Verified synthetic data: ridge on real rows plus the synthetic rows a verifier ranks best."""

from __future__ import annotations

from simcollapse.settings._params import LAM, P2_SOLVE, N, simulation_of
from simcollapse.settings.base import SOLVE, Param, Setting
from simcollapse.simulate import verified

KEEP = Param(
    "keep", SOLVE, low=0.0, high=1.0, low_open=True, default=1.0,
    doc="kept fraction of the candidates, in (0, 1]",
)  # fmt: skip
VERIFIER_C2 = Param(
    "verifier_c2", SOLVE, low=0.0, default=0.0, doc="verifier excess risk c_v^2 (0: an oracle)"
)


SETTING = Setting(
    name="verified",
    doc="Ridge on n rows, the last round(p2 n) synthetic: the n2 of round(n2 / keep) "
    "candidates labelled by the shifted teacher w1 + delta whose label is closest to a "
    "verifier's prediction x.w_v, ||w_v - w1||^2_Sigma = verifier_c2 (Feng et al. 2024). "
    "keep = 1 is plain ridge at p2.",
    params=(N, LAM, P2_SOLVE, KEEP, VERIFIER_C2),
    no_theory="no finite-n formula for ridge on verifier-selected rows (the selection couples "
    "the kept rows' noise to the shift); sc.simulate.verified.verified_limit gives the "
    "n -> infinity floor",
    simulate_fn=simulation_of(verified.verified_error, ("n", "lam", "p2", "keep", "verifier_c2")),
    examples=(
        dict(
            n=[120, 240, 240],
            lam=[1e-2, 1e-3, 1e-2],
            p2=[0.3, 0.5, 0.5],
            keep=[0.5, 0.2, 1.0],
            verifier_c2=[0.0, 0.1, 1.0],
        ),
    ),  # fmt: skip
    ridge_case=lambda n, lam: (dict(n=n, lam=lam, p2=0.4, keep=1.0, verifier_c2=0.0), 0.4),
)
