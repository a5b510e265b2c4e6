"""Power law with a floor: recovery with intervals, theory curves, sweep tables, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simcollapse as sc
from simcollapse.analysis import FitStatus, fit_curve, fit_power_law

TRUE = {"E_inf": 0.05, "A": 3.0, "a": 0.6}


def _replicates(reps: int, points: int, noise: float, seed: int) -> pd.DataFrame:
    """``reps`` curves E_inf + A n^-a times exp(noise N(0, 1)) (multiplicative noise)."""
    rng = np.random.default_rng(seed)
    n = np.geomspace(10, 1e5, points)
    clean = TRUE["E_inf"] + TRUE["A"] * n ** -TRUE["a"]
    y = clean * np.exp(noise * rng.standard_normal((reps, points)))
    return pd.DataFrame({"rep": np.repeat(np.arange(reps), points), "n": np.tile(n, reps),
                         "total": y.ravel()})  # fmt: skip


def test_intervals_cover_and_estimates_are_unbiased():
    """200 replicates: each 95% interval covers its true parameter >= 90% of the time, and the
    mean estimate is within 3 standard errors (of the mean over replicates) of the truth."""
    reps = 200
    fits = fit_power_law(_replicates(reps, 30, 0.03, seed=1), by="rep", bootstrap=200).fits
    assert (fits.status == FitStatus.OK).all()
    for name, value in TRUE.items():
        covered = ((fits[f"{name}_lo"] <= value) & (value <= fits[f"{name}_hi"])).mean()
        assert covered >= 0.90, (name, covered)
        est = fits[name].to_numpy()
        assert abs(est.mean() - value) <= 3 * est.std(ddof=1) / np.sqrt(reps), name


def test_many_curves_at_once_equal_one_at_a_time():
    table = _replicates(5, 20, 0.05, seed=2)
    together = fit_power_law(table, by="rep", bootstrap=0).fits
    for rep, part in table.groupby("rep"):
        alone = fit_curve(part.n, part.total, bootstrap=0)
        row = together[together.rep == rep].iloc[0]
        for name in TRUE:
            np.testing.assert_allclose(row[name], alone[name], rtol=1e-10, atol=1e-14)


def test_padding_does_not_change_a_fit():
    """A short curve fitted beside a long one (padded with masked rows) equals it fitted alone."""
    table = _replicates(2, 24, 0.05, seed=3)
    short = table[(table.rep == 1)].iloc[::3]
    both = fit_power_law(pd.concat([table[table.rep == 0], short]), by="rep", bootstrap=0).fits
    alone = fit_curve(short.n, short.total, bootstrap=0)
    np.testing.assert_allclose(both[both.rep == 1].a.iloc[0], alone.a, rtol=1e-10)


@pytest.mark.parametrize("p2", [0.001, 0.01, 0.1])
def test_fitted_floor_of_ridgeless_theory_is_p2_squared_c2(p2):
    c2 = 1.0
    prob = sc.Problem.power_law(100, c2=c2, sigma2=1.0)
    n = np.geomspace(200, 1e9, 40)
    total = sc.theory.ridge_error(prob, n, 0.0, p2).total
    fit = fit_curve(n, total, bootstrap=0)
    assert fit.status == FitStatus.OK
    assert abs(fit.E_inf / (p2**2 * c2) - 1) < 0.05


def test_isotropic_ridgeless_clean_curve_has_exponent_one_and_no_floor():
    """sigma^2 d/(n - d) over n in [100 d, 1e6 d]: exponent 1 within 0.02 and a negligible floor.

    The exact curve is not exactly a power law (sigma^2 d/n (1 + d/n + ...)): its best fit has a
    floor of about 0.5% of the smallest error on the range (interval up to 1.5%), and on a
    noiseless curve the row bootstrap measures only that misfit. With Monte Carlo-like noise
    (1%, multiplicative) the interval on the floor contains 0.
    """
    d, sigma2 = 50, 1.0
    n = np.geomspace(100 * d, 1e6 * d, 30)
    exact = sigma2 * d / (n - d)
    fit = fit_curve(n, exact, bootstrap=200)
    assert abs(fit.a - 1.0) < 0.02
    assert fit.E_inf < 0.01 * exact.min() and fit.E_inf_hi < 0.02 * exact.min()
    rng = np.random.default_rng(9)
    noisy = exact * np.exp(0.01 * rng.standard_normal(n.size))
    fit = fit_curve(n, noisy, bootstrap=200)
    assert abs(fit.a - 1.0) < 0.02
    assert fit.E_inf_lo <= 0.0 <= fit.E_inf_hi


@pytest.mark.slow
def test_simulated_sweep_with_stderr_brackets_the_theory_floor():
    """Monte Carlo ridge (lam ~ 0) over n with repetitions: fitted with its standard errors,
    the interval on E_inf contains the floor p2^2 c^2 of the theory."""
    p2, c2, d = 0.3, 1.0, 8
    prob = sc.Problem.isotropic(d, c2=c2, sigma2=0.5)
    n = np.unique(np.geomspace(4 * d, 4000, 10).astype(int))
    # the plain estimator's noise: the conditional one's standard errors are smaller than the gap
    # between a pure power law plus floor and ridge's finite-n curve, which the fit cannot absorb
    sim = sc.simulate.ridge_error(prob, n, 1e-8, p2, key=0, reps=64, estimator="plain")
    table = pd.DataFrame({"n": n, "total": sim.total, "stderr": sim.stderr})
    fit = fit_power_law(table, stderr="stderr", bootstrap=400).fits.iloc[0]
    assert fit.status == FitStatus.OK
    assert fit.E_inf_lo <= p2**2 * c2 <= fit.E_inf_hi


def test_a_single_seed_falls_back_to_the_row_bootstrap():
    """A sweep table carries one seed value: the intervals come from the rows, not zero width."""
    table = _replicates(1, 20, 0.05, seed=9).assign(seed=0)
    fit = fit_power_law(table, bootstrap=100).fits.iloc[0]
    assert fit.a_hi > fit.a_lo
    assert fit.E_inf_hi >= fit.E_inf_lo


def test_seed_column_gives_a_seed_bootstrap():
    """Rows per (n, seed) with noise shared within a seed: resampling seeds (not rows) widens
    the intervals to that shared noise, and they contain the truth."""
    rng = np.random.default_rng(4)
    n = np.geomspace(10, 1e4, 12)
    rows = [
        pd.DataFrame({"seed": s, "n": n, "total": (0.02 + n**-0.8) * np.exp(
            0.05 * rng.standard_normal() + 0.01 * rng.standard_normal(n.size))})
        for s in range(16)
    ]  # fmt: skip
    table = pd.concat(rows)
    by_seed = fit_power_law(table, bootstrap=300).fits.iloc[0]
    by_row = fit_power_law(table.rename(columns={"seed": "run"}), bootstrap=300).fits.iloc[0]
    assert by_seed.E_inf_se > 1.3 * by_row.E_inf_se
    assert by_seed.E_inf_lo <= 0.02 <= by_seed.E_inf_hi
    assert by_seed.a_lo <= 0.8 <= by_seed.a_hi


def test_huber_resists_an_outlier():
    n = np.geomspace(10, 1e5, 25)
    y = TRUE["E_inf"] + TRUE["A"] * n ** -TRUE["a"]
    y[18] *= 3.0
    plain = fit_curve(n, y, bootstrap=0)
    robust = fit_curve(n, y, bootstrap=0, huber=0.05)
    assert abs(robust.E_inf - TRUE["E_inf"]) < 0.2 * abs(plain.E_inf - TRUE["E_inf"])
    assert abs(robust.a - TRUE["a"]) < 0.01


def test_flat_curve_is_not_identifiable():
    n = np.geomspace(10, 1e4, 10)
    fit = fit_curve(n, np.full(n.size, 0.3), bootstrap=0)
    assert fit.status == FitStatus.NOT_IDENTIFIABLE
    assert fit.E_inf == pytest.approx(0.3)


def test_missing_column_is_named():
    table = _replicates(1, 10, 0.01, seed=5)
    with pytest.raises(ValueError, match="by column 'p2'"):
        fit_power_law(table, by=["p2"])
    with pytest.raises(ValueError, match="y column 'loss'"):
        fit_power_law(table, y="loss")
    with pytest.raises(ValueError, match="stderr column 'se'"):
        fit_power_law(table, stderr="se")


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan])
def test_non_positive_errors_name_column_and_curve(bad):
    table = _replicates(2, 10, 0.01, seed=6).assign(se=0.01)
    table.loc[15, "se"] = bad
    with pytest.raises(ValueError, match=r"column 'se' must hold finite values > 0.*curve rep=1"):
        fit_power_law(table, by="rep", stderr="se")


def test_too_few_points_names_the_curve_or_is_flagged():
    table = _replicates(2, 10, 0.01, seed=7)
    table = table[(table.rep == 0) | (table.n < 100)]  # curve rep=1 keeps 3 points
    with pytest.raises(ValueError, match="curve rep=1 has 3 distinct n values"):
        fit_power_law(table, by="rep")
    fits = fit_power_law(table, by="rep", throw=False, bootstrap=20).fits
    assert fits.status.tolist() == [FitStatus.OK, FitStatus.TOO_FEW_POINTS]
    assert np.isnan(fits.E_inf.iloc[1])


@pytest.mark.parametrize(
    "option, value", [("huber", 0.0), ("bootstrap", -1), ("bootstrap", 2.5), ("level", 1.0)]
)
def test_bad_options_are_named(option, value):
    with pytest.raises(ValueError, match=option):
        fit_power_law(_replicates(1, 10, 0.01, seed=8), **{option: value})
