"""Random projections of width m on a real/synthetic mix (Theorem 2)."""

from __future__ import annotations

from functools import partial

from simcollapse.settings._params import LAM, P2, M, N, simulation_of, theory_of
from simcollapse.settings.base import Setting
from simcollapse.simulate import engine
from simcollapse.simulate.random_projection import rp_error as simulate_rp
from simcollapse.theory.random_projection import rp_terms

SETTING = Setting(
    name="random_projection",
    doc="Ridge on m random features S x, S with N(0, 1/d) entries (Theorem 2). One fixed "
    "point per (n, m, lam) serves every p2, c2 and sigma2.",
    params=(N, M, LAM, P2),
    theory_fn=theory_of("rp_error", ("n", "m", "lam", "p2")),
    terms_fn=rp_terms,
    # The plain estimator, the "exact" kernel: draw for draw the same numbers as the mixing
    # settings at one round (the conformance checks), common random numbers across settings.
    simulate_fn=simulation_of(partial(simulate_rp, estimator="plain"), ("n", "m", "lam", "p2")),
    kernels={"exact": engine.ridge_kernel},
    examples=(dict(n=[120, 240, 240], m=[30, 90, 40], lam=[1e-2, 1e-2, 1e-3], p2=[0.3, 0.5, 0.2]),),
)
