"""Synthetic worth n_eff, plateau onset, best width and ridge penalty on the theory."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simcollapse as sc
from simcollapse.analysis import (
    fit_power_law,
    frontier_keeps_floor,
    optimal_ridge,
    optimal_width,
    plateau_onset,
    plateau_onset_theory,
    synthetic_worth,
    synthetic_worth_fitted,
)

N = np.geomspace(300, 1e9, 12)


@pytest.mark.parametrize("p2, c2", [(0.0, 1.0), (0.3, 0.0)])
def test_n_eff_equals_n_without_synthetic_damage(p2, c2):
    prob = sc.Problem.power_law(100, c2=c2, sigma2=1.0)
    worth = synthetic_worth(prob, N, p2)
    np.testing.assert_allclose(worth.n_eff, N, rtol=1e-8)  # the theory is exact to ~1e-10
    assert np.isinf(worth.ceiling).all()


@pytest.mark.parametrize("lam", [0.0, 1e-3])
def test_n_eff_is_increasing_and_bounded_by_a_finite_ceiling(lam):
    prob = sc.Problem.power_law(100, c2=1.0, sigma2=1.0)
    worth = synthetic_worth(prob, N, 0.1, lam=lam)
    assert (np.diff(worth.n_eff) > 0).all()
    assert (worth.n_eff <= worth.n * (1 + 1e-12)).all()
    ceiling = worth.ceiling.iloc[0]
    assert np.isfinite(ceiling) and (worth.n_eff <= ceiling * (1 + 1e-9)).all()
    assert worth.n_eff.iloc[-1] > 0.99 * ceiling  # reached by n = 1e9


@pytest.mark.parametrize("p2, c2, sigma2", [(0.1, 1.0, 1.0), (0.01, 0.5, 2.0), (0.5, 0.2, 0.3)])
def test_ceiling_is_corollary_one_inverse_at_the_floor(p2, c2, sigma2):
    """Isotropic ridgeless: E_clean(n) = sigma^2 d/(n - d) (Corollary 1 with p2 = 0), so the
    ceiling E_clean^{-1}(p2^2 c^2) = d + sigma^2 d / (p2^2 c^2); so is the plateau onset."""
    d = 80
    prob = sc.Problem.isotropic(d, c2=c2, sigma2=sigma2)
    closed = d + sigma2 * d / (p2**2 * c2)
    clean_at = sc.theory.isotropic_ridgeless_error(d / closed, 0.0, c2, sigma2)
    np.testing.assert_allclose(clean_at, p2**2 * c2, rtol=1e-12)
    worth = synthetic_worth(prob, [2 * d, 1e4 * d], p2)
    np.testing.assert_allclose(worth.ceiling, closed, rtol=1e-6)
    np.testing.assert_allclose(plateau_onset_theory(prob, p2), closed, rtol=1e-9)


def test_n_eff_matches_corollary_one_in_closed_form():
    """E_mix from Corollary 1; E_clean(n_eff) = E_mix by hand gives n_eff = d + sigma^2 d/E_mix."""
    d, p2, c2, sigma2 = 60, 0.2, 1.0, 1.0
    prob = sc.Problem.isotropic(d, c2=c2, sigma2=sigma2)
    n = np.geomspace(2 * d, 1e6, 9)
    e_mix = sc.theory.isotropic_ridgeless_error(d / n, p2, c2, sigma2)
    worth = synthetic_worth(prob, n, p2)
    np.testing.assert_allclose(worth.E_mix, e_mix, rtol=1e-9)
    np.testing.assert_allclose(worth.n_eff, d + sigma2 * d / e_mix, rtol=1e-8)


@pytest.mark.slow
def test_n_eff_from_fitted_curves_agrees_with_theory():
    prob = sc.Problem.power_law(100, c2=1.0, sigma2=1.0)
    n = np.geomspace(1000, 1e8, 30)
    p2 = 0.1
    curves = pd.concat([
        pd.DataFrame({"p2": q, "n": n, "total": sc.theory.ridge_error(prob, n, 0.0, q).total})
        for q in (0.0, p2)
    ])  # fmt: skip
    fits = fit_power_law(curves, by="p2", bootstrap=0).fits.set_index("p2")
    at = n[6::6]  # away from the first points, where d/(n - d) is not yet a power law
    fitted = synthetic_worth_fitted(fits.loc[0.0], fits.loc[p2], at)
    theory = synthetic_worth(prob, at, p2)
    np.testing.assert_allclose(fitted.n_eff, theory.n_eff, rtol=0.05)
    np.testing.assert_allclose(fitted.ceiling, theory.ceiling, rtol=0.05)


def test_plateau_onset_of_a_fit_is_where_it_comes_within_the_factor():
    onset = plateau_onset(0.01, 2.0, 0.5, within=0.1)
    np.testing.assert_allclose(0.01 + 2.0 * onset**-0.5, 1.1 * 0.01, rtol=1e-12)
    assert np.isinf(plateau_onset(0.0, 2.0, 0.5))


@pytest.mark.slow
def test_best_width_beats_every_width_on_a_grid():
    prob = sc.Problem.power_law(60, c2=1.0, sigma2=0.5)
    n = np.array([30.0, 45.0, 120.0, 600.0])
    best = optimal_width(prob, n, 0.2)
    m_grid = np.geomspace(1, 6e4, 400)[None, :]
    grid_err = sc.theory.rp_error(prob, n[:, None], m_grid, 0.0, 0.2, throw=False).total
    usable = np.isfinite(grid_err) & (np.abs(m_grid / n[:, None] - 1) > 1e-3)  # off m = n
    grid_best = np.nanmin(np.where(usable, grid_err, np.nan), axis=1)
    assert (best.E_star.to_numpy() <= grid_best * (1 + 1e-9)).all()
    again = sc.theory.rp_error(prob, n, best.m_star.to_numpy(), 0.0, 0.2).total
    np.testing.assert_allclose(again, best.E_star, rtol=1e-7)  # m* = d sits on the 0/0 limit


def test_frontier_keeps_the_floor_only_with_synthetic_data():
    prob = sc.Problem.power_law(60, c2=1.0, sigma2=0.5)
    out = frontier_keeps_floor(prob, [0.0, 0.1, 0.3])
    assert out.keeps_floor.tolist() == [False, True, True]
    np.testing.assert_allclose(out.E_star_limit.iloc[1:], out.floor.iloc[1:], rtol=1e-3)


def test_best_ridge_penalty_is_the_isotropic_closed_form():
    """Clean isotropic ridge: lam* = sigma^2 d / (n ||w1||^2) at every n."""
    d, sigma2, signal = 100, 0.5, 2.0
    prob = sc.Problem.isotropic(d, c2=1.0, sigma2=sigma2, signal=signal)
    n = np.array([50.0, 100.0, 400.0, 3000.0])
    best = optimal_ridge(prob, n, 0.0)
    np.testing.assert_allclose(best.lam_star, sigma2 * d / (n * signal), rtol=1e-4)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda p: synthetic_worth(p, [50.0, 500.0], 0.1), "n must hold values in \\(100"),
        (lambda p: synthetic_worth(p, 500.0, 1.5), "p2"),
        (lambda p: optimal_width(p, 100.0, 0.1, m_max=50.0), "m_max"),
        (lambda p: optimal_ridge(p, 100.0, 0.1, lam_range=(1.0, 0.1)), "lam_range"),
        (lambda p: plateau_onset(1.0, 1.0, 1.0, within=0.0), "within"),
    ],
)
def test_bad_input_is_named(call, match):
    with pytest.raises(ValueError, match=match):
        call(sc.Problem.isotropic(100))
