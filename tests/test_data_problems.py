"""Problems built from a covariance or a dataset: exact round trips, Monte Carlo, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import simcollapse as sc
from simcollapse import Problem, theory
from simcollapse.data_problems import DroppedDirectionsWarning, data_problem, eigenbasis
from simcollapse.results import Status

NS = np.array([[40.0], [150.0], [600.0]])
LAMS = np.array([0.0, 1e-3, 1e-1])
P2S = np.array([[[0.0]], [[0.1]], [[0.5]]])


def _rotated(problem: Problem, seed: int = 0):
    """Sigma, w1, w2 and Delta of ``problem`` written in a random orthonormal basis."""
    rng = np.random.default_rng(seed)
    d = problem.d
    basis, _ = np.linalg.qr(rng.standard_normal((d, d)))
    sigma = basis @ np.diag(problem.eigs) @ basis.T
    signs = rng.choice([-1.0, 1.0], size=(2, d))
    w1 = basis @ (signs[0] * np.sqrt(problem.w1_sq))
    delta = basis @ (signs[1] * np.sqrt(problem.delta_sq))
    delta_cov = basis @ np.diag(problem.delta_sq) @ basis.T
    return sigma, w1, w1 + delta, delta_cov


@pytest.mark.parametrize("shift", ["w2", "delta_cov"])
def test_from_covariance_reproduces_the_problem_theory(shift):
    original = Problem.power_law(60, alpha=1.3, source=1.2, c2=0.3, sigma2=0.2).with_teacher(400)
    sigma, w1, w2, delta_cov = _rotated(original)
    shift_arg = {"w2": w2} if shift == "w2" else {"delta_cov": delta_cov}
    built = Problem.from_covariance(sigma, w1, sigma2=0.2, **shift_arg)
    assert built.d == original.d
    want = theory.ridge_error(original, NS, LAMS, P2S)
    got = theory.ridge_error(built, NS, LAMS, P2S)
    np.testing.assert_allclose(got.total, want.total, rtol=1e-8)
    np.testing.assert_allclose(got.zeta, want.zeta, rtol=1e-8, atol=1e-14)
    rp_want = theory.rp_error(original, 300.0, 40.0, 1e-2, 0.2)
    rp_got = theory.rp_error(built, 300.0, 40.0, 1e-2, 0.2)
    np.testing.assert_allclose(rp_got.total, rp_want.total, rtol=1e-8)


def test_vector_targets_sum_the_per_output_theory():
    rng = np.random.default_rng(1)
    d, k = 30, 3
    a = rng.standard_normal((d, 2 * d))
    sigma = a @ a.T / (2 * d)
    w1, w2 = rng.standard_normal((d, k)), rng.standard_normal((d, k))
    noise = np.array([0.1, 0.3, 0.2])
    joint = Problem.from_covariance(sigma, w1, w2, sigma2=noise.sum())
    parts = [
        theory.ridge_error(
            Problem.from_covariance(sigma, w1[:, j], w2[:, j], sigma2=noise[j]), NS, LAMS, P2S
        )
        for j in range(k)
    ]
    got = theory.ridge_error(joint, NS, LAMS, P2S)
    for field in ("bias", "variance", "zeta", "total"):
        want = sum(getattr(p, field) for p in parts)
        np.testing.assert_allclose(getattr(got, field), want, rtol=1e-10, atol=1e-14)


def test_null_directions_go_silently_and_rtol_drops_are_reported():
    sigma = np.diag([3.0, 1.0, 1e-14, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the exact zero has no variance: dropped silently
        assert Problem.from_covariance(sigma, np.ones(4)).eigs.tolist() == [3.0, 1.0, 1e-14]
        assert Problem.from_covariance(np.eye(3), np.ones(3)).d == 3  # nothing dropped, silent
    with pytest.warns(DroppedDirectionsWarning, match="dropped 1 of 4.*lam = 0 .threshold n = 2"):
        built = Problem.from_covariance(sigma, np.ones(4), rtol=1e-10)
    assert built.eigs.tolist() == [3.0, 1.0]


def test_a_near_null_direction_is_kept_at_lam_zero():
    """A direction 1e-11 below the others changes the ridgeless theory: it stays."""
    eigs = np.r_[np.ones(39), 1e-11]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        built = Problem.from_covariance(np.diag(eigs), np.ones(40), sigma2=0.5)
    direct = Problem(eigs, np.ones(40), np.zeros(40), 0.5)
    assert built.d == 40
    at = theory.ridge_error(built, np.array([40.0, 41.0, 80.0]), 0.0, 0.0, throw=False)
    want = theory.ridge_error(direct, np.array([40.0, 41.0, 80.0]), 0.0, 0.0, throw=False)
    assert at.status[0] == Status.THRESHOLD and np.isinf(at.total[0])  # n = d = 40
    np.testing.assert_allclose(at.total[1:], want.total[1:], rtol=1e-9)
    np.testing.assert_allclose(at.total[1], 0.5 * 40 / (41 - 40 - 1e-300), rtol=1e-9)  # OLS


def test_raw_scale_is_kept():
    """No normalisation to tr Sigma = d: lam means the same as on the data."""
    built = Problem.from_covariance(np.diag([50.0, 5.0]), np.array([1.0, 1.0]))
    assert built.eigs.tolist() == [50.0, 5.0] and float(built.signal) == 55.0


def test_data_problem_recovers_the_population_theory():
    """Gaussian pools drawn from a known problem: the finite-pool corrections recover its theory.

    One pool of N = 800 in d = 80 estimates c^2 to about 10%, so the prediction is averaged over
    8 pools (about 4% left); without the corrections the average is biased by sigma^2 d/N terms.
    """
    original = Problem.power_law(80, alpha=1.2, source=1.2, c2=0.4, sigma2=0.3)
    sigma, w1, w2, _ = _rotated(original, seed=2)
    ns, lam = np.array([50.0, 200.0, 1000.0, 5000.0]), 1e-3
    # synthetic rows labelled by w2 without noise: variance p1 sigma^2 g
    want = theory.ridge_error(original.with_sigma2(0.0), ns, lam, 0.5).total + 0.5 * 0.3 * (
        theory.ridge_error(original.with_sigma2(1.0), ns, lam, 0.5).variance
    )
    got, naive = [], []
    for seed in range(8):
        rng = np.random.default_rng(seed)
        pool = rng.multivariate_normal(np.zeros(80), sigma, size=800)
        y = pool @ w1 + np.sqrt(0.3) * rng.standard_normal(800)
        fit = data_problem(pool, y, teacher=w2)
        assert fit.synthetic_sigma2 < 1e-10  # a linear labeller's labels carry no noise
        got.append(fit.terms(ns, lam, 0.5).total)
        plain = data_problem(pool, y, teacher=w2, finite_pool=False)
        naive.append(plain.terms(ns, lam, 0.5).total)
    gap, naive_gap = np.mean(got, 0) / want - 1, np.mean(naive, 0) / want - 1
    print("finite-pool gap", gap, "without corrections", naive_gap)
    assert np.max(np.abs(gap)) <= 0.06, gap
    assert np.max(np.abs(naive_gap)) > np.max(np.abs(gap)), (gap, naive_gap)


def test_public_api_is_exported():
    assert sc.data_problem is data_problem
    assert sc.problem_from_covariance is not None and sc.DataProblem is not None


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(sigma=np.array([[1.0, 0.5], [0.0, 1.0]]), w1=np.ones(2)), "sigma"),
        (dict(sigma=np.diag([1.0, -0.5]), w1=np.ones(2)), "sigma"),
        (dict(sigma=np.ones((2, 3)), w1=np.ones(2)), "sigma"),
        (dict(sigma=np.diag([1.0, np.nan]), w1=np.ones(2)), "sigma"),
        (dict(sigma=np.eye(2), w1=np.ones(3)), "w1"),
        (dict(sigma=np.eye(2), w1=np.ones(2), w2=np.ones(3)), "w2"),
        (dict(sigma=np.eye(2), w1=np.ones(2), delta_cov=np.eye(3)), "delta_cov"),
        (dict(sigma=np.eye(2), w1=np.ones(2), delta_cov=-np.eye(2)), "delta_cov"),
        (dict(sigma=np.eye(2), w1=np.ones(2), w2=np.ones(2), delta_cov=np.eye(2)), "delta_cov"),
        (dict(sigma=np.eye(2), w1=np.ones(2), sigma2=-1.0), "sigma2"),
    ],
)
def test_from_covariance_rejects_bad_input(kwargs, name):
    with pytest.raises(ValueError, match=name):
        Problem.from_covariance(**kwargs)


@pytest.mark.parametrize(
    ("x", "y", "kwargs", "name"),
    [
        (np.full((10, 2), np.nan), np.ones(10), {}, "X"),
        (np.ones(10), np.ones(10), {}, "X"),
        (np.eye(10)[:, :2], np.ones(9), {}, "y"),
        (np.eye(10)[:, :2], np.array([np.nan] * 10), {}, "y"),
        (np.eye(10)[:, :2], np.ones(10), {"teacher": np.ones(3)}, "teacher"),
        (np.eye(10)[:, :2], np.ones(10), {"teacher": lambda x: np.ones((len(x), 4))}, "teacher"),
        (np.eye(10)[:, :2], np.ones(10), {"rtol": 1.5}, "rtol"),
        (np.eye(4), np.ones(4), {"center": False}, "X"),  # N = 4 not above the 4 kept directions
    ],
)
def test_data_problem_rejects_bad_input(x, y, kwargs, name):
    with pytest.raises(ValueError, match=name):
        data_problem(x, y, **kwargs)


def test_eigenbasis_orders_and_spans():
    eigs, vecs = eigenbasis(np.array([[2.0, 1.0], [1.0, 2.0]]))
    np.testing.assert_allclose(eigs, [3.0, 1.0])
    np.testing.assert_allclose(vecs @ np.diag(eigs) @ vecs.T, [[2.0, 1.0], [1.0, 2.0]])
