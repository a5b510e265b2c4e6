"""Closed forms and limits of the theory (exact or to a stated tolerance)."""

from __future__ import annotations

import numpy as np
import pytest

import simcollapse as sc
from simcollapse.theory.fixed_points import df1

POWER = sc.Problem.power_law(200, alpha=1.5, source=1.2, c2=0.5, sigma2=0.5)


def test_corollary1_equals_general_ridge_formula() -> None:
    iso = sc.Problem.isotropic(300, c2=0.7, sigma2=0.3)
    n = np.array([310.0, 400.0, 1000.0, 3000.0, 1e6])
    p2 = np.array([[0.0], [0.01], [0.2], [0.5], [1.0]])
    general = sc.theory.ridge_error(iso, n, 0.0, p2).total
    closed = sc.theory.isotropic_ridgeless_error(300 / n, p2, 0.7, 0.3)
    np.testing.assert_allclose(general, closed, rtol=1e-8)


def test_zero_synthetic_fraction_has_no_zeta() -> None:
    n = np.array([50.0, 200.0, 1000.0])
    assert np.all(sc.theory.ridge_error(POWER, n, 1e-3, 0.0).zeta == 0.0)
    assert np.all(sc.theory.rp_error(POWER, n, 300, 1e-3, 0.0).zeta == 0.0)


@pytest.mark.parametrize("lam", [0.0, 1e-6])
def test_zeta_tends_to_p2_squared_c2(lam: float) -> None:
    p2 = np.array([0.01, 0.1, 0.5, 1.0])
    zeta = sc.theory.ridge_error(POWER, 1e4 * POWER.d, lam, p2).zeta
    np.testing.assert_allclose(zeta, p2**2 * POWER.c2, rtol=0.01)


@pytest.mark.parametrize("n", [100, 400, 2000])
@pytest.mark.parametrize("lam", [0.0, 1e-3, 1e-1])
def test_wide_random_projection_is_ridge(n: int, lam: float) -> None:
    """m -> infinity: random projections give ridge with penalty lam d/m (kappa = theta)."""
    m = 100 * POWER.d
    rp = sc.theory.rp_error(POWER, n, m, lam, 0.3).total
    ridge = sc.theory.ridge_error(POWER, n, lam * POWER.d / m, 0.3).total
    np.testing.assert_allclose(rp, ridge, rtol=0.01)


def test_kappa_solves_its_equation() -> None:
    n = np.array([50.0, 150.0, 199.0, 201.0, 1000.0])
    lam = np.array([0.0, 1e-8, 1e-3, 1.0])[:, None]
    import jax

    with jax.enable_x64(True):
        n_b, lam_b = np.broadcast_arrays(n, lam)
        fp = sc.theory.ridge_kappa(POWER.eigs, n_b.ravel(), lam_b.ravel())
        kappa = np.asarray(fp.value)
        lhs = kappa - lam_b.ravel()
        rhs = kappa * np.asarray(df1(POWER.eigs, fp.value)) / n_b.ravel()
    assert np.all(np.asarray(fp.status) == 0)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12, atol=1e-300)
    assert np.all(kappa[(lam_b.ravel() == 0) & (n_b.ravel() > 200)] == 0)
    assert np.all(kappa >= lam_b.ravel())


def test_interpolation_peak_at_m_equals_n() -> None:
    """p2 = 0, lam -> 0, d > n: the clean random-projection curve peaks at m = n."""
    prob = sc.Problem.power_law(600, alpha=1.0, source=1.0, sigma2=0.5)
    n = 200
    m = np.arange(20, 600, 4)
    err = sc.theory.rp_error(prob, n, m, 1e-8, 0.0).total
    assert abs(m[np.argmax(err)] - n) <= 8


def test_synthetic_term_grows_below_threshold_and_shrinks_beyond() -> None:
    prob = sc.Problem.power_law(600, alpha=1.0, source=1.0, sigma2=0.5, c2=0.5)
    n = 200
    zeta = sc.theory.rp_error(prob, n, np.array([40, 100, 160]), 1e-4, 0.2).zeta
    assert np.all(np.diff(zeta) > 0)
    zeta_beyond = sc.theory.rp_error(prob, n, np.array([300, 500, 2000, 20000]), 1e-4, 0.2).zeta
    assert np.all(np.diff(zeta_beyond) < 0)
    assert zeta_beyond[-1] > 0.2**2 * prob.c2 * 0.5  # mitigated, never removed


@pytest.mark.slow
def test_vectorised_grid_equals_python_loop() -> None:
    """10^4 points in one call equal 10^4 separate calls, ridge and random projections."""
    n = np.geomspace(50, 5000, 25).round()
    lam = np.concatenate([[0.0], np.geomspace(1e-6, 1.0, 19)])
    p2 = np.linspace(0.0, 1.0, 20)
    grid = sc.theory.ridge_error(POWER, n[:, None, None], lam[None, :, None], p2)
    assert grid.total.shape == (25, 20, 20)
    loop = np.empty_like(grid.total)
    for i, j, k in np.ndindex(loop.shape):
        loop[i, j, k] = sc.theory.ridge_error(POWER, n[i], lam[j], p2[k]).total
    np.testing.assert_allclose(grid.total, loop, rtol=1e-12)

    m = np.geomspace(20, 4000, 10).round()
    rgrid = sc.theory.rp_error(
        POWER, n[::5, None, None], m[None, :, None], lam[None, None, ::4], 0.3
    )
    for idx in np.ndindex(rgrid.total.shape):
        one = sc.theory.rp_error(POWER, n[::5][idx[0]], m[idx[1]], lam[::4][idx[2]], 0.3)
        np.testing.assert_allclose(rgrid.total[idx], one.total, rtol=1e-12)


def test_theory_leaves_global_x64_setting_alone() -> None:
    import jax
    import jax.numpy as jnp

    before = jax.config.jax_enable_x64
    out = sc.theory.ridge_error(POWER, 300, 1e-3, 0.1)
    assert out.total.dtype == np.float64
    assert jax.config.jax_enable_x64 == before
    assert jnp.asarray(1.0).dtype == (jnp.float64 if before else jnp.float32)
