"""The conditional (variance-reduced) Monte Carlo kernel: its closed form against sampling."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import simcollapse as sc
from simcollapse.simulate import conditional, engine

PROB = sc.Problem.power_law(d=24, alpha=1.5, source=1.5, c2=0.5, sigma2=0.5)


def _sampled_parts(x, back, lam, n2, draws, seed):
    """Mean and SE of [bias, variance, zeta, total] over eps and delta at a fixed design."""
    rng = np.random.default_rng(seed)
    n, d = x.shape
    s, w1 = PROB.eigs, np.sqrt(PROB.w1_sq)
    t = np.eye(d) if back is None else back
    f = x @ t
    e, v = np.linalg.eigh(f.T @ f / n)
    keep = e > e.max() * max(f.shape) * np.finfo(float).eps
    inv = np.where(keep, 1.0 / (np.where(keep, e, 1.0) + lam), 0.0)
    solve = t @ v @ np.diag(inv) @ v.T @ f.T / n  # input-space weights from labels
    out = np.empty((draws, 4))
    for i in range(draws):
        eps = rng.standard_normal(n) * np.sqrt(PROB.sigma2)
        delta = rng.standard_normal(d) * np.sqrt(PROB.delta_sq)
        shift = np.where(np.arange(n) >= n - n2, x @ delta, 0.0)
        ab, av, az = solve @ (x @ w1) - w1, solve @ eps, solve @ shift
        out[i] = [np.sum(s * a * a) for a in (ab, av, az, ab + av + az)]
    return out.mean(0), out.std(0, ddof=1) / np.sqrt(draws)


@pytest.mark.parametrize(("n", "m", "lam"), [(60, None, 1e-2), (16, None, 0.0), (60, 12, 1e-3)])
def test_closed_form_is_the_mean_over_labels_and_shift(n, m, lam):
    key = jax.random.key(3)
    n2 = n // 3
    with jax.enable_x64(True):
        got = np.asarray(
            conditional.one_draw(
                PROB, key, jnp.array([lam]), jnp.array([n2]), n=n, m=m, dtype=np.float64
            )[0]
        )
        x = np.asarray(engine.draw_data(PROB, key, n, np.float64)[0])
        back = engine.features(jnp.asarray(x), key, m, np.float64)[1]
    back = None if back is None else np.asarray(back)
    mean, se = _sampled_parts(x, back, lam, n2, 4000, seed=1)
    np.testing.assert_allclose(got[3], got[:3].sum(), rtol=1e-12)
    for j in range(4):  # within 4.5 standard errors (bias has none: it is exact given X)
        assert abs(float(got[j]) - mean[j]) <= 4.5 * se[j] + 1e-10 * abs(mean[j]), (j, got, mean)


def test_conditional_agrees_with_plain_and_has_smaller_error():
    prob = sc.Problem.power_law(d=40, alpha=1.5, source=1.5, c2=0.5, sigma2=0.5)
    args = (prob, 120, np.array([1e-3, 1e-1]), np.array([0.0, 0.5, 1.0])[:, None])
    plain = sc.simulate.ridge_error(*args, key=0, reps=64, estimator="plain")
    cond = sc.simulate.ridge_error(*args, key=0, reps=64, estimator="conditional")
    se = np.hypot(plain.stderr, cond.stderr)
    assert np.all(np.abs(plain.total - cond.total) <= 4.0 * se)
    assert np.all(cond.stderr[1:] < 0.7 * plain.stderr[1:])  # p2 > 0: the shift term
    thy = sc.theory.ridge_error(*args)
    assert np.all(np.abs(cond.total - thy.total) <= 4.0 * cond.stderr + 0.05 * thy.total)


def test_unknown_estimator():
    with pytest.raises(ValueError, match="estimator"):
        sc.simulate.ridge_error(PROB, 50, 0.1, 0.1, key=0, reps=2, estimator="fast")


@pytest.mark.parametrize("n", [5, 64, 97])
def test_blocked_tail_products_equal_masked_products(n):
    rng = np.random.default_rng(n)
    f, x, dl = rng.standard_normal((n, 6)), rng.standard_normal((n, 9)), rng.random(9)
    basis = np.linalg.qr(rng.standard_normal((6, 6)))[0]
    starts = np.array([0, 1, n // 2, n - 1, n])
    with jax.enable_x64(True):
        total, tails = conditional.tail_products(*map(jnp.asarray, (f, x, starts)))
        h = conditional.shift_gram(tails, jnp.asarray(basis), jnp.asarray(dl), n)
    np.testing.assert_allclose(np.asarray(total), f.T @ x, rtol=1e-10, atol=1e-12)
    for q, start in enumerate(starts):
        np.testing.assert_allclose(
            np.asarray(tails[q]), f[start:].T @ x[start:], rtol=1e-10, atol=1e-12
        )
        j = basis.T @ f[start:].T @ x[start:] / n
        np.testing.assert_allclose(np.asarray(h[q]), (j * dl) @ j.T, rtol=1e-10, atol=1e-14)
