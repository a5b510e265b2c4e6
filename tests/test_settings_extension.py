"""A new setting (tests/noisy_ridge.py) plus one register line gets sweeps, the CLI and the
conformance checks without touching the package."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import noisy_ridge
import numpy as np
import pytest
import settings_conformance as conf

from simcollapse import settings
from simcollapse.cli import main
from simcollapse.sweep import Sweep, run_sweep


@pytest.fixture
def registered() -> Iterator[settings.Setting]:
    setting = settings.register(noisy_ridge.SETTING)  # the one registry line
    yield setting
    settings.unregister(setting.name)


@pytest.mark.slow
def test_conformance_checks(registered: settings.Setting) -> None:
    conf.assert_zero_p2_gives_zero_zeta(registered)
    conf.assert_ridge_case_equals_ridge(registered)
    conf.assert_same_shapes(registered)
    conf.assert_bad_input_names_parameter(registered)


def test_theory_matches_monte_carlo(registered: settings.Setting) -> None:
    conf.assert_theory_matches_monte_carlo(registered)


def test_sweep(registered: settings.Setting) -> None:
    spec = Sweep(d=30, setting="noisy_ridge", axes={"n": [60, 120], "tau2": [0.0, 1.0]},
                 params={"p2": 0.5}, method="both", reps=4)  # fmt: skip
    table = run_sweep(spec)
    assert len(table) == 8 and set(table.setting) == {"noisy_ridge"}
    th = table[table.method == "theory"].set_index(["n", "tau2"]).total
    # tau2 adds p2 tau2 x (variance gain) > 0
    assert np.all(th.xs(1.0, level="tau2").to_numpy() > th.xs(0.0, level="tau2").to_numpy())


def test_a_setting_registered_again_sweeps_with_its_new_theory(
    registered: settings.Setting,
) -> None:
    """A sweep after ``register(..., replace=True)`` uses the new theory, not a cached one."""

    def spec(tau2: list[float]) -> Sweep:
        return Sweep(d=30, setting="noisy_ridge", axes={"n": [60, 120], "tau2": tau2},
                     params={"p2": 0.5}, method="theory")  # fmt: skip

    run_sweep(spec([0.0, 1.0]))  # compiles and caches the first theory
    order = registered.names(settings.SOLVE, settings.RECOMBINE, settings.LENGTH)
    at = order.index("tau2")

    def doubled_tau2(problem: object, *values: object) -> object:
        values = list(values)
        values[at] = 2 * values[at]
        return registered.terms_fn(problem, *values)

    settings.register(dataclasses.replace(registered, terms_fn=doubled_tau2), replace=True)
    after = run_sweep(spec([0.0, 1.0])).total.to_numpy()
    settings.register(registered, replace=True)
    expected = run_sweep(spec([0.0, 2.0])).total.to_numpy()
    np.testing.assert_allclose(after, expected, rtol=1e-12)
    assert not np.allclose(after, run_sweep(spec([0.0, 1.0])).total.to_numpy())


def test_cli(registered: settings.Setting, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--setting", "noisy_ridge", "--d", "30", "--n", "100", "--p2", "0.5", "--tau2", "0,1"]
    assert main(["theory", *args, "--json"]) == 0
    rows = __import__("json").loads(capsys.readouterr().out)
    assert [r["tau2"] for r in rows] == [0.0, 1.0] and rows[1]["variance"] > rows[0]["variance"]
    assert main(["simulate", *args, "--reps", "2"]) == 0
    assert main(["theory", "--setting", "noisy_ridge", "--rounds", "2"]) == 2


def test_threshold_at_lam_zero_n_equals_d_like_ridge(registered: settings.Setting) -> None:
    """lam = 0, n = d: inf with Status.THRESHOLD (never an error), as built-in ridge."""
    import simcollapse as sc

    prob = sc.Problem.power_law(40, c2=0.5)
    got = registered.theory(prob, n=[40, 80], lam=0.0, p2=0.3, tau2=1.0)
    ridge = sc.settings.get("ridge").theory(prob, n=[40, 80], lam=0.0, p2=0.3)
    np.testing.assert_array_equal(got.status, ridge.status)
    assert got.status[0] == sc.Status.THRESHOLD and np.isinf(got.total[0])
    assert np.isfinite(got.total[1]) and got.total[1] > ridge.total[1]


def test_a_prepare_of_the_wrong_convention_is_refused_when_the_setting_is_built() -> None:
    """``prepare(shape, points, dtype)`` is the one convention; a two-argument one is refused at
    construction, in one line naming the convention, not deep inside the first simulation."""
    from simcollapse.settings import FastPath, Setting
    from simcollapse.settings._params import LAM, P2, N
    from simcollapse.simulate.engine import ridge_kernel
    from simcollapse.theory import ridge_terms

    def old_style(group, points):
        return (points["lam"],), {}

    with pytest.raises(TypeError, match=r"prepare must take \(shape, points, dtype\).*\(group, "):
        Setting.from_terms("old", "ridge", (N, LAM, P2), ridge_terms, ridge_kernel,
                           prepare=old_style)  # fmt: skip
    with pytest.raises(TypeError, match=r"prepare must take \(shape, points, dtype\)"):
        FastPath(solve=("n", "lam"), outer=ridge_terms, kernel=ridge_kernel, prepare=old_style)


def test_a_prepare_returning_only_the_arrays_is_refused_in_one_line() -> None:
    """``prepare`` returns (kernel arrays, static keywords); a bare tuple of arrays is named as
    such, not an AttributeError from inside the driver."""
    import simcollapse as sc
    from simcollapse.settings import Setting
    from simcollapse.settings._params import LAM, P2, N
    from simcollapse.simulate.engine import ridge_kernel
    from simcollapse.theory import ridge_terms

    def arrays_only(shape, points, dtype):
        return (points["lam"].astype(dtype),)

    mine = Setting.from_terms("bare", "ridge", (N, LAM, P2), ridge_terms, ridge_kernel,
                              prepare=arrays_only)  # fmt: skip
    prob = sc.Problem.isotropic(10, c2=1.0)
    with pytest.raises(TypeError, match=r"prepare must return \(kernel arrays, static keywords\)"):
        mine.simulate(prob, sc.MonteCarlo(key=0, reps=2), n=20, lam=0.1, p2=0.5)
