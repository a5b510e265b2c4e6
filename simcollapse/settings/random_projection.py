"""Random projections of width m on a real/synthetic mix (Theorem 2)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from simcollapse.results import ErrorTerms
from simcollapse.settings._params import LAM, P2, M, N, simulation_of, theory_of
from simcollapse.settings.base import (
    FastPath,
    Setting,
    features_draw_bytes,
    features_draw_flops,
)
from simcollapse.settings.ridge import prepare_draws
from simcollapse.simulate import engine
from simcollapse.simulate.grid import threshold_status
from simcollapse.simulate.random_projection import rp_error as simulate_rp
from simcollapse.theory.random_projection import rp_terms


def rp_outer(const: Any, n: Any, m: Any, lam: Any) -> ErrorTerms:
    """Theorem 2 at solve points (n, m, lam), shape (P,), times every p2 of ``const =
    (problem, p2)``: ErrorTerms of shape (P, p2.size), one fixed point per (n, m, lam).

    Example:
      >>> import jax, numpy as np, simcollapse as sc
      >>> prob = sc.Problem.isotropic(20, c2=1.0)
      >>> with jax.enable_x64(True):
      ...     out = rp_outer((prob, np.array([0.0, 0.5])), np.array([40.0]), np.array([10.0]),
      ...                    np.array([0.1]))
      >>> out.total.shape
      (1, 2)
    """
    unit, p2 = const
    return rp_terms(unit, n[:, None], m[:, None], lam[:, None], p2[None, :])


def draw_flops(d: int, shape: Mapping[str, int], points: int) -> float:
    """One draw on m projected features: the projection (2 n d m) and ridge on k = m features
    (``features_draw_flops``)."""
    n, k = float(shape["n"]), float(shape["m"])
    return features_draw_flops(n, float(d), k, points, projection=2.0 * n * d * k)


def draw_bytes(d: int, shape: Mapping[str, int], points: int, itemsize: int) -> int:
    """Peak bytes of one draw on m projected features (``features_draw_bytes``, k = m)."""
    return features_draw_bytes(int(shape["n"]), d, int(shape["m"]), points, itemsize)


# One fixed point per (n, m, lam) serves every p2; one factorisation per draw and (n, m) every
# (lam, p2): ridge's kernel inputs, with the width m static.
FAST_PATH = FastPath(
    solve=("n", "m", "lam"), outer=rp_outer, shape_axes=("n", "m"), kernel=engine.ridge_kernel,
    prepare=prepare_draws, status=threshold_status, draw_flops=draw_flops, draw_bytes=draw_bytes,
)  # fmt: skip

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
    examples=(dict(n=[120, 240, 240], m=[30, 90, 40], lam=[1e-2, 1e-2, 1e-3], p2=[0.3, 0.5, 0.2]),),
    fast_path=FAST_PATH,
)
