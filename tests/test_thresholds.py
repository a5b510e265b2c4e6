"""Ridgeless (lam = 0) results on and beside every interpolation threshold.

On a threshold (ridge n = d; random projections n = min(m, d); weighted mixing n_eff = d; the
iterative and replace loops n = d; the exact OLS replace loop
n = d + 1) the lam -> 0+ limit diverges: the result must be inf with
Status.THRESHOLD. Everywhere else, including the boundaries where the limit is finite (m = d with
n > d, m = n > d, m > d with n < d), lam = 0 must equal the limit lam -> 0+, estimated from two
tiny penalties by extrapolation: E(l) = E0 + c l^a with a = 1/2 (theta ~ sqrt(lam) at m = d) or
a = 1, and 2 E(l) - E(4 l) removes the sqrt term and leaves O(l) ~ 1e-14 relative.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import simcollapse as sc
from simcollapse.results import Status

D = 60
# Around d/2, d and 2d, and each value also serves as m: the pairs cross m = n, n = d, m = d.
AROUND = [20.0, 29.0, 30.0, 31.0, 59.0, 60.0, 61.0, 120.0, 121.0]
PAIRS = np.array(list(itertools.product(AROUND, AROUND)))
N, M = PAIRS[:, 0], PAIRS[:, 1]
P2 = np.array([[0.0], [0.1], [0.5], [1.0]])
TINY = 1e-14
RTOL = 1e-6


def _problem(sigma2: float = 1.0) -> sc.Problem:
    return sc.Problem.power_law(D, alpha=1.5, source=1.2, c2=0.5, sigma2=sigma2)


def _limit(fn, tiny: float = TINY) -> np.ndarray:
    """lam -> 0+ limit of fn(lam).total by extrapolation from lam = tiny and 4 tiny."""
    e1 = fn(tiny)
    e4 = fn(4 * tiny)
    assert np.all(e1.status == Status.CONVERGED) and np.all(e4.status == Status.CONVERGED)
    return 2.0 * e1.total - e4.total


def _check(
    at0: sc.ErrorTerms, limit: np.ndarray, divergent: np.ndarray, rtol: float = RTOL, atol=0.0
) -> None:
    """No NaN; inf with THRESHOLD exactly on the divergent points; the limit elsewhere."""
    divergent = np.broadcast_to(divergent, at0.total.shape)
    assert not np.any(np.isnan(at0.total))
    for part in (at0.bias, at0.variance, at0.zeta):
        assert not np.any(np.isnan(part))
    assert np.all(np.isinf(at0.total[divergent]))
    assert np.all(at0.status[divergent] == Status.THRESHOLD)
    assert np.all(at0.status[~divergent] == Status.CONVERGED)
    np.testing.assert_allclose(at0.total[~divergent], limit[~divergent], rtol=rtol, atol=atol)


def test_ridge_on_and_beside_n_equal_d() -> None:
    prob = _problem()
    n = np.array(AROUND)

    def fn(lam: float) -> sc.ErrorTerms:
        return sc.theory.ridge_error(prob, n, lam, P2, throw=False)

    _check(fn(0.0), _limit(fn), n == D)


def test_random_projections_on_and_beside_every_threshold() -> None:
    prob = _problem()

    def fn(lam: float) -> sc.ErrorTerms:
        return sc.theory.rp_error(prob, N, M, lam, P2, throw=False)

    at0 = fn(0.0)
    divergent = N == np.minimum(M, D)
    _check(at0, _limit(fn), divergent)
    # The divergence is real: the error at a tiny penalty grows without bound as lam -> 0.
    small, smaller = fn(1e-8).total, fn(1e-12).total
    assert np.all(smaller[:, divergent] > 10 * small[:, divergent])


def test_random_projections_at_m_equal_d_are_ols() -> None:
    """m >= d, n > d, lam = 0: the projected features span the inputs, RP is OLS (ridge at 0)."""
    prob = _problem()
    n = np.array([61.0, 90.0, 1000.0])
    ridge = sc.theory.ridge_error(prob, n, 0.0, P2).total
    for m in (D, D + 1, 10 * D):
        np.testing.assert_allclose(sc.theory.rp_error(prob, n, m, 0.0, P2).total, ridge, rtol=1e-12)


def test_square_threshold_without_noise_keeps_its_finite_limit() -> None:
    """n = d <= m, sigma^2 = 0, p2 in {0, 1}: nothing diverges; lam = 0 is the lam -> 0+ limit.

    At m = n = d the limit is not 0 (Epop/(1 - gam) -> d sum(v)/(3 sum(1/s))); it is approached
    slowly (about lam^0.45), hence the looser tolerance. Penalties much below 1e-14 are out of
    float64's reach there (at 1e-18 the value is 1.5e-5 off a 350-digit reference, and flagged).
    """
    prob = _problem(sigma2=0.0)
    p2 = np.array([0.0, 1.0])

    def fn(lam: float) -> sc.ErrorTerms:
        return sc.theory.rp_error(prob, D, np.array([[D - 1.0], [D], [D + 1.0]]), lam, p2)

    _check(fn(0.0), _limit(fn, 1e-14), np.zeros((3, 2), bool), rtol=1e-4, atol=1e-7)
    ridge = sc.theory.ridge_error(prob, D, 0.0, p2)
    np.testing.assert_allclose(ridge.total, [0.0, prob.c2], atol=1e-15)


@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.5])
def test_weighted_on_and_beside_n_eff_equal_d(alpha: float) -> None:
    prob = _problem()
    n = np.array([59.0, 60.0, 61.0, 119.0, 120.0, 121.0])

    def fn(lam: float) -> sc.ErrorTerms:
        return sc.theory.weighted_error(prob, n, lam, 0.5, alpha, throw=False)

    n_eff = n if alpha > 0 else n / 2  # alpha = 0 weights the real half only
    _check(fn(0.0), _limit(fn), n_eff == D)


def test_weighted_rounding_of_the_row_count_meets_the_threshold() -> None:
    """n p1 = 200 (1 - 0.7) is 60.00000000000001 in floating point: still the threshold."""
    out = sc.theory.weighted_error(_problem(), 200.0, 0.0, 0.7, 0.0, throw=False)
    assert np.isinf(out.total) and out.status == Status.THRESHOLD


@pytest.mark.parametrize("loop", ["iterative", "replace"])
def test_loops_on_and_beside_n_equal_d(loop: str) -> None:
    prob = _problem()
    n = np.array([[59.0], [60.0], [61.0]])

    def fn(lam: float) -> sc.ErrorTerms:
        if loop == "iterative":
            return sc.theory.iterative_error(prob, n, lam, P2[:, 0], 3, throw=False)
        return sc.theory.replace_error(prob, n[:, 0], lam, 3, ols="exact", throw=False)

    at0 = fn(0.0)
    # replace at lam = 0 is the exact OLS error for n > d, which diverges at n = d + 1 too
    on = (n == D)[..., None] if loop == "iterative" else (n[:, 0] >= D)[:, None]
    _check(at0, _limit(fn), np.broadcast_to(on, at0.total.shape))


def test_threshold_does_not_raise_and_cli_prints_limit(capsys: pytest.CaptureFixture) -> None:
    from simcollapse.cli import main

    out = sc.theory.rp_error(_problem(), D, D + 5, 0.0, 0.1)  # throw=True: no FixedPointError
    assert np.isinf(out.total) and out.status == Status.THRESHOLD
    code = main(
        [
            "theory",
            "--model",
            "rp",
            "--n",
            "1000",
            "--m",
            "300",
            "--lam",
            "0",
            "--p2",
            "0,0.1",
            "--json",
            "--d",
            "300",
            "--c2",
            "0.5",
        ]
    )
    assert code == 0
    import json

    rows = json.loads(capsys.readouterr().out)
    prob = sc.Problem.power_law(300, c2=0.5)
    near = sc.theory.rp_error(prob, 1000, 300, np.array([1e-14, 4e-14]), np.array([[0], [0.1]]))
    for row, (e1, e4) in zip(rows, near.total, strict=True):
        assert row["status"] == "converged"
        assert row["total"] == pytest.approx(2 * e1 - e4, rel=RTOL)


def test_replace_loop_at_n_equal_d_plus_one_diverges() -> None:
    """The exact OLS replace error k sigma^2 d/(n - d - 1) is inf at n = d + 1, not the DE value."""
    prob = sc.Problem.isotropic(20, sigma2=1.0)
    out = sc.theory.replace_error(prob, np.array([21.0, 22.0, 23.0]), 0.0, 3, ols="exact")
    assert np.all(np.isinf(out.total[0])) and np.all(out.status[0] == Status.THRESHOLD)
    np.testing.assert_allclose(out.total[1:], [[20, 40, 60], [10, 20, 30]], rtol=1e-12)
    assert np.all(out.status[1:] == Status.CONVERGED)
    quiet = sc.theory.replace_error(sc.Problem.isotropic(20, sigma2=0.0), 21, 0.0, 2, ols="exact")
    assert np.all(quiet.total == 0) and np.all(quiet.status == Status.CONVERGED)


def test_replace_simulation_flags_n_equal_d_plus_one_like_the_theory() -> None:
    """Where the theory is inf with THRESHOLD (lam = 0, n = d + 1, noise), so is the simulation's
    status; next to it the simulation stays converged. Without noise nothing diverges."""
    prob = sc.Problem.isotropic(10, sigma2=1.0)
    n = np.array([11.0, 12.0])
    sim = sc.simulate.replace_error(prob, n, 0.0, 2, key=0, reps=4)
    theory = sc.theory.replace_error(prob, n, 0.0, 2, ols="exact")
    assert np.array_equal(sim.status == Status.THRESHOLD, theory.status == Status.THRESHOLD)
    assert np.all(sim.status[0] == Status.THRESHOLD) and np.all(sim.status[1] == Status.CONVERGED)
    quiet = sc.simulate.replace_error(
        sc.Problem.isotropic(10, sigma2=0.0), 11, 0.0, 2, key=0, reps=4
    )
    assert np.all(quiet.status == Status.CONVERGED)
