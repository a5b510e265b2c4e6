"""Ridge (lam > 0) in the generation loops' fixed design: the two-point deterministic equivalent
(simcollapse.theory.fixed_design) against ridge, the least-squares limit, exact derivatives and
Monte Carlo."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
import pytest

import simcollapse as sc
from simcollapse import theory
from simcollapse.theory.fixed_design import fixed_design_terms, kappa_series, loop_polynomials

POWER = sc.Problem.power_law(60, alpha=1.5, source=1.2, sigma2=0.5)
ISO = sc.Problem.isotropic(60, sigma2=1.0)
LOOPS = {"replace": theory.replace_error, "accumulate": theory.accumulate_error}


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("prob", [POWER, ISO], ids=["power", "iso"])
def test_generation_one_is_ridge(loop: str, prob: sc.Problem) -> None:
    n, lam = np.array([30, 60, 61, 240]), np.array([1e-3, 1e-2, 1e-1, 1.0])
    out = LOOPS[loop](prob, n, lam, 3, design="fixed")
    ridge = theory.ridge_error(prob, n, lam, 0.0)
    np.testing.assert_allclose(out.total[:, 0], ridge.total, rtol=1e-10)
    np.testing.assert_allclose(out.bias[:, 0], ridge.bias, rtol=1e-10)
    np.testing.assert_allclose(out.variance[:, 0], ridge.variance, rtol=1e-10)
    assert np.all(out.status == sc.Status.CONVERGED)


@pytest.mark.parametrize("loop", LOOPS)
def test_lam_to_zero_is_the_least_squares_equivalent(loop: str) -> None:
    n = np.array([90, 120, 240])
    ridge = LOOPS[loop](POWER, n, 1e-8, 10, design="fixed")
    ols = LOOPS[loop](POWER, n, 0.0, 10, design="fixed", ols="equivalent")
    np.testing.assert_allclose(ridge.total, ols.total, rtol=1e-5)
    assert np.all(ridge.bias < 1e-5 * ridge.total)


def _kappa(s: np.ndarray, n: int, ell: mpmath.mpf) -> mpmath.mpf:
    def f(k):
        return k * (1 - sum(sj / (sj + k) for sj in s) / n) - ell

    return mpmath.findroot(f, (mpmath.mpf(0), ell + sum(s) / n), solver="anderson")


def test_series_match_high_precision_derivatives() -> None:
    """Taylor coefficients in z (l = lam/(1 - z)) of kappa, tr[Sigma R A^k] and the two-point
    moments against mpmath's derivatives at 40 digits."""
    mpmath.mp.dps = 40
    s = [mpmath.mpf(x) for x in (3.0, 1.5, 1.0, 0.5, 0.25, 0.1)]
    w2 = [mpmath.mpf(x) for x in (0.5, 1.0, 0.2, 2.0, 1.0, 3.0)]
    n, lam, g = 4, mpmath.mpf("0.2"), 3

    def kappa_z(z):
        return _kappa(s, n, lam / (1 - z))

    want_k = mpmath.taylor(kappa_z, 0, 2 * g - 1)
    want_t = mpmath.taylor(
        lambda z: kappa_z(z) / lam * sum(sj / (sj + kappa_z(z)) for sj in s), 0, 2 * g - 1
    )

    def two(z1, z2):
        k1, k2 = kappa_z(z1), kappa_z(z2)
        num = sum(sj * wj / ((sj + k1) * (sj + k2)) for sj, wj in zip(s, w2, strict=True))
        den = sum(sj * sj / ((sj + k1) * (sj + k2)) for sj in s) / n
        return k1 * k2 * num / (1 - den)

    moments = np.array(
        [
            [float(mpmath.diff(two, (0, 0), (j, k)) / (math.factorial(j) * math.factorial(k)))
             for k in range(g)]
            for j in range(g)
        ]
    )  # fmt: skip
    prob = sc.Problem(np.array(s, float), np.array(w2, float), np.zeros(6), sigma2=0.7)
    with jax.enable_x64(True):
        eigs = jnp.asarray(prob.eigs)
        kap, a, _ = kappa_series(eigs, float(n), float(lam), float(want_k[0]), 2 * g)
        trace = np.convolve(np.asarray(kap) / float(lam), np.asarray(eigs @ a))[: 2 * g]
        out = fixed_design_terms(prob, jnp.array([4.0]), jnp.array([0.2]), g, "accumulate")
    np.testing.assert_allclose(kap, [float(x) for x in want_k], rtol=1e-10)
    np.testing.assert_allclose(trace, [float(x) for x in want_t], rtol=1e-10)
    c, v = loop_polynomials("accumulate", g)
    np.testing.assert_allclose(out.bias[0], np.einsum("tj,jk,tk->t", c, moments, c), rtol=1e-10)
    variance = 0.7 / n * v @ np.array([float(x) for x in want_t])
    np.testing.assert_allclose(out.variance[0], variance, rtol=1e-10)


@pytest.mark.parametrize("loop", LOOPS)
@pytest.mark.parametrize("prob", [POWER, ISO], ids=["power", "iso"])
def test_theory_matches_monte_carlo_over_ten_generations(loop: str, prob: sc.Problem) -> None:
    """Fixed design, 10 generations: within 3.5 SE + 2% (finite-d bias of the equivalent)."""
    setting = sc.settings.get(loop)
    params = dict(n=[120, 240, 120, 240], lam=[1e-2, 1e-2, 1e-1, 1e-1], generations=10)
    th = setting.theory(prob, design="fixed", **params)
    mc = setting.simulate(prob, sc.MonteCarlo(11, 64), design="fixed", **params)
    gap = np.abs(th.total - mc.total)
    assert np.all(gap <= 3.5 * mc.stderr + 0.02 * th.total), (th.total, mc.total, mc.stderr)


@pytest.mark.slow
def test_many_generations_stay_finite_and_ordered() -> None:
    """No cancellation at G = 40: replace grows, accumulate stays below replace."""
    rep = theory.replace_error(POWER, 120, 1e-2, 40, design="fixed")
    acc = theory.accumulate_error(POWER, 120, 1e-2, 40, design="fixed")
    assert np.all(np.isfinite(rep.total)) and np.all(np.diff(rep.total) > 0)
    assert np.all(acc.total[1:] < rep.total[1:])
    assert np.all(acc.bias >= 0) and np.all(acc.variance > 0)


def test_bad_input_raises_naming_the_parameter() -> None:
    with pytest.raises(ValueError, match="lam must be 0 in the fresh design"):
        theory.accumulate_error(POWER, 120, 0.1, 3)
    with pytest.raises(ValueError, match="n must hold integers"):
        theory.accumulate_error(POWER, 120.5, 0.1, 3, design="fixed")
    with pytest.raises(ValueError, match=r"n must hold integers in \[60"):
        theory.accumulate_error(POWER, [30, 120], [0.0, 0.1], 3, design="fixed")
    with pytest.raises(ValueError, match="lam"):
        theory.replace_error(POWER, 120, -0.1, 3, design="fixed")
    with pytest.raises(ValueError, match="generations"):
        theory.accumulate_error(POWER, 120, 0.1, 0, design="fixed")
    with pytest.raises(ValueError, match="mode must be one of replace, accumulate"):
        loop_polynomials("subsample", 3)
