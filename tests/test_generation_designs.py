"""The generation loops in the fresh and the fixed design: Monte Carlo against the exact
finite-n least-squares theory, generation 1 draw for draw, the pi^2/6 bound, bad input.

Tolerance of theory against Monte Carlo: every generation within 3.5 SE (one correlated run of
ten generations; the Monte Carlo's errors are strongly correlated across generations).
"""

from __future__ import annotations

import numpy as np
import pytest

import simcollapse as sc
from simcollapse.simulate import mixing
from simcollapse.sweep import Sweep, run_sweep
from simcollapse.theory import generations as theory

TOL_SE = 3.5


def _exact(loop: str, prob: sc.Problem, n: int, g: int, design: str, n_syn=None) -> np.ndarray:
    if loop == "replace":
        return theory.replace_error(prob, n, 0.0, g, design=design, ols="exact").total
    return theory.accumulate_error(prob, n, 0.0, g, design=design, n_synthetic=n_syn,
                                    ols="exact").total  # fmt: skip


def _worst_gap(loop: str, d: int, n: int, design: str, reps: int, n_syn=None) -> float:
    prob = sc.Problem.isotropic(d, sigma2=1.0)
    fn = mixing.replace_error if loop == "replace" else mixing.accumulate_error
    kw = {} if n_syn is None else {"n_synthetic": n_syn}
    mc = fn(prob, n, 0.0, 10, key=1, reps=reps, design=design, **kw)
    exact = _exact(loop, prob, n, 10, design, n_syn)
    return float(np.max(np.abs(mc.total - exact) / mc.stderr))


def test_fixed_design_accumulate_matches_exact_theory() -> None:
    assert _worst_gap("accumulate", 10, 32, "fixed", reps=300) < TOL_SE


@pytest.mark.slow
@pytest.mark.parametrize(("d", "n", "reps"), [(10, 32, 1000), (20, 60, 1000), (50, 400, 300)])
@pytest.mark.parametrize("design", ["fresh", "fixed"])
@pytest.mark.parametrize("loop", ["replace", "accumulate"])
def test_loops_match_exact_theory_over_ten_generations(loop, design, d, n, reps) -> None:
    assert _worst_gap(loop, d, n, design, reps=reps) < TOL_SE


@pytest.mark.slow
def test_fresh_accumulate_with_its_own_synthetic_block_size() -> None:
    assert _worst_gap("accumulate", 10, 32, "fresh", reps=1000, n_syn=12) < TOL_SE


@pytest.mark.parametrize(
    "fn",
    [
        pytest.param(mixing.replace_error, marks=pytest.mark.slow),
        mixing.accumulate_error,
        pytest.param(mixing.accumulate_subsample_error, marks=pytest.mark.slow),
    ],
)
def test_generation_one_is_the_same_draw_in_both_designs(fn) -> None:
    prob = sc.Problem.power_law(12, alpha=1.5, source=1.2, c2=0.5, sigma2=0.5)
    lam = [0.0, 1e-2]
    fresh = fn(prob, 30, lam, 3, key=4, reps=3)
    fixed = fn(prob, 30, lam, 3, key=4, reps=3, design="fixed")
    np.testing.assert_allclose(fixed.total[:, 0], fresh.total[:, 0], rtol=1e-10)
    assert not np.allclose(fixed.total[:, 1:], fresh.total[:, 1:])
    plain = sc.simulate.ridge_error(prob, 30, lam, 0.0, key=4, reps=3, estimator="plain")
    np.testing.assert_allclose(fixed.total[:, 0], plain.total, rtol=1e-8)


def test_fixed_design_keeps_the_pi2_over_6_bound_and_replace_grows_past_it() -> None:
    prob = sc.Problem.isotropic(10, sigma2=1.0)
    bound = np.pi**2 / 6 * 10 / (32 - 10 - 1)
    fixed = theory.accumulate_ols_error(prob, 32, 50, design="fixed")
    fresh = theory.accumulate_ols_error(prob, 32, 50)
    assert np.all(np.diff(fixed) > 0) and fixed[-1] < bound
    assert fixed[-1] > 0.98 * bound  # the tail of sum 1/i^2 past 50 is about 1/50
    assert np.all(fresh[1:] < fixed[1:]) and fresh[0] == fixed[0]
    replace = theory.replace_error(prob, 32, 0.0, 50, design="fixed", ols="exact").total
    assert replace[2] > bound  # replace passes the bound by generation 3


def test_the_accumulate_setting_has_theory_at_lam_zero_and_for_fixed_design_ridge() -> None:
    prob = sc.Problem.isotropic(10, sigma2=1.0)
    acc = sc.settings.get("accumulate")
    out = acc.theory(prob, n=[10, 11, 32], lam=0.0, generations=2, design="fixed", ols="exact")
    assert out.total.shape == (3, 2)
    assert np.all(np.isinf(out.total[:2])) and np.all(out.status[:2] == sc.Status.THRESHOLD)
    np.testing.assert_allclose(out.total[2], [10 / 21, 10 / 21 * 1.25])
    np.testing.assert_array_equal(out.variance, out.total)
    with pytest.raises(sc.SimulationOnly, match="ridge.*fresh design"):
        acc.theory(prob, n=32, lam=1e-2, generations=2)
    ridge = acc.theory(prob, n=[8, 32], lam=1e-2, generations=2, design="fixed")
    assert ridge.total.shape == (2, 2) and np.all(np.isfinite(ridge.total))
    with pytest.raises(sc.SimulationOnly, match="n >= d"):
        acc.theory(prob, n=[8, 32], lam=0.0, generations=2)
    clean = sc.Problem.isotropic(10, sigma2=0.0)
    edge = acc.theory(clean, n=11, lam=0.0, generations=2, ols="exact")
    assert np.all(edge.total == 0) and np.all(edge.status == sc.Status.CONVERGED)


def test_the_replace_setting_takes_the_design() -> None:
    prob = sc.Problem.isotropic(10, sigma2=1.0)
    rep = sc.settings.get("replace")
    fixed = rep.theory(prob, n=32, lam=0.0, generations=3, design="fixed", ols="exact")
    np.testing.assert_allclose(fixed.total, np.arange(1, 4) * 10 / 21)
    ridge = rep.theory(prob, n=[8, 32], lam=1e-2, generations=3, design="fixed")
    fresh = rep.theory(prob, n=[8, 32], lam=1e-2, generations=3)
    np.testing.assert_allclose(ridge.total[:, 0], fresh.total[:, 0], rtol=1e-10)  # generation 1
    assert np.all(ridge.total[:, 1:] != fresh.total[:, 1:])  # the designs differ after it
    with pytest.raises(sc.SimulationOnly, match="n >= d"):
        rep.theory(prob, n=8, lam=0.0, generations=3, design="fixed")
    reason = sc.settings.get("accumulate_subsample").reason_no_theory({})
    assert "either design" in reason and "fresh" in reason and "relabelled" in reason


@pytest.mark.parametrize(
    ("name", "kwargs", "match"),
    [
        ("accumulate", dict(design="stale"), "design must be one of fresh, fixed"),
        ("replace", dict(design=1), "design must be one of fresh, fixed"),
        ("accumulate", dict(design="fixed", n_synthetic=5), "n_synthetic must equal n"),
        ("accumulate_subsample", dict(design="fixed", n_synthetic=5), "n_synthetic must equal n"),
        ("accumulate", dict(n_synthetic=0), "n_synthetic"),
        ("replace", dict(n_synthetic=5), "n_synthetic"),
    ],
)
def test_bad_designs_raise_naming_the_parameter(name, kwargs, match) -> None:
    prob = sc.Problem.isotropic(10, sigma2=1.0)
    setting = sc.settings.get(name)
    with pytest.raises(ValueError, match=match):
        setting.simulate(prob, sc.MonteCarlo(0, 2), n=32, lam=0.0, generations=2, **kwargs)


def test_public_functions_reject_bad_designs() -> None:
    prob = sc.Problem.isotropic(10, sigma2=1.0)
    with pytest.raises(ValueError, match="design must be one of"):
        mixing.accumulate_error(prob, 32, 0.0, 2, key=0, reps=2, design="stale")
    with pytest.raises(ValueError, match="n_synthetic"):
        mixing.accumulate_subsample_error(prob, 32, 0.0, 2, key=0, reps=2, n_synthetic=1.5)
    with pytest.raises(ValueError, match="n must be >= d = 10 where lam = 0"):
        theory.replace_error(prob, [8, 32], 0.0, 2, design="fixed")
    with pytest.raises(ValueError, match="n must hold integers"):
        theory.replace_error(prob, 32.5, 0.1, 2, design="fixed")
    with pytest.raises(ValueError, match="n must hold integers in \\[10"):
        theory.accumulate_error(prob, 9, 0.0, 2)
    with pytest.raises(ValueError, match="lam must be 0"):
        theory.accumulate_error(prob, 32, 0.1, 2)


def test_a_fixed_design_sweep_gives_theory_and_simulation() -> None:
    spec = Sweep(d=10, family="isotropic", c2=0.0, sigma2=1.0, setting="accumulate",
                 method="both", reps=200, seed=2, axes={"n": [32, 64], "generations": [1, 2, 3]},
                 params={"design": "fixed", "ols": "exact"})  # fmt: skip
    table = run_sweep(spec, None, progress=False)
    th = table[table.method == "theory"].sort_values(["n", "generations"])
    sim = table[table.method == "simulate"].sort_values(["n", "generations"])
    want = [10 / (n - 11) * np.cumsum(1 / np.arange(1, 4) ** 2)[g - 1]
            for n in (32, 64) for g in (1, 2, 3)]  # fmt: skip
    np.testing.assert_allclose(th.total, want, rtol=1e-12)
    assert np.all(np.abs(sim.total.to_numpy() - th.total.to_numpy()) < 4 * sim.stderr.to_numpy())
    with pytest.raises(ValueError, match="simulation only"):
        Sweep(d=10, family="isotropic", setting="accumulate", method="theory",
              axes={"n": [32], "lam": [0.1], "generations": [2]})  # fmt: skip


# -- least squares: one choice, "exact" or "equivalent", the same number in every setting ------
@pytest.mark.parametrize(("ols", "want"), [("exact", 50 / 9), ("equivalent", 50 / 10)])
def test_ridge_at_lam_zero_and_generation_one_agree_under_each_ols(ols, want) -> None:
    prob = sc.Problem.isotropic(50, sigma2=1.0)
    ridge = sc.settings.get("ridge").theory(prob, n=60, lam=0.0, p2=0.0, ols=ols).total
    first = [
        sc.settings.get(name).theory(prob, n=60, lam=0.0, generations=2, ols=ols).total[0]
        for name in ("replace", "accumulate")
    ]
    np.testing.assert_allclose([ridge, *first], want, rtol=1e-12)


def test_each_setting_states_its_ols_default_and_a_sweep_honours_the_option(tmp_path) -> None:
    """One default everywhere, Theorem 1's equivalent (as theory.ridge_error and the paper);
    the option chooses the exact least-squares value in every setting that has it."""
    owners = {s.name: s for s in map(sc.settings.get, sc.settings.names()) if "ols" in s.names()}
    assert set(owners) >= {"ridge", "replace", "accumulate"}
    assert {s.param("ols").default for s in owners.values()} == {"equivalent"}
    prob = sc.Problem.isotropic(50, sigma2=1.0)
    plain = sc.settings.get("ridge").theory(prob, n=60, lam=0.0, p2=0.0).total
    np.testing.assert_allclose(plain, sc.theory.ridge_error(prob, 60, 0.0, 0.0).total)
    np.testing.assert_allclose(plain, 5.0, rtol=1e-12)
    spec = sc.Sweep(d=50, sigma2=1.0, c2=0.0, setting="ridge", params={"ols": "exact"},
                    axes={"n": [60, 100], "lam": [0.0, 0.1]}, method="theory")  # fmt: skip
    assert spec.fast_path is None  # the option is the setting's own theory's
    table = sc.run_sweep(spec, tmp_path)
    want = sc.settings.get("ridge").theory(
        spec.problem(), n=[[60], [100]], lam=[0.0, 0.1], ols="exact"
    )
    np.testing.assert_allclose(
        table.sort_values(["n", "lam"]).total, np.ravel(want.total), rtol=1e-12
    )
    np.testing.assert_allclose(table[(table.n == 60) & (table.lam == 0)].total, 50 / 9)


def test_exact_ols_changes_only_the_noise_part_and_only_at_lam_zero() -> None:
    prob = sc.Problem.power_law(20, alpha=1.5, source=1.2, c2=0.5, sigma2=0.5)
    ridge = sc.settings.get("ridge")
    n, lam, p2 = [[30], [60]], [0.0, 1e-2], [0.0, 0.3]
    ex = ridge.theory(prob, n=n, lam=lam, p2=p2, ols="exact")
    eq = ridge.theory(prob, n=n, lam=lam, p2=p2)  # the default: Theorem 1
    np.testing.assert_allclose(ex.zeta, eq.zeta, rtol=1e-12)
    np.testing.assert_allclose(ex.total[:, 1], eq.total[:, 1], rtol=1e-12)  # lam > 0
    np.testing.assert_allclose(ex.variance[:, 0], 0.5 * 20 / (np.array([30, 60]) - 21))
    edge = ridge.theory(prob, n=21, lam=0.0, p2=0.0, ols="exact")  # n = d + 1: diverges
    assert np.isinf(edge.total) and edge.status == sc.Status.THRESHOLD


def test_ridge_monte_carlo_at_lam_zero_sits_on_the_exact_value() -> None:
    prob = sc.Problem.isotropic(10, sigma2=1.0)
    ridge = sc.settings.get("ridge")
    mc = ridge.simulate(prob, sc.MonteCarlo(3, 4000), n=24, lam=0.0, p2=0.0)
    exact = ridge.theory(prob, n=24, lam=0.0, p2=0.0, ols="exact").total  # 10/13; Theorem 1: 10/14
    assert abs(mc.total - exact) < 3 * mc.stderr


def test_bad_ols_raises_naming_it() -> None:
    prob = sc.Problem.isotropic(10, sigma2=1.0)
    for name, extra in (("ridge", {"p2": 0.0}), ("accumulate", {"generations": 2})):
        with pytest.raises(ValueError, match="ols must be one of exact, equivalent"):
            sc.settings.get(name).theory(prob, n=32, lam=0.0, ols="approx", **extra)
    with pytest.raises(ValueError, match="ols must be one of"):
        theory.replace_error(prob, 32, 0.0, 2, ols="approx")


def test_cli_takes_the_design_and_the_synthetic_block_size(capsys) -> None:
    from simcollapse.cli import main

    args = ["theory", "--setting", "accumulate", "--d", "10", "--family", "isotropic",
            "--c2", "0", "--sigma2", "1", "--lam", "0", "--n", "32", "--generations", "3",
            "--ols", "exact", "--design", "fresh", "--n-synthetic", "64", "--json"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    want = theory.accumulate_ols_error(sc.Problem.isotropic(10, sigma2=1.0), 32, 3,
                                       n_synthetic=64)  # fmt: skip
    assert f"{want[-1]:.6g}"[:6] in out
    assert main([*args[:-5], "--design", "fixed", "--json"]) == 0
    with pytest.raises(SystemExit):
        main([*args[:-5], "--design", "stale"])
    assert "--design: invalid choice: 'stale'" in capsys.readouterr().err
