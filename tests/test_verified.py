"""Verified synthetic data (Feng et al. 2024): keep = 1 is plain ridge, an oracle verifier helps,
the selection keeps exactly n2 rows, bad input names the parameter, and a TOML sweep runs it."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import simcollapse as sc
from simcollapse.simulate.verified import (
    candidate_rows,
    select_rows,
    verified_error,
    verified_limit,
)
from simcollapse.sweep import Sweep, run_sweep

PROB = sc.Problem.isotropic(10, c2=1.0, sigma2=1.0)


@pytest.mark.slow
def test_keep_one_is_plain_ridge_draw_for_draw() -> None:
    # the conformance table checks the same at lam > 0; here lam = 0 and every part
    n, lam, p2 = 60, np.array([0.0, 1e-2]), 0.3
    got = verified_error(PROB, n, lam, p2, keep=1.0, verifier_c2=[0.0, 5.0], key=3, reps=4)
    want = sc.simulate.ridge_error(PROB, n, lam, p2, key=3, reps=4, estimator="plain")
    for part in ("bias", "variance", "zeta", "total", "stderr"):
        np.testing.assert_allclose(getattr(got, part), getattr(want, part), rtol=1e-9, atol=1e-20)


@pytest.mark.slow
def test_oracle_verifier_lowers_the_error_below_the_unverified_floor() -> None:
    # p2 = 1/2, c2 = 1: unverified ridge sits near p2^2 c^2 = 0.25; an oracle keeping 1 in 10
    # candidates is far below it. Both differences are beyond 3 standard errors.
    keep, c2v = np.array([1.0, 0.1, 0.1]), np.array([0.0, 0.0, 4.0])
    out = verified_error(PROB, 800, 1e-3, 0.5, keep, c2v, key=0, reps=16)
    unverified, oracle, poor = out.total
    se = out.stderr
    assert oracle + 3 * se[1] < 0.2 * (unverified - 3 * se[0]), out.total
    assert poor > oracle + 3 * (se[1] + se[2]), out.total  # a poor verifier helps far less


def test_selection_keeps_exactly_n2_best_candidates() -> None:
    n, d, pool, n2, n_cand = 30, 4, 50, 12, 40
    kx, ke, ka, kb, kd, kv = jax.random.split(jax.random.key(0), 6)
    x, eps = jax.random.normal(kx, (n, d)), jax.random.normal(ke, (n,))
    ex, ee = jax.random.normal(ka, (pool, d)), jax.random.normal(kb, (pool,))
    delta, verr = jax.random.normal(kd, (d,)), 0.3 * jax.random.normal(kv, (d,))
    select = jax.jit(select_rows, static_argnames="kept")
    xt, et, ut, slot = select(x, eps, ex, ee, delta, verr, n2, n_cand, kept=16)
    slot = np.asarray(slot)
    assert xt.shape == (n, d) and np.sum(slot >= 0) == n2
    np.testing.assert_array_equal(slot[: n - n2], -1)  # the real rows untouched
    np.testing.assert_array_equal(xt[: n - n2], x[: n - n2])
    chosen = slot[n - n2 :]
    assert len(set(chosen.tolist())) == n2 and chosen.max() < n_cand
    own = np.arange(pool) < n2
    cx = np.where(own[:, None], np.asarray(x)[np.clip(n - n2 + np.arange(pool), 0, n - 1)], ex)
    ce = np.where(own, np.asarray(eps)[np.clip(n - n2 + np.arange(pool), 0, n - 1)], ee)
    score = np.abs(cx @ np.asarray(delta) + ce - cx @ np.asarray(verr))[:n_cand]
    rest = np.setdiff1d(np.arange(n_cand), chosen)
    assert score[chosen].max() <= score[rest].min()
    np.testing.assert_allclose(ut[n - n2 :], (cx @ np.asarray(delta))[chosen], rtol=1e-6)
    np.testing.assert_allclose(et[n - n2 :], ce[chosen], rtol=1e-6)
    # keep = 1: the candidates are exactly the engine's last n2 rows, in some order
    xt1, *_ = select(x, eps, ex, ee, delta, verr, n2, n2, kept=n2)
    rows = lambda a: sorted(map(tuple, np.round(np.asarray(a), 6)))  # noqa: E731
    assert rows(xt1[n - n2 :]) == rows(x[n - n2 :])


def test_candidate_rows_rounds_n2_over_keep() -> None:
    assert candidate_rows([5, 5, 7, 3], [1.0, 0.1, 0.3, 0.7]).tolist() == [5, 50, 23, 4]
    assert np.all(candidate_rows(np.arange(100), 1.0) == np.arange(100))


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(keep=0.0), "keep"),
        (dict(keep=1.5), "keep"),
        (dict(keep=-0.2), "keep"),
        (dict(verifier_c2=-1.0), "verifier_c2"),
        (dict(p2=1.2), "p2"),
    ],
)
def test_bad_input_raises_one_line_naming_the_parameter(kwargs: dict, name: str) -> None:
    args = {"keep": 0.5, "verifier_c2": 0.0, "p2": 0.5, **kwargs}
    with pytest.raises(ValueError, match=name) as err:
        verified_error(PROB, 50, 1e-2, args["p2"], args["keep"], args["verifier_c2"], key=0, reps=2)
    assert "\n" not in str(err.value)
    setting = sc.settings.get("verified")
    with pytest.raises(ValueError, match=name):
        setting.simulate(PROB, sc.MonteCarlo(0, 2), n=50, **args)


def test_theory_is_simulation_only() -> None:
    with pytest.raises(sc.SimulationOnly, match="verified.*simulation only"):
        sc.settings.get("verified").theory(PROB, n=100, keep=0.5)


def test_toml_sweep_equals_the_direct_simulation(tmp_path) -> None:
    text = """
[problem]
family = "isotropic"
d = 10
c2 = 1.0
sigma2 = 1.0

[setting]
kind = "verified"
p2 = 0.5
lam = 0.001

[run]
method = "simulate"
reps = 4
seed = 2

[axes]
n = [80]
keep = [1.0, 0.25]
verifier_c2 = [0.0, 2.0]
"""
    spec = Sweep.from_toml_text(text)
    table = run_sweep(spec, tmp_path).sort_values(["keep", "verifier_c2"])
    assert len(table) == 4
    stored = sorted((tmp_path / "sweeps" / spec.hash).glob("simulate-*.parquet"))
    assert stored  # kept in the store, and read back from it unchanged
    again = run_sweep(spec, tmp_path).sort_values(["keep", "verifier_c2"])
    pd.testing.assert_frame_equal(again, table)
    assert sorted((tmp_path / "sweeps" / spec.hash).glob("simulate-*.parquet")) == stored
    direct = verified_error(PROB, 80, 1e-3, 0.5, jnp.array([0.25, 0.25, 1.0, 1.0]),
                            [0.0, 2.0, 0.0, 2.0], key=2, reps=4)  # fmt: skip
    np.testing.assert_allclose(table.total, direct.total, rtol=1e-9)
    with pytest.raises(ValueError, match="simulation only"):
        Sweep.from_toml_text(text.replace('"simulate"', '"both"'))


def test_large_n_simulation_approaches_the_limit() -> None:
    # d = 4, n = 8000: the variance (about sigma^2 d / n = 5e-4) is a few percent of these
    # floors, so the simulation sits within 3 SE + 5% of verified_limit (oracle, fair, none)
    prob = sc.Problem.isotropic(4, c2=4.0, sigma2=1.0)
    keep, c2v = np.array([0.5, 0.2, 1.0]), np.array([0.0, 0.5, 0.0])
    out = verified_error(prob, 8000, 1e-6, 0.5, keep, c2v, key=1, reps=16)
    limits = np.array([verified_limit(prob, 0.5, k, c) for k, c in zip(keep, c2v, strict=True)])
    assert np.all(limits[:2, 0] < 0.2 * limits[2, 0])  # verification lowers the floor
    gap = np.abs(out.total - limits[:, 0])
    assert np.all(gap <= 3 * (out.stderr + limits[:, 1]) + 0.05 * limits[:, 0]), (out.total, limits)


def test_limit_closed_forms_and_bad_input() -> None:
    # isotropic, verifier_c2 = 0, keep = 1: p2^2 |delta|^2, mean p2^2 c^2; p2 = 0: no floor
    mean, se = verified_limit(PROB, 0.3, 1.0, 0.0, draws=20000)
    assert abs(mean - 0.09) < 4 * se
    assert verified_limit(PROB, 0.0, 0.1, 2.0)[0] == 0.0
    # a smaller kept fraction lowers an oracle's floor; a verifier's error sets a floor of its own
    floors = [verified_limit(PROB, 0.5, k, 0.0)[0] for k in (0.5, 0.1, 0.01)]
    assert floors[0] > floors[1] > floors[2] > 0
    fair = verified_limit(PROB, 0.5, 0.01, 0.1)[0]
    assert 0.8 * 0.25 * 0.1 < fair < 1.2 * 0.25 * 0.1  # about p2^2 c_v^2 when c_v << c
    bad = [(dict(keep=0.0), "keep"), (dict(p2=-0.1), "p2"), (dict(verifier_c2=-1.0), "verifier_c2"),
           (dict(draws=1), "draws")]  # fmt: skip
    for kwargs, name in bad:
        args = {"p2": 0.5, "keep": 0.5, "verifier_c2": 0.0, **kwargs}
        draws = args.pop("draws", 64)
        with pytest.raises(ValueError, match=name):
            verified_limit(PROB, **args, draws=draws)
