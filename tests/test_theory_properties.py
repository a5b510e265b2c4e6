"""Property-based tests of the theory over its whole parameter space (hypothesis).

Spectra spanning up to 12 orders of magnitude, n from 1 to 1e12 (and integers around d and m,
where the thresholds are), lam from 0 to 1e3, p2 in [0, 1], m from 1 to 1e6. Every result is
either finite and non-negative with Status.CONVERGED, or flagged (inf with THRESHOLD, or a
failure status): never a silent NaN. Where it converges it equals the SciPy reference (brentq
fixed point, NumPy error terms) of the benchmarks.

Each example evaluates POINTS points in one call and d is drawn from a short list, so that the
compiled programs are shared between examples (the profile in conftest.py keeps the count small).
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import simcollapse as sc
from simcollapse.bench import baselines  # the SciPy brentq reference loop
from simcollapse.results import Status

POINTS = 8
DIMS = (3, 24)
# Agreement with the reference, relative. The reference solves the same equations with brentq;
# near a threshold both amplify rounding by 1/(1 - df_2/n), so points closer to it than
# CONDITION are compared only for being finite.
RTOL = 1e-7
CONDITION = 1e-6


@st.composite
def problems(draw: st.DrawFn) -> sc.Problem:
    d = draw(st.sampled_from(DIMS))
    low = draw(st.floats(-6.0, 6.0))
    span = draw(st.floats(0.0, 12.0))
    eigs = np.logspace(low, min(low + span, 6.0), d)
    unit = st.floats(0.0, 1.0)
    w1 = np.array(draw(st.lists(unit, min_size=d, max_size=d)))
    delta = np.array(draw(st.lists(unit, min_size=d, max_size=d)))
    return sc.Problem(eigs, w1, delta, draw(st.floats(0.0, 10.0)))


def _counts(draw: st.DrawFn, d: int, top: float) -> np.ndarray:
    near = st.integers(max(1, d - 2), 2 * d + 2).map(float)
    wide = st.floats(0.0, np.log10(top)).map(lambda e: float(10.0**e))
    return np.array(draw(st.lists(st.one_of(near, wide), min_size=POINTS, max_size=POINTS)))


@st.composite
def grids(draw: st.DrawFn, d: int) -> dict[str, np.ndarray]:
    lam = st.one_of(st.just(0.0), st.floats(-12.0, 3.0).map(lambda e: float(10.0**e)))
    return {
        "n": _counts(draw, d, 1e12),
        "m": _counts(draw, d, 1e6),
        "lam": np.array(draw(st.lists(lam, min_size=POINTS, max_size=POINTS))),
        "p2": np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=POINTS, max_size=POINTS))),
    }


@st.composite
def cases(draw: st.DrawFn) -> tuple[sc.Problem, dict[str, np.ndarray]]:
    prob = draw(problems())
    return prob, draw(grids(prob.d))


def _check_flagged(out: sc.ErrorTerms) -> np.ndarray:
    """NaN only with a failure status; converged points finite and >= 0; THRESHOLD points inf."""
    status = np.asarray(out.status)
    parts = np.stack([out.bias, out.variance, out.zeta, out.total])
    ok = status == Status.CONVERGED
    flagged_failure = ~ok & (status != Status.THRESHOLD)
    assert not np.any(np.isnan(parts[:, ~flagged_failure])), (parts, status)
    assert np.all(np.isfinite(parts[:, ok]))
    scale = np.abs(parts[:3, ok]).sum(axis=0)
    assert np.all(parts[:, ok] >= -1e-12 * scale)
    assert np.all(np.isinf(out.total[status == Status.THRESHOLD]))
    return ok


def _reference(prob: sc.Problem, g: dict[str, np.ndarray], kind: str) -> np.ndarray:
    """The brentq reference point by point; NaN where it cannot bracket its root (not compared)."""
    rows = []
    for i in range(len(g["n"])):
        point = {k: v[i : i + 1] for k, v in g.items()}
        try:
            rows.append(baselines.theory_loop(prob, point, kind)[0])
        except ValueError:  # brentq: f(a) and f(b) have the same sign
            rows.append(np.full(4, np.nan))
    return np.array(rows)


def _compare(out: sc.ErrorTerms, ok: np.ndarray, ref: np.ndarray, conditioned: np.ndarray) -> None:
    use = ok & conditioned & np.isfinite(ref[:, 3])
    np.testing.assert_allclose(out.total[use], ref[use, 3], rtol=RTOL, atol=1e-300)


@given(cases())
def test_ridge_is_finite_or_flagged_and_matches_brentq(case) -> None:
    prob, g = case
    out = sc.theory.ridge_error(prob, g["n"], g["lam"], g["p2"], throw=False)
    ok = _check_flagged(out)
    ref = _reference(prob, g, "ridge")
    s = np.asarray(prob.eigs)
    # kappa is at least lam; 1 - df_2(kappa)/n measures the distance to the threshold.
    k = np.maximum(g["lam"], 0.0)
    df2 = np.sum((s / (s + k[:, None])) ** 2, axis=1)
    _compare(out, ok, ref, (1.0 - np.minimum(df2, prob.d) / g["n"] > CONDITION) | (g["lam"] > 0))


@given(cases())
def test_random_projections_are_finite_or_flagged_and_match_brentq(case) -> None:
    prob, g = case
    out = sc.theory.rp_error(prob, g["n"], g["m"], g["lam"], g["p2"], throw=False)
    ok = _check_flagged(out)
    # The reference has no ridgeless limits written out (lam = 0 at m = d is 0/0 there).
    conditioned = (g["lam"] > 0) & (np.abs(np.minimum(g["m"], prob.d) - g["n"]) > 1.0)
    _compare(out, ok, _reference(prob, g, "rp"), conditioned)


@given(cases(), st.floats(0.0, 1.0))
def test_weighted_is_finite_or_flagged(case, share: float) -> None:
    prob, g = case
    p2 = g["p2"]
    # alpha must be 0 where p2 = 0 and 1 where p2 = 1 (an empty population has no weight).
    alpha = np.where(p2 == 0, 0.0, np.where(p2 == 1, 1.0, share))
    out = sc.theory.weighted_error(prob, g["n"], g["lam"], p2, alpha, throw=False)
    _check_flagged(out)
    plain = sc.theory.ridge_error(prob, g["n"], g["lam"], p2, throw=False)
    same = (alpha == p2) & out.converged & plain.converged  # alpha = p2 is plain ridge
    np.testing.assert_allclose(out.total[same], plain.total[same], rtol=1e-6)


@given(cases())
def test_iterative_loop_is_finite_or_flagged(case) -> None:
    prob, g = case
    out = sc.theory.iterative_error(prob, g["n"], g["lam"], g["p2"], 3, throw=False)
    _check_flagged(out)
    first = sc.theory.ridge_error(prob, g["n"], g["lam"], g["p2"], throw=False)
    same = out.converged[:, 0] & first.converged  # round 1 is Theorem 1
    np.testing.assert_allclose(out.total[same, 0], first.total[same], rtol=1e-6)
