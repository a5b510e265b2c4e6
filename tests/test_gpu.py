"""GPU checks (skipped where JAX sees no GPU): the accelerator gives the CPU's answers."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import simcollapse as sc

pytestmark = pytest.mark.gpu

POWER = sc.Problem.power_law(256, alpha=1.5, source=1.2, c2=0.5, sigma2=0.5)


def test_theory_on_gpu_equals_cpu() -> None:
    n = np.geomspace(50, 1e5, 40)[:, None]
    lam = np.geomspace(1e-6, 1, 30)[None, :]
    on_gpu = sc.theory.ridge_error(POWER, n, lam, 0.1)
    with jax.default_device(jax.devices("cpu")[0]):
        on_cpu = sc.theory.ridge_error(POWER, n, lam, 0.1)
    np.testing.assert_allclose(on_gpu.total, on_cpu.total, rtol=1e-10)


def test_float32_simulation_on_gpu_matches_theory() -> None:
    p2 = np.array([0.0, 0.1, 0.5])
    theory = sc.theory.ridge_error(POWER, 1024, 1e-2, p2)
    sim = sc.simulate.ridge_error(POWER, 1024, 1e-2, p2, key=0, reps=32, dtype="float32")
    assert np.all(np.abs(sim.total - theory.total) <= 3 * sim.stderr + 0.03 * theory.total)
