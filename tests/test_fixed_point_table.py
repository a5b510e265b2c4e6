"""The table-started fixed points against the plain safeguarded Newton solve (the former engine).

The table of df_1 only supplies brackets and starting points; the answer must be the same root:
1e-12 relative wherever the equation is well conditioned, and at the interpolation threshold
(n = d or m = n, lam -> 0, where 1/F' amplifies rounding) within the conditioning bound.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import simcollapse as sc
from simcollapse.theory import fixed_points as fp

PROB = sc.Problem.power_law(300, alpha=1.5, source=1.2, c2=0.5, sigma2=0.5)
ISO = sc.Problem.isotropic(200, c2=0.3, sigma2=1.0)


def grid(d: int) -> tuple[np.ndarray, np.ndarray]:
    n = np.concatenate([np.geomspace(3, 30 * d, 60), [d - 1.0, d, d + 1.0]])
    lam = np.concatenate([[0.0], np.geomspace(1e-10, 1e3, 40)])
    n_b, lam_b = np.broadcast_arrays(n[:, None], lam[None, :])
    return n_b.ravel(), lam_b.ravel()


def reference_kappa(eigs: np.ndarray, n: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """The former solver: safeguarded Newton from the right end, step tolerance 1e-13."""
    with jax.enable_x64(True):
        s, n, lam = jnp.asarray(eigs), jnp.asarray(n), jnp.asarray(lam)
        hi = lam + jnp.sum(s) / n
        done = (lam == 0) & (n >= s.shape[0])
        out = fp.solve_monotone(
            lambda k: k * (1.0 - fp.df1(s, k) / n) - lam,
            jnp.zeros_like(hi),
            hi,
            jnp.where(done, 0.0, hi),
            done,
            lambda k: 2.0 * k + lam,
            step_rtol=1e-13,
        )
        return np.asarray(out.value)


def well_conditioned(d: int, n: np.ndarray, lam: np.ndarray) -> np.ndarray:
    return (np.abs(n / d - 1.0) > 0.05) | (lam > 1e-4)


@pytest.mark.parametrize("prob", [PROB, ISO], ids=["power", "iso"])
def test_kappa_equals_reference_solver(prob: sc.Problem) -> None:
    n, lam = grid(prob.d)
    with jax.enable_x64(True):
        out = fp.ridge_kappa(jnp.asarray(prob.eigs), jnp.asarray(n), jnp.asarray(lam))
    kappa, ref = np.asarray(out.value), reference_kappa(prob.eigs, n, lam)
    assert np.all(np.asarray(out.status) == sc.Status.CONVERGED)
    good = well_conditioned(prob.d, n, lam)
    np.testing.assert_allclose(kappa[good], ref[good], rtol=1e-12, atol=0)
    # At the threshold: the root is only defined to about eps / F'(kappa) by the equation.
    np.testing.assert_allclose(kappa[~good], ref[~good], rtol=1e-8, atol=0)
    # Started from the table, nearly every point needs one or two exact Newton steps.
    assert np.mean(np.asarray(out.steps)) < 2.0


def test_theta_equals_reference_solver() -> None:
    rng = np.random.default_rng(3)
    d = PROB.d
    n = rng.uniform(5, 10 * d, 400)
    m = rng.uniform(5, 10 * d, 400)
    lam = np.where(rng.uniform(size=400) < 0.1, 0.0, 10 ** rng.uniform(-8, 2, 400))
    with jax.enable_x64(True):
        s = jnp.asarray(PROB.eigs)
        out = fp.rp_theta(s, jnp.asarray(n), jnp.asarray(m), jnp.asarray(lam))
        q = jnp.minimum(jnp.asarray(m), jnp.asarray(n))
        full = q >= d
        t0 = fp.solve_monotone(
            lambda t: q - fp.df1(s, t),
            jnp.zeros_like(q),
            jnp.sum(s) / q,
            jnp.zeros_like(q),
            full,
            lambda t: 2.0 * q,
            step_rtol=1e-13,
        ).value
        target = jnp.asarray(lam) * d / jnp.asarray(m)
        hi = t0 + jnp.maximum(4.0 * target, 2.0 * jnp.sum(s) / q)
        ref = fp.solve_monotone(
            lambda t: (
                t * (1 - fp.df1(s, t) / jnp.asarray(m)) * (1 - fp.df1(s, t) / jnp.asarray(n))
                - target
            ),
            t0,
            hi,
            jnp.where(target == 0, t0, hi),
            target == 0,
            lambda t: 2.0 * t + target,
            step_rtol=1e-13,
        ).value
    good = (np.abs(m / n - 1) > 0.05) | (lam > 1e-4)
    assert np.all(np.asarray(out.status) == sc.Status.CONVERGED)
    np.testing.assert_allclose(np.asarray(out.value)[good], np.asarray(ref)[good], rtol=1e-12)


def test_error_terms_equal_formulas_at_reference_kappa() -> None:
    """ridge_error's parts equal the formulas of docs/theory.md in NumPy at the reference kappa."""
    n, lam = grid(PROB.d)
    good = well_conditioned(PROB.d, n, lam) & (n != PROB.d)
    n, lam = n[good], lam[good]
    p2 = np.linspace(0, 1, n.size)
    out = sc.theory.ridge_error(PROB, n, lam, p2)
    k = reference_kappa(PROB.eigs, n, lam)[:, None]
    s, w2, dl = PROB.eigs, PROB.w1_sq, PROB.delta_sq
    u = 1.0 / (s + k)
    shrink = 1.0 - np.sum(s * s * u * u, axis=1) / n
    g = 1.0 / shrink - 1.0
    bias = k[:, 0] ** 2 * np.sum(s * w2 * u * u, axis=1) / shrink
    d3 = np.sum(s**3 * dl * u * u, axis=1)
    d1 = k[:, 0] ** 2 * np.sum(s * dl * u * u, axis=1)
    zeta = p2 * p2 * (d3 + d1 * g) + (1 - p2) * p2 * np.sum(s * dl) * g
    total = bias + PROB.sigma2 * g + zeta
    np.testing.assert_allclose(out.total, total, rtol=1e-12)
    np.testing.assert_allclose(out.bias, bias, rtol=1e-12, atol=1e-14 * total.max())
    np.testing.assert_allclose(out.zeta, zeta, rtol=1e-12, atol=1e-14 * total.max())


def test_result_does_not_depend_on_table_size() -> None:
    n, lam = grid(PROB.d)
    with jax.enable_x64(True):
        s = jnp.asarray(PROB.eigs)
        a = fp.ridge_kappa(s, jnp.asarray(n), jnp.asarray(lam), fp.spectral_table(s, 64))
        b = fp.ridge_kappa(s, jnp.asarray(n), jnp.asarray(lam), fp.spectral_table(s, 4096))
    good = well_conditioned(PROB.d, n, lam)
    np.testing.assert_allclose(np.asarray(a.value)[good], np.asarray(b.value)[good], rtol=1e-13)
