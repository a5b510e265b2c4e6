"""Golden-ratio weighting: reductions, the n >> d limit, the optimal weight and Monte Carlo."""

from __future__ import annotations

import numpy as np
import pytest

import simcollapse as sc
from simcollapse.simulate import mixing
from simcollapse.theory.golden import (
    INV_PHI,
    golden_error,
    golden_reference,
    optimal_weight,
    optimal_weight_limit,
)
from simcollapse.theory.iterative import iterative_error
from simcollapse.theory.weighted import weighted_error

POWER = sc.Problem.power_law(60, alpha=1.5, source=1.2, c2=0.5, sigma2=0.5)
ISO = sc.Problem.isotropic(10, c2=0.0, sigma2=1.0)
RTOL = 1e-9


@pytest.mark.parametrize("ratio", [0.5, 1.0, 2.0])
def test_generation_one_is_weighted_mixing(ratio: float) -> None:
    """Generation 1 is Corollary 2 on N = n (1 + ratio) rows, p2 = ratio/(1 + ratio)."""
    n, lam, w = np.array([40.0, 120.0, 500.0]), np.array([0.0, 1e-3, 1e-1]), 0.7
    g = golden_error(POWER, n[:, None], lam[None, :], ratio, w, generations=2)
    ref = weighted_error(POWER, n[:, None] * (1 + ratio), lam[None, :], ratio / (1 + ratio), 1 - w)
    np.testing.assert_allclose(g.total[..., 0], ref.total, rtol=1e-8)


@pytest.mark.parametrize("lam", [1e-3, 1e-1])
def test_row_proportional_weight_is_iterative_mixing(lam: float) -> None:
    """real_weight = 1/(1 + ratio) weighs every row alike: iterative mixing on N rows."""
    n, ratio, rounds = 80.0, 1.0, 5
    g = golden_error(POWER, n, lam, ratio, 1 / (1 + ratio), generations=rounds)
    it = iterative_error(POWER, n * (1 + ratio), lam, ratio / (1 + ratio), rounds)
    np.testing.assert_allclose(g.total, it.total, rtol=1e-7)


@pytest.mark.parametrize("w", [0.3, INV_PHI, 0.9])
@pytest.mark.parametrize("ratio", [0.5, 1.0])
def test_large_n_ols_is_the_scalar_recursion(w: float, ratio: float) -> None:
    """lam = 0, n = 10^6 >> d = 10: E_t = (1-w)^2 E_{t-1} + sigma^2 d (w^2/n + (1-w)^2/n_s)."""
    prob = sc.Problem.isotropic(10, c2=0.3, sigma2=1.0)
    g = golden_error(prob, 1e6, 0.0, ratio, w, generations=12)
    ref = golden_reference(prob, 1e6, ratio, w, generations=12)
    np.testing.assert_allclose(g.total, ref, rtol=3e-4)  # the difference is O(d/n_s) = 2e-5


def test_reference_limit_is_smallest_at_the_root() -> None:
    """E_inf(w) of the reference is smallest at ratio w^2 + w - 1 = 0 (1/phi at equal sizes)."""
    ratio = np.array([0.25, 1.0, 4.0])
    w_star = optimal_weight_limit(ratio)
    np.testing.assert_allclose(ratio * w_star**2 + w_star - 1, 0.0, atol=1e-14)
    assert abs(w_star[1] - INV_PHI) < 1e-15
    far = 400  # generations: the limit
    for r, w in zip(ratio, w_star, strict=True):
        around = np.array([w - 1e-3, w, w + 1e-3])
        e = golden_reference(ISO, 1e4, r, around, far)[:, -1]
        assert e[1] < e[0] and e[1] < e[2]


def test_optimal_weight_tends_to_inverse_golden_ratio() -> None:
    """n >> d, lam = 0, equal sizes: the generation-T optimum approaches 1/phi as T grows."""
    w = optimal_weight(ISO, 1e6, 0.0, 25, all_generations=True)
    assert w.shape == (25,)
    gaps = np.abs(w - INV_PHI)
    assert gaps[-1] < 1e-4
    assert gaps[0] > 0.05  # generation 1 from w_0 = w1 (c^2 = 0): synthetic as good as real
    assert np.all(np.diff(gaps[2:]) <= 1e-6)  # and then closer every generation


@pytest.mark.slow  # about a minute on a loaded 2-core CPU
def test_optimal_weight_is_the_grid_minimum() -> None:
    """The refined optimum beats every point of a fine grid, at every generation (ridge)."""
    n, lam, t = 150.0, 1e-2, 4
    w = optimal_weight(POWER, n, lam, t, all_generations=True)
    grid = np.linspace(0.0, 1.0, 401)
    e_grid = golden_error(POWER, n, lam, 1.0, grid, generations=t).total  # (401, T)
    e_opt = golden_error(POWER, n, lam, 1.0, w, generations=t).total  # (T, T)
    for k in range(t):
        assert e_opt[k, k] <= e_grid[:, k].min() * (1 + 1e-12)
        assert abs(w[k] - grid[np.argmin(e_grid[:, k])]) <= 2.5e-3
    assert optimal_weight(POWER, n, lam, t) == pytest.approx(w[-1], abs=1e-12)


def test_monte_carlo_matches_theory() -> None:
    """d = 30, n = 120 real + 120 synthetic rows, 3 generations: within 3 SE + 3%."""
    prob = sc.Problem.power_law(30, alpha=1.5, source=1.2, c2=0.5, sigma2=0.5)
    w = np.array([0.3, INV_PHI, 0.9])
    th = golden_error(prob, 120, 1e-2, 1.0, w, generations=3)
    mc = mixing.golden_error(prob, 120, 1e-2, 1.0, w, generations=3, key=3, reps=96)
    assert mc.total.shape == th.total.shape == (3, 3)
    assert np.all(np.abs(mc.total - th.total) <= 3 * mc.stderr + 0.03 * th.total)


def test_monte_carlo_generation_one_is_weighted_draw_for_draw() -> None:
    """Generation 1 of the Monte Carlo is the weighted-mixing Monte Carlo on the same draws."""
    prob = sc.Problem.isotropic(20, c2=0.5, sigma2=0.5)
    g = mixing.golden_error(prob, 60, 1e-2, 1.0, 0.7, generations=2, key=5, reps=8)
    w = mixing.weighted_error(prob, 120, 1e-2, 0.5, 0.3, key=5, reps=8)
    np.testing.assert_allclose(g.total[0], w.total, rtol=1e-8)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(ratio=1.0, real_weight=1.5), "real_weight"),
        (dict(ratio=-1.0, real_weight=0.5), "ratio"),
        (dict(ratio=0.0, real_weight=0.5), "real_weight must be 1 where ratio = 0"),
    ],
)
def test_bad_input_raises(kwargs: dict[str, float], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        golden_error(ISO, 100, 0.0, generations=2, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(n=[100, 200]), "n must be a single number"),
        (dict(ratio=0.0), "ratio"),
        (dict(grid=2), "grid"),
        (dict(tol=0.0), "tol"),
        (dict(generations=0), "generations"),
    ],
)
def test_optimal_weight_bad_input(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = dict(n=100, lam=0.0, generations=2)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        optimal_weight(ISO, **args)  # type: ignore[arg-type]


def test_top_level_export() -> None:
    assert sc.optimal_weight is optimal_weight
    assert sc.theory.optimal_weight is optimal_weight
