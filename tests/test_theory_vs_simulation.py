"""Theory against the project's own Monte Carlo: |theory - sim| <= 3 SE + 3% of the value.

Each configuration is one (spectrum, n, [m,] lam) with the four synthetic fractions
p2 in {0, 0.01, 0.5, 1}; d >= 200, power-law and isotropic spectra, n below and above d,
lam from 0 to 1, widths below, near and above n. 48 draws per configuration, fixed seeds.

The default test command runs 14 of the 24 configurations: every spectrum, n below and above d
(with lam = 0 on both sides), and widths below, near and above the threshold m = n. The others
are marked slow (``python -m pytest`` runs them all).
"""

from __future__ import annotations

import numpy as np
import pytest

import simcollapse as sc

P2 = np.array([0.0, 0.01, 0.5, 1.0])
REPS = 48
POWER = sc.Problem.power_law(200, alpha=1.5, source=1.2, c2=0.5, sigma2=0.5)
ISO = sc.Problem.isotropic(200, c2=0.4, sigma2=0.5)
TEACHER = sc.Problem.power_law(240, alpha=1.0, source=1.5, sigma2=0.4).with_teacher(600)
PROBLEMS = {"power": POWER, "iso": ISO, "teacher": TEACHER}


def slow(*case: object) -> object:
    """A configuration that only the full run checks (its regime has a default-run twin)."""
    return pytest.param(*case, marks=pytest.mark.slow)


def assert_agree(theory: sc.ErrorTerms, sim: sc.ErrorTerms) -> None:
    tol = 3.0 * sim.stderr + 0.03 * np.abs(theory.total)
    gap = np.abs(theory.total - sim.total)
    assert np.all(gap <= tol), f"theory {theory.total}, sim {sim.total} +- {sim.stderr}"


RIDGE_CASES = [
    ("power", 100, 0.0),
    slow("power", 150, 1e-3),
    ("power", 400, 0.0),
    ("power", 400, 1e-2),
    slow("power", 800, 1.0),
    ("power", 1000, 1e-1),
    ("iso", 120, 0.0),
    slow("iso", 150, 1e-1),
    slow("iso", 500, 0.0),
    ("iso", 600, 1.0),
    ("teacher", 150, 1e-2),
    ("teacher", 700, 0.0),
]


@pytest.mark.parametrize(("name", "n", "lam"), RIDGE_CASES)
def test_ridge_theory_matches_monte_carlo(name: str, n: int, lam: float) -> None:
    problem = PROBLEMS[name]
    theory = sc.theory.ridge_error(problem, n, lam, P2)
    sim = sc.simulate.ridge_error(problem, n, lam, P2, key=n, reps=REPS)
    assert_agree(theory, sim)


RP_CASES = [
    ("power", 400, 100, 0.0),
    ("power", 400, 360, 1e-2),
    ("power", 400, 440, 1e-2),
    slow("power", 400, 800, 0.0),
    slow("power", 150, 600, 1e-3),
    slow("power", 600, 1200, 1.0),
    slow("iso", 300, 60, 0.0),
    ("iso", 300, 280, 1e-1),
    slow("iso", 300, 330, 1e-1),
    ("iso", 150, 400, 0.0),
    ("teacher", 500, 150, 1e-2),
    slow("teacher", 200, 1000, 1e-2),
]


@pytest.mark.parametrize(("name", "n", "m", "lam"), RP_CASES)
def test_rp_theory_matches_monte_carlo(name: str, n: int, m: int, lam: float) -> None:
    problem = PROBLEMS[name]
    theory = sc.theory.rp_error(problem, n, m, lam, P2)
    sim = sc.simulate.rp_error(problem, n, m, lam, P2, key=n + m, reps=REPS)
    assert_agree(theory, sim)


def test_simulated_parts_add_up_and_match_theory_parts() -> None:
    """bias/variance/zeta of the simulation track the theory's parts, and sum to about total."""
    theory = sc.theory.ridge_error(POWER, 500, 1e-2, 0.5)
    sim = sc.simulate.ridge_error(POWER, 500, 1e-2, 0.5, key=3, reps=64)
    for part in ("bias", "variance", "zeta"):
        t, s = getattr(theory, part), getattr(sim, part)
        assert abs(t - s) <= 0.06 * abs(t) + 1e-3, part
    parts = sim.bias + sim.variance + sim.zeta
    assert abs(parts - sim.total) <= 3 * sim.stderr


def test_float32_simulation_agrees_with_theory() -> None:
    """float32 draws and solves (the accelerator setting) meet the same tolerance."""
    theory = sc.theory.ridge_error(POWER, 300, 1e-2, P2)
    sim = sc.simulate.ridge_error(POWER, 300, 1e-2, P2, key=7, reps=REPS, dtype="float32")
    assert sim.total.dtype == np.float64  # results are reported in float64 whatever the draws
    assert_agree(theory, sim)
