"""Exact finite-n accumulate theory for least squares against Monte Carlo, both designs."""

from __future__ import annotations

import numpy as np
import pytest

import simcollapse as sc
from simcollapse.theory import accumulate_ols_error


def monte_carlo(d, n, generations, reps, design, n_syn=None, seed=0, spectrum=None):
    """Mean and standard error of ||w_k - w1||_Sigma^2 over ``reps`` runs of the OLS loop."""
    rng = np.random.default_rng(seed)
    n_syn = n if n_syn is None else n_syn
    scale = np.ones(d) if spectrum is None else np.sqrt(spectrum)
    errors = np.zeros((reps, generations))
    for r in range(reps):
        w1 = rng.standard_normal(d)
        x_fixed = rng.standard_normal((n, d)) * scale
        xs, ys, w = [], [], w1
        for k in range(generations):
            size = n if k == 0 else n_syn
            x = x_fixed if design == "fixed" else rng.standard_normal((size, d)) * scale
            xs.append(x)
            ys.append(x @ w + rng.standard_normal(size))
            big_x, big_y = np.concatenate(xs), np.concatenate(ys)
            w = np.linalg.lstsq(big_x, big_y, rcond=None)[0]
            errors[r, k] = np.sum(scale**2 * (w - w1) ** 2)
    return errors.mean(0), errors.std(0, ddof=1) / np.sqrt(reps)


@pytest.mark.parametrize(
    ("design", "n_syn", "spectrum"),
    [("fresh", None, None), ("fixed", None, None), ("fresh", 20, None), ("fixed", None, "power")],
)
def test_accumulate_ols_matches_monte_carlo(design, n_syn, spectrum) -> None:
    d, n, generations = 10, 32, 10
    eigs = None if spectrum is None else np.arange(1, d + 1) ** -1.0
    prob = sc.Problem.isotropic(d, sigma2=1.0)
    theory = accumulate_ols_error(prob, n, generations, design=design, n_synthetic=n_syn)
    mean, se = monte_carlo(d, n, generations, 3000, design, n_syn, spectrum=eigs)
    gap = np.abs(mean - theory) / se
    assert gap.max() < 4.0, (gap.max(), mean, theory)


def test_the_designs_differ_and_the_fixed_one_keeps_the_pi2_over_6_bound() -> None:
    prob = sc.Problem.isotropic(10, sigma2=1.0)
    fresh = accumulate_ols_error(prob, 32, 10)
    fixed = accumulate_ols_error(prob, 32, 10, design="fixed")
    assert np.all(fixed[1:] > fresh[1:]) and fixed[0] == fresh[0]
    assert fixed[-1] < np.pi**2 / 6 * 10 / (32 - 10 - 1)
    replace = sc.theory.replace_ols_error(prob, 32, 10)
    assert replace[-1] > 5 * fixed[-1]  # replace grows linearly, accumulate stays bounded


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(n=11), "n"),
        (dict(design="stale"), "design must be one of fresh, fixed"),
        (dict(design="fixed", n_synthetic=5), "n_synthetic must equal n"),
        (dict(n_synthetic=0), "n_synthetic"),
    ],
)
def test_bad_input_raises(kwargs, match) -> None:
    prob = sc.Problem.isotropic(10, sigma2=1.0)
    with pytest.raises(ValueError, match=match):
        accumulate_ols_error(prob, **({"n": 32, "generations": 3} | kwargs))
