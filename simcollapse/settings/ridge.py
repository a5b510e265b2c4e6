"""Ridge on a real/synthetic mix (Theorem 1): the paper's main setting."""

from __future__ import annotations

from functools import partial

from simcollapse.settings._params import LAM, P2, N, simulation_of, theory_of
from simcollapse.settings.base import Setting
from simcollapse.simulate import engine
from simcollapse.simulate.ridge import ridge_error as simulate_ridge
from simcollapse.theory.ridge import ridge_terms

SETTING = Setting(
    name="ridge",
    doc="Ridge on n rows, the last round(p2 n) labelled by the shifted teacher w1 + delta "
    "(Theorem 1). One fixed point per (n, lam) serves every p2, c2 and sigma2.",
    params=(N, LAM, P2),
    theory_fn=theory_of("ridge_error", ("n", "lam", "p2")),
    terms_fn=ridge_terms,
    # The plain estimator, the "exact" kernel: draw for draw the same numbers as the mixing
    # settings at one round (the conformance checks), common random numbers across settings.
    simulate_fn=simulation_of(partial(simulate_ridge, estimator="plain"), ("n", "lam", "p2")),
    kernels={"exact": engine.ridge_kernel},
    examples=(dict(n=[120, 240, 240], lam=[1e-2, 1e-3, 0.0], p2=[0.3, 0.5, 0.2]),),
    ridge_case=lambda n, lam: (dict(n=n, lam=lam, p2=0.4), 0.4),
)
