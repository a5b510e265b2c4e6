"""Mixing strategies: theory against the project's own Monte Carlo, and exact reductions.

Tolerance of every comparison: |theory - sim| <= 3 SE + 3% of the theory (as for Theorem 1).
d = 200, power-law spectrum, n = 150 (below d) and n = 600 (above d), four configurations at each n
(8 per formula); every round or generation of each configuration is checked. Fixed seeds. All
configurations at one n share one compiled call. The weighted and replace comparisons take about a
minute on a loaded 2-core CPU and are marked slow; the iterative one and the exact reductions
are not.
"""

from __future__ import annotations

import numpy as np
import pytest

import simcollapse as sc
from simcollapse.simulate import mixing as sim
from simcollapse.theory.generations import replace_error, replace_ols_error
from simcollapse.theory.iterative import iterative_error
from simcollapse.theory.weighted import weighted_error

POWER = sc.Problem.power_law(200, alpha=1.5, source=1.2, c2=0.5, sigma2=0.5)
REPS = 40
SMALL = sc.Problem.power_law(40, alpha=1.2, c2=0.3, sigma2=0.5)


def assert_agree(theory: np.ndarray, total: np.ndarray, stderr: np.ndarray, what: str) -> None:
    gap = np.abs(theory - total)
    tol = 3.0 * stderr + 0.03 * np.abs(theory)
    assert np.all(gap <= tol), f"{what}: theory {theory}, sim {total} +- {stderr}"


# (lam, p2, alpha) per n
WEIGHTED = {
    150: [(1e-2, 0.5, 0.2), (1e-1, 0.5, 0.9), (1e-3, 0.3, 0.6), (1e-2, 0.7, 0.1)],
    600: [(0.0, 0.5, 0.2), (1e-3, 0.5, 0.9), (1e-2, 0.3, 0.05), (0.0, 0.7, 1.0)],
}


@pytest.mark.slow
@pytest.mark.parametrize("n", sorted(WEIGHTED))
def test_weighted_theory_matches_monte_carlo(n: int) -> None:
    lam, p2, alpha = (np.array(v) for v in zip(*WEIGHTED[n], strict=True))
    theory = weighted_error(POWER, n, lam, p2, alpha)
    mc = sim.weighted_error(POWER, n, lam, p2, alpha, key=11, reps=REPS)
    assert_agree(theory.total, mc.total, mc.stderr, f"weighted n={n}")


# (lam, p2) per n, 4 rounds each
ITERATIVE = {
    150: [(1e-2, 0.5), (1e-1, 0.3), (1e-3, 0.7), (1.0, 0.5)],
    600: [(0.0, 0.5), (1e-3, 0.5), (1e-2, 0.3), (0.0, 0.7)],
}


@pytest.mark.parametrize("n", sorted(ITERATIVE))
def test_iterative_theory_matches_monte_carlo(n: int) -> None:
    lam, p2 = (np.array(v) for v in zip(*ITERATIVE[n], strict=True))
    theory = iterative_error(POWER, n, lam, p2, 4)
    mc = sim.iterative_error(POWER, n, lam, p2, 4, key=12, reps=REPS)
    assert_agree(theory.total, mc.total, mc.stderr, f"iterative n={n}")


REPLACE = {150: [1e-3, 1e-2, 1e-1, 1.0], 600: [0.0, 1e-3, 1e-2, 1e-1]}


@pytest.mark.slow
@pytest.mark.parametrize("n", sorted(REPLACE))
def test_replace_theory_matches_monte_carlo(n: int) -> None:
    lam = np.array(REPLACE[n])
    theory = replace_error(POWER, n, lam, 4, ols="exact")
    mc = sim.replace_error(POWER, n, lam, 4, key=13, reps=REPS)
    assert_agree(theory.total, mc.total, mc.stderr, f"replace n={n}")


def test_replace_ols_exact_matches_monte_carlo() -> None:
    """docs/theory.md's check: d = 50, n = 400, 6 generations, k sigma^2 d/(n - d - 1)."""
    iso = sc.Problem.isotropic(50, sigma2=1.0)
    mc = sim.replace_error(iso, 400, 0.0, 6, key=5, reps=128)
    assert_agree(replace_ols_error(iso, 400, 6), mc.total, mc.stderr, "replace OLS")


LAMS = np.array([0.0, 1e-2, 1e-1])  # the exact reductions share n in (30, 90), 5 reps: few compiles
P2S = np.array([0.2, 0.5, 0.8])


@pytest.mark.slow
def test_weighted_at_alpha_p2_is_the_ridge_simulation_draw_for_draw() -> None:
    w = sc.settings.get("weighted").simulate(
        SMALL, sc.MonteCarlo(3, 5), n=90, lam=LAMS, p2=0.3, alpha=0.3
    )
    r = sc.settings.get("ridge").simulate(SMALL, sc.MonteCarlo(3, 5), n=90, lam=LAMS, p2=0.3)
    np.testing.assert_allclose(w.total, r.total, rtol=1e-9)
    w = sim.weighted_error(SMALL, 30, LAMS, P2S, P2S, key=4, reps=5)  # n < d: the dual path
    r = sc.simulate.ridge_error(SMALL, 30, LAMS, P2S, key=4, reps=5, estimator="plain")
    np.testing.assert_allclose(w.total, r.total, rtol=1e-9)


@pytest.mark.parametrize("reuse", [False, True])
def test_one_round_of_iterative_mixing_is_the_mixture_simulation(reuse: bool) -> None:
    for n in (30, 90):
        it = sc.settings.get("iterative").simulate(
            SMALL, sc.MonteCarlo(8, 5), n=n, lam=LAMS, p2=0.5, rounds=2, reuse_real=reuse
        )
        it2 = sim.iterative_error(SMALL, n, LAMS, P2S, 2, key=8, reps=5, reuse_real=reuse)
        r = sc.simulate.ridge_error(SMALL, n, LAMS, 0.5, key=8, reps=5, estimator="plain")
        r2 = sc.simulate.ridge_error(SMALL, n, LAMS, P2S, key=8, reps=5, estimator="plain")
        np.testing.assert_allclose(it.total[:, 0], r.total, rtol=1e-9)
        np.testing.assert_allclose(it2.total[:, 0], r2.total, rtol=1e-9)
        for part in ("bias", "variance", "zeta"):
            np.testing.assert_allclose(
                getattr(it2, part)[:, 0], getattr(r2, part), rtol=1e-9, atol=1e-20
            )


def test_first_generation_of_every_loop_is_training_on_the_teacher_labels() -> None:
    clean = sc.simulate.ridge_error(SMALL, 90, LAMS, 0.0, key=2, reps=5, estimator="plain").total
    rep = sc.settings.get("replace").simulate(
        SMALL, sc.MonteCarlo(2, 5), n=90, lam=LAMS, generations=3
    )
    acc = sc.settings.get("accumulate").simulate(
        SMALL, sc.MonteCarlo(2, 5), n=90, lam=LAMS, generations=3
    )
    sub = sim.accumulate_subsample_error(SMALL, 90, LAMS, 3, key=2, reps=5)
    for out in (rep, acc, sub):
        np.testing.assert_allclose(out.total[:, 0], clean, rtol=1e-9)
        assert out.total.shape == (3, 3) and np.all(out.zeta == 0)
    assert np.all(acc.total[:, -1] < rep.total[:, -1])  # accumulating real rows helps


def test_float32_iterative_simulation_agrees_with_theory() -> None:
    theory = iterative_error(SMALL, 160, 1e-2, 0.5, 3)
    mc = sim.iterative_error(SMALL, 160, 1e-2, 0.5, 3, key=1, reps=64, dtype="float32")
    assert mc.total.dtype == np.float64
    assert_agree(theory.total, mc.total, mc.stderr, "float32 iterative")


@pytest.mark.slow
def test_setting_theory_and_simulation_share_shapes() -> None:
    n = np.array([[30], [90]])
    cases = (("weighted", dict(p2=0.5, alpha=0.2)), ("iterative", dict(p2=0.5, rounds=2)),
             ("replace", dict(generations=3)))  # fmt: skip
    for name, params in cases:
        setting = sc.settings.get(name)
        th = setting.theory(SMALL, n=n, lam=LAMS, **params)
        mc = setting.simulate(SMALL, sc.MonteCarlo(0, 5), n=n, lam=LAMS, **params)
        assert th.total.shape == mc.total.shape
