"""Theory of the mixing strategies: known limits, closed forms and reductions (no simulation)."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import simcollapse as sc
from simcollapse.theory.generations import (
    accumulate_reference,
    replace_error,
    replace_ols_error,
)
from simcollapse.theory.iterative import (
    isotropic_iterative_error,
    isotropic_iterative_limit,
    iterative_error,
)
from simcollapse.theory.weighted import weighted_error, weighted_terms

POWER = sc.Problem.power_law(200, alpha=1.5, source=1.2, c2=0.5, sigma2=0.5)
TEACHER = sc.Problem.power_law(150, alpha=1.0, source=1.5, sigma2=0.4).with_teacher(500)
N = np.array([60.0, 150.0, 199.0, 260.0, 800.0, 5000.0])[:, None]
LAM = np.array([0.0, 1e-4, 1e-2, 1.0])[None, :]
RTOL = 1e-9


@pytest.mark.parametrize("problem", [POWER, TEACHER], ids=["power", "teacher"])
@pytest.mark.parametrize("p2", [0.1, 0.5, 0.9])
def test_alpha_equal_p2_is_theorem_1(problem: sc.Problem, p2: float) -> None:
    """a1 = a2 = 1: every term of Corollary 2 equals Theorem 1's (lam = 0 included)."""
    w = weighted_error(problem, N, LAM, p2, p2)
    r = sc.theory.ridge_error(problem, N, LAM, p2)
    for part in ("bias", "variance", "zeta", "total"):
        np.testing.assert_allclose(getattr(w, part), getattr(r, part), rtol=RTOL, atol=1e-14)


@pytest.mark.parametrize("p2", [0.25, 0.5, 0.8])
def test_alpha_zero_is_ridge_on_the_real_rows_alone(p2: float) -> None:
    """alpha = 0 puts the whole loss on the n1 = p1 n real rows: ridge on n1 clean rows."""
    w = weighted_error(POWER, N, LAM, p2, 0.0)
    r = sc.theory.ridge_error(POWER, (1 - p2) * N, LAM, 0.0)
    np.testing.assert_allclose(w.total, r.total, rtol=RTOL)
    assert np.all(w.zeta == 0.0)


@pytest.mark.parametrize("p2", [0.25, 0.5, 0.8])
def test_alpha_one_is_ridge_on_the_synthetic_rows_alone(p2: float) -> None:
    """alpha = 1: ridge on the n2 synthetic rows only, i.e. Theorem 1 at (n2, p2 = 1)."""
    w = weighted_error(POWER, N, LAM, p2, 1.0)
    r = sc.theory.ridge_error(POWER, p2 * N, LAM, 1.0)
    np.testing.assert_allclose(w.total, r.total, rtol=1e-8)


def test_alpha_one_ridgeless_limits() -> None:
    """a1 -> 0, lam = 0, n2 > d: S -> c^2 and V -> sigma^2 (d/n2)/(1 - d/n2) (docs/theory.md)."""
    w = weighted_error(POWER, 1000, 0.0, 0.5, 1.0)
    phi = 200 / 500
    assert w.zeta == pytest.approx(POWER.c2, rel=1e-10)
    assert w.variance == pytest.approx(POWER.sigma2 * phi / (1 - phi), rel=1e-10)


@pytest.mark.parametrize("alpha", [0.05, 0.3, 1.0])
def test_weighted_floor_is_alpha_squared_c2(alpha: float) -> None:
    """n -> infinity at fixed d: tau -> 0, beta -> alpha, gamma -> 0, S -> alpha^2 c^2."""
    w = weighted_error(POWER, 1e9, 0.0, 0.5, alpha)
    assert w.zeta == pytest.approx(alpha**2 * POWER.c2, rel=1e-5)


def test_optimal_alpha_decays_like_one_over_n() -> None:
    """alpha*(n) ~ sigma^2 d/(n1 c^2) -> 0: n x 4 divides alpha* by about 4 (docs/theory.md)."""
    grid = np.geomspace(1e-5, 1.0, 400)
    n = np.array([16.0, 64.0, 256.0]) * 200
    err = weighted_error(POWER, n[:, None], 1e-3, 0.5, grid[None, :])
    best = grid[np.argmin(err.total, axis=1)]
    ratios = best[:-1] / best[1:]
    assert np.all((ratios > 2.8) & (ratios < 5.0)), best


def test_weighted_is_jittable_and_reports_status() -> None:
    """weighted_terms runs under jit (float64 inside enable_x64) and matches the wrapper."""
    n = np.array([100.0, 400.0])
    with jax.enable_x64(True):
        out = jax.jit(weighted_terms)(POWER, n, np.full(2, 1e-2), np.full(2, 0.5), np.full(2, 0.2))
    ref = weighted_error(POWER, n, 1e-2, 0.5, 0.2)
    np.testing.assert_allclose(np.asarray(out.total), ref.total, rtol=1e-12)
    assert np.all(np.asarray(out.status) == 0)


def test_weighted_threshold_is_inf_not_nan() -> None:
    """lam = 0 at n_eff = d: the error is infinite (no silent NaN), status THRESHOLD."""
    w = weighted_error(POWER, 200, 0.0, 0.5, 0.3, throw=False)
    assert np.isinf(w.total) and w.status == sc.Status.THRESHOLD


@pytest.mark.parametrize("problem", [POWER, TEACHER], ids=["power", "teacher"])
def test_one_round_of_iterative_mixing_is_the_unweighted_mixture(problem: sc.Problem) -> None:
    it = iterative_error(problem, N, LAM, 0.3, 3)
    r = sc.theory.ridge_error(problem, N, LAM, 0.3)
    for part in ("bias", "variance", "zeta", "total"):
        np.testing.assert_allclose(getattr(it, part)[..., 0], getattr(r, part), rtol=RTOL)
    assert it.total.shape == (6, 4, 3)


@pytest.mark.parametrize("p2", [0.3, 0.5])
def test_iterative_isotropic_closed_form(p2: float) -> None:
    """Isotropic, lam = 0: the recursion equals E_t = E_inf + r^t (c^2 - E_inf)."""
    iso = sc.Problem.isotropic(100, c2=0.7, sigma2=0.9)
    n = np.array([130.0, 200.0, 400.0, 1000.0])
    it = iterative_error(iso, n, 0.0, p2, 12)
    closed = isotropic_iterative_error(100 / n, p2, 0.7, 0.9, 12)
    np.testing.assert_allclose(it.total, closed, rtol=1e-10)


def test_iterative_isotropic_limit_and_divergence() -> None:
    """p2 = 1/2: E_t -> 4 sigma^2 phi/(3 - 4 phi) for phi < 3/4, grows without bound after."""
    phi = np.array([0.1, 0.25, 0.5, 0.7])
    lim = isotropic_iterative_limit(phi, 0.5, 2.0)
    np.testing.assert_allclose(lim, 4 * 2.0 * phi / (3 - 4 * phi), rtol=1e-12)
    e = isotropic_iterative_error(phi, 0.5, 1.0, 2.0, 200)
    np.testing.assert_allclose(e[:, -1], lim, rtol=1e-6)
    assert np.all(np.isinf(isotropic_iterative_limit([0.75, 0.8], 0.5, 1.0)))
    grow = isotropic_iterative_error([0.75, 0.8], 0.5, 1.0, 1.0, 50)
    assert np.all(np.diff(grow, axis=-1) > 0) and np.all(grow[:, -1] > 40)


def test_iterative_small_phi_rate() -> None:
    """Small phi: E_t ~ c^2 4^-t + (4/3) sigma^2 d/n (docs/theory.md)."""
    e = isotropic_iterative_error(1e-3, 0.5, 1.0, 1.0, 6)
    approx = 4.0 ** -np.arange(1, 7) + 4 / 3 * 1e-3
    np.testing.assert_allclose(e, approx, rtol=0.02)


def test_one_generation_of_replace_is_training_on_the_teacher_labels() -> None:
    """Generation 1 is Theorem 1 with p2 = 0; OLS (lam = 0, n > d + 1) uses the exact value."""
    rep = replace_error(POWER, N, LAM, 4, ols="exact")
    clean = sc.theory.ridge_error(POWER, N, LAM, 0.0).total
    ols = (LAM == 0) & (N > 201)
    expected = np.where(ols, POWER.sigma2 * 200 / np.maximum(N - 201, 1), clean)
    np.testing.assert_allclose(rep.total[..., 0], expected, rtol=RTOL)
    assert np.all(np.diff(rep.total[:, 1:], axis=-1) > 0)  # grows with generations


def test_replace_ols_is_exact_and_linear() -> None:
    prob = sc.Problem.power_law(50, alpha=2.0, sigma2=0.7)
    exact = replace_ols_error(prob, 400, 6)
    np.testing.assert_allclose(exact, np.arange(1, 7) * 0.7 * 50 / 349, rtol=1e-14)
    np.testing.assert_allclose(
        replace_error(prob, 400, 0.0, 6, ols="exact").total, exact, rtol=1e-14
    )
    equivalent = replace_error(prob, 400, 0.0, 6).total  # the default: k sigma^2 d/(n - d)
    np.testing.assert_allclose(equivalent, np.arange(1, 7) * 0.7 * 50 / 350, rtol=1e-12)
    # Small ridge: the deterministic equivalent, close to k sigma^2 d/(n - d).
    small = replace_error(prob, 400, 1e-9, 6).total
    np.testing.assert_allclose(small, np.arange(1, 7) * 0.7 * 50 / 350, rtol=1e-5)


def test_accumulate_reference_values() -> None:
    """sigma^2 (d/n) sum_{j<=k} 1/j^2: 0.125, 0.156, ... 0.186 at d = 50, n = 400."""
    ref = accumulate_reference(sc.Problem.isotropic(50), 400, 6)
    np.testing.assert_allclose(ref[[0, 1, 5]], [0.125, 0.15625, 0.18642], rtol=1e-4)
    big = accumulate_reference(sc.Problem.isotropic(50), 400, 10_000)
    assert big[-1] < np.pi**2 / 6 * 50 / 400
