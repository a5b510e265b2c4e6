"""Setting.fast_path: the one declaration a sweep's solve-once path reads."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import pytest

import simcollapse as sc
from simcollapse.settings import FastPath
from simcollapse.settings.ridge import FAST_PATH, prepare_draws, ridge_outer
from simcollapse.simulate.engine import ridge_kernel
from simcollapse.sweep import Sweep, run_sweep

GRID = dict(d=20, axes={"n": [30, 60], "lam": [1e-2, 1e-1], "p2": [0.0, 0.5]}, reps=4)


@pytest.fixture
def register() -> Iterator[object]:
    names: list[str] = []

    def add(name: str, fast: FastPath | None) -> None:
        setting = dataclasses.replace(sc.settings.get("ridge"), name=name, fast_path=fast)
        sc.settings.register(setting)
        names.append(name)

    yield add
    for name in names:
        sc.settings.unregister(name)


def _terms(table: object) -> np.ndarray:
    return table[["bias", "variance", "zeta", "total", "stderr"]].to_numpy()  # type: ignore[index]


def test_a_declared_fast_path_sweeps_to_the_numbers_of_ridge(register) -> None:
    register("ridge_again", FastPath(solve=("n", "lam"), outer=ridge_outer, kernel=ridge_kernel,
                                     prepare=prepare_draws))  # fmt: skip
    ours = run_sweep(Sweep(setting="ridge_again", method="both", **GRID))
    ridge = run_sweep(Sweep(setting="ridge", method="both", **GRID))
    assert Sweep(setting="ridge_again", **GRID).fast_path is not None
    np.testing.assert_array_equal(_terms(ours), _terms(ridge))  # bit for bit
    assert set(ours.setting) == {"ridge_again"} and set(ridge.setting) == {"ridge"}


def test_without_a_fast_path_the_sweep_runs_point_by_point_to_the_same_theory(register) -> None:
    register("ridge_slow", None)
    spec = Sweep(setting="ridge_slow", method="theory", **GRID)
    assert spec.is_generic
    slow = run_sweep(spec).sort_values(["n", "lam", "p2"])
    fast = run_sweep(Sweep(setting="ridge", method="theory", **GRID)).sort_values(
        ["n", "lam", "p2"]
    )
    np.testing.assert_allclose(slow.total.to_numpy(), fast.total.to_numpy(), rtol=1e-12)


def test_a_fast_path_without_a_kernel_simulates_through_the_setting(register) -> None:
    register("ridge_theory_fast", FastPath(solve=("n", "lam"), outer=ridge_outer))
    ours = run_sweep(Sweep(setting="ridge_theory_fast", method="simulate", **GRID))
    ridge = run_sweep(Sweep(setting="ridge", method="simulate", **GRID))
    assert len(ours) == len(ridge) == 8 and np.isfinite(ours.total).all()
    gap = np.abs(ours.total.to_numpy() - ridge.total.to_numpy())
    assert np.all(
        gap <= 3 * (ours.stderr + ridge.stderr).to_numpy() + 0.03 * ridge.total.to_numpy()
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(solve=("n",)), "solve must hold every SOLVE axis"),
        (dict(solve=("n", "lam", "tau")), "solve must hold every SOLVE axis"),
        (dict(shape_axes=("lam",)), "shape_axes must start with n"),
        (dict(prepare=None), "give kernel and prepare together"),
    ],
)
def test_a_malformed_fast_path_fails_at_construction(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(
            sc.settings.get("ridge"), fast_path=dataclasses.replace(FAST_PATH, **change)
        )


def test_a_fast_path_needs_grid_axes_and_options_only() -> None:
    with pytest.raises(ValueError, match="grid axes and options only, not rounds"):
        dataclasses.replace(sc.settings.get("iterative"), fast_path=FAST_PATH)


def test_the_cost_model_is_the_declarations() -> None:
    from simcollapse.sweep.cost import chunk_cost
    from simcollapse.sweep.planning import plan

    rp = Sweep(setting="random_projection", d=20, method="simulate", reps=2,
               axes={"n": [30], "m": [5, 40], "lam": [1e-2], "p2": [0.0, 0.5]})  # fmt: skip
    costs = [chunk_cost(rp, c) for c in plan(rp)]
    fast = rp.setting_obj.fast_path
    want = [2 * fast.draw_flops(20, {"n": 30, "m": m}, 2) for m in (5, 40)]
    assert costs == want and costs[0] < costs[1]


def test_a_fast_path_setting_keeps_its_own_checks_in_a_sweep(register) -> None:
    def refuse(params: dict) -> None:
        raise ValueError("refused by the setting's own check")

    strict = dataclasses.replace(sc.settings.get("ridge"), name="ridge_strict", check=refuse)
    sc.settings.register(strict)
    try:
        assert strict.fast_path is not None
        with pytest.raises(ValueError, match="refused by the setting's own check"):
            Sweep(setting="ridge_strict", method="theory", **GRID)
    finally:
        sc.settings.unregister("ridge_strict")


def test_fast_and_point_by_point_simulations_flag_the_same_threshold(register) -> None:
    """lam = 0 at n = d: THRESHOLD in a sweep's rows as in Setting.simulate, both paths."""
    register("ridge_slow", None)
    grid = dict(d=20, axes={"n": [20, 40], "lam": [0.0, 1e-2], "p2": [0.0, 0.3]}, reps=4)
    fast = run_sweep(Sweep(setting="ridge", method="simulate", **grid))
    slow = run_sweep(Sweep(setting="ridge_slow", method="simulate", **grid))
    key = ["n", "lam", "p2"]
    fast, slow = fast.sort_values(key), slow.sort_values(key)
    on = (fast.n == 20) & (fast.lam == 0)
    assert np.all(fast.status[on] == sc.Status.THRESHOLD)
    assert np.all(fast.status[~on] == sc.Status.CONVERGED)
    np.testing.assert_array_equal(fast.status.to_numpy(), slow.status.to_numpy())
    direct = sc.settings.get("ridge").simulate(
        sc.Problem.power_law(20), sc.MonteCarlo(0, 4), n=20, lam=0.0, p2=0.3
    )
    assert int(np.asarray(direct.status)) == sc.Status.THRESHOLD
