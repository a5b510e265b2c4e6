"""The theory over the whole accepted range against a 350-digit mpmath reference.

lam in {0} and [1e-300, 1e300], eigenvalues from subnormal (5e-324) to 1e300, n and m up to 1e15,
on and next to the thresholds. Every point is either right (within RTOL of the reference) with
Status.CONVERGED, inf with Status.THRESHOLD where the reference diverges, or flagged (not
CONVERGED): never a wrong finite number marked converged. The sample is fixed (a seeded
generator plus the points where float64 used to fail), so the test is deterministic; the deep
variant draws more points and is marked slow.
"""

from __future__ import annotations

import numpy as np
import pytest

import simcollapse as sc
from simcollapse.results import Status

pytest.importorskip("mpmath", reason="needs mpmath (test extra)")
import mp_reference  # noqa: E402

RTOL = 1e-8
FAST = 16  # drawn points per model in the fast test (plus the fixed ones below)
DEEP = 200


def _problem(rng: np.random.Generator) -> sc.Problem:
    d = int(rng.choice([3, 8, 20]))
    low = rng.uniform(-6, 6)
    eigs = np.logspace(low, low + rng.uniform(0, 8), d) * 10.0 ** rng.choice([0, -290, 290])
    if rng.uniform() < 0.2:
        eigs[0] = 5e-324  # a subnormal direction
    w1 = rng.uniform(0, 1, d) / d
    delta = rng.uniform(0, 1, d) / d
    scale = float(np.sum(eigs))
    return sc.Problem(eigs, w1 * d / scale, delta * d / scale, float(rng.uniform(0, 2)))


def _points(rng: np.random.Generator, prob: sc.Problem, size: int) -> dict[str, np.ndarray]:
    d = prob.d
    near = rng.integers(max(1, d - 1), d + 2, size).astype(float)
    wide = np.floor(10.0 ** rng.uniform(0, 15, size))
    lam = np.where(rng.uniform(size=size) < 0.2, 0.0, 10.0 ** rng.uniform(-300, 300, size))
    return {
        "n": np.where(rng.uniform(size=size) < 0.5, near, np.maximum(wide, 1.0)),
        "m": np.where(rng.uniform(size=size) < 0.5, np.roll(near, 1), np.maximum(wide, 1.0)),
        "lam": np.clip(lam, 0.0, 1e300),
        "p2": rng.uniform(0, 1, size),
    }


def _sample(seed: int, count: int) -> list[tuple[sc.Problem, dict[str, np.ndarray]]]:
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(max(1, count // 4)):
        prob = _problem(rng)
        cases.append((prob, _points(rng, prob, 4)))
    return cases


ISO = sc.Problem.isotropic(20, c2=0.1, sigma2=1.0)
NEAR_NULL = sc.Problem(np.r_[5e-324, np.ones(19)], np.full(20, 0.05), np.full(20, 0.005), 1.0)
FIXED = [  # where float64 used to give a wrong number marked converged
    (ISO, {"n": np.full(6, 40.0), "lam": np.array([1e153, 1e154, 1e300, 5e307, 1e-300, 0.0])}),
    (ISO, {"n": np.full(5, 20.0), "lam": np.array([1e-12, 1e-24, 1e-32, 1e-300, 5e-324])}),
    (NEAR_NULL, {"n": np.array([10.0, 19.0, 21.0, 40.0]), "lam": np.zeros(4)}),
    (ISO, {"n": np.array([1e15, 1e15 + 2]), "lam": np.array([1e-300, 1e300])}),
]


def _check_ridge(prob: sc.Problem, g: dict[str, np.ndarray]) -> dict[str, int]:
    p2 = g.get("p2", np.full(g["n"].shape, 0.2))
    out = sc.theory.ridge_error(prob, g["n"], g["lam"], p2, throw=False)
    arrays = mp_reference.problem_arrays(prob)
    counts = {"points": 0, "flagged": 0}
    for i in range(g["n"].size):
        status = int(out.status[i])
        counts["points"] += 1
        if status not in (Status.CONVERGED, Status.THRESHOLD):
            counts["flagged"] += 1
            continue
        ref = mp_reference.ridge_total(*arrays, g["n"][i], g["lam"][i], p2[i])
        where = f"n={g['n'][i]:g} lam={g['lam'][i]:g} status={Status(status).name}"
        if status == Status.THRESHOLD or np.isinf(ref):
            assert np.isinf(ref) and status == Status.THRESHOLD, (where, out.total[i], ref)
        else:
            np.testing.assert_allclose(out.total[i], ref, rtol=RTOL, atol=0, err_msg=where)
    return counts


def _check_rp(prob: sc.Problem, g: dict[str, np.ndarray]) -> dict[str, int]:
    use = g["lam"] > 0  # the reference writes no ridgeless limit
    g = {k: v[use] for k, v in g.items()}
    out = sc.theory.rp_error(prob, g["n"], g["m"], g["lam"], g["p2"], throw=False)
    arrays = mp_reference.problem_arrays(prob)
    counts = {"points": 0, "flagged": 0}
    for i in range(g["n"].size):
        status = int(out.status[i])
        counts["points"] += 1
        if status != Status.CONVERGED:
            counts["flagged"] += 1
            continue
        ref = mp_reference.rp_total(*arrays, g["n"][i], g["m"][i], g["lam"][i], g["p2"][i])
        where = f"n={g['n'][i]:g} m={g['m'][i]:g} lam={g['lam'][i]:g}"
        np.testing.assert_allclose(out.total[i], ref, rtol=RTOL, atol=0, err_msg=where)
    return counts


@pytest.mark.parametrize("case", range(len(FIXED)))
def test_ridge_fixed_extremes_match_mpmath(case: int) -> None:
    prob, g = FIXED[case]
    counts = _check_ridge(prob, g)
    assert counts["flagged"] == 0  # every one of these is now within float64's reach


def test_ridge_and_rp_drawn_extremes_are_right_or_flagged() -> None:
    for prob, g in _sample(0, FAST):
        _check_ridge(prob, g)
        _check_rp(prob, g)


@pytest.mark.slow
def test_deep_sample_is_right_or_flagged() -> None:
    for prob, g in _sample(1, DEEP):
        _check_ridge(prob, g)
        _check_rp(prob, g)


def test_iterative_and_replace_tend_to_the_null_model_at_huge_lam() -> None:
    lam = np.array([1e153, 1e300, 5e307])
    it = sc.theory.iterative_error(ISO, 40.0, lam, 0.2, 3)
    rep = sc.theory.replace_error(ISO, 40.0, lam, 3)
    np.testing.assert_allclose(it.total, float(ISO.signal), rtol=1e-12)
    np.testing.assert_allclose(rep.total, float(ISO.signal), rtol=1e-12)


def test_random_projections_next_to_the_square_threshold_are_flagged() -> None:
    out = sc.theory.rp_error(ISO, 20, 20, np.array([1e-32, 1e-300]), 0.2, throw=False)
    assert np.all(out.status == Status.OUT_OF_REACH)
    with pytest.raises(sc.FixedPointError):
        sc.theory.rp_error(ISO, 20, 20, 1e-32, 0.2)


def test_ridgeless_variance_at_huge_n_has_no_cancellation() -> None:
    # lam = 0, isotropic: g = d/(n - d) exactly; 1/(1 - d/n) - 1 used to round to 2.2e-16, then 0.
    n = np.array([1e6, 1e12, 1e16, 1e17, 1e18, 1e19])
    out = sc.theory.ridge_error(ISO, n, 0.0, 0.5)
    g = 20.0 / (n - 20.0)
    assert np.all(out.status == Status.CONVERGED)
    np.testing.assert_allclose(out.variance, float(ISO.sigma2) * g, rtol=1e-12, atol=0)
    np.testing.assert_allclose(out.zeta, 0.25 * 0.1 * (1.0 + g), rtol=1e-12, atol=0)


def test_random_projections_tend_to_the_null_model_at_huge_lam() -> None:
    lam = np.array([1e10, 1e153, 1e200, 5e307, 1.7e308])
    m = np.array([[10.0], [20.0], [40.0]])
    out = sc.theory.rp_error(ISO, 20.0, m, lam, 0.1)
    assert np.all(out.status == Status.CONVERGED)
    assert np.all(out.zeta >= 0) and np.all(out.variance >= 0)
    np.testing.assert_allclose(out.total, float(ISO.signal), rtol=1e-9)
    np.testing.assert_allclose(out.total[:, 1:], float(ISO.signal), rtol=1e-15)
