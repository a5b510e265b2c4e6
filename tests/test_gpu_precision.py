"""float32 Monte Carlo on an accelerator agrees with float64 at the interpolation threshold.

JAX's default float32 matmul on NVIDIA GPUs uses TF32 products (about 10 bits of mantissa); the
simulation runs its products at full float32 precision (``simulate.driver.matmul_precision``)
unless the user asks for a faster one. At m = n +- 5% with lam = 1e-4 the Gram matrix's condition
number is near 6,000, so a 1e-7 rounding becomes about 1e-3 in the error, well inside the
tolerance below, while TF32's 1e-3 rounding would not be.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

import simcollapse as sc
from simcollapse.simulate.driver import matmul_precision

# |mean32 - mean64| <= 4 combined standard errors + 2% of the float64 value (the float32 draws
# are other draws than the float64 ones: jax.random gives different values per dtype).
REL_TOL = 0.02
N_SE = 4.0
CPU_CHECK = False  # True: run the comparison on a CPU (full float32 there whatever the option)


@pytest.mark.gpu
@pytest.mark.parametrize("ratio", [0.95, 1.05])
def test_float32_matches_float64_near_threshold(ratio):
    assert jax.default_backend() == "gpu" or CPU_CHECK
    assert matmul_precision() == "highest"
    prob = sc.Problem.isotropic(1024, c2=1.0, sigma2=0.25)
    n = 256
    m = int(round(ratio * n))
    args = dict(n=n, m=m, lam=1e-4, p2=[0.0, 0.1], key=0, reps=64)
    f32 = sc.simulate.rp_error(prob, dtype="float32", **args)
    f64 = sc.simulate.rp_error(prob, dtype="float64", **args)
    gap = np.abs(f32.total - f64.total)
    allowed = N_SE * np.hypot(f32.stderr, f64.stderr) + REL_TOL * np.abs(f64.total)
    assert np.all(np.isfinite(f32.total))
    assert np.all(gap <= allowed), (f32.total, f64.total, allowed)


def test_precision_follows_the_users_choice():
    assert matmul_precision() == "highest"
    with jax.default_matmul_precision("tensorfloat32"):
        assert matmul_precision() == "tensorfloat32"
