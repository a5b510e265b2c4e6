"""``figures --dry-run`` estimates: every figure gets a row, the estimate follows the work."""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
import pytest

import simcollapse.figures.paper_common as paper_common
from simcollapse.figures.dry_run import (
    SWEEP_SIMULATE,
    Throughput,
    Work,
    figure_estimates,
    sweep_tasks,
)
from simcollapse.figures.registry import Figure
from simcollapse.figures.runner import select
from simcollapse.lm import full_experiment, quick_experiment
from simcollapse.lm.estimate import experiment_seconds, gpt_params
from simcollapse.sweep import Sweep


def fixed(rate) -> Throughput:
    """A throughput for every rate, so that no test calibrates: 1 ns per unit, 1 ms per call,
    1 s per compile."""
    return Throughput(per_unit=1e-9, per_call=1e-3, per_compile=1.0)


def test_estimate_scales_with_steps_and_rate():
    exp = quick_experiment()
    base = experiment_seconds(exp, 258, 1e9)
    twice = dataclasses.replace(
        exp, student_train=dataclasses.replace(exp.student_train, steps=128)
    )
    longer = experiment_seconds(twice, 258, 1e9)
    assert longer["students"] == pytest.approx(2 * base["students"], rel=0.05)
    assert experiment_seconds(exp, 258, 2e9)["total"] == pytest.approx(base["total"] / 2)
    assert base["students_count"] == 8


def test_full_level_counts_gpt2_small_students():
    exp = full_experiment()
    assert "gpt2-small" in exp.sizes
    assert gpt_params(12, 768, 4096, 512) == pytest.approx(88e6, rel=0.05)


def test_every_figure_gets_a_finite_estimate_at_the_quick_level():
    figures = select(None)
    rows = figure_estimates(figures, "quick", throughput=fixed)
    assert [r["name"] for r in rows] == [f.name for f in figures]
    for r in rows:
        assert r["seconds"] is not None and math.isfinite(r["seconds"]), r
        assert r["seconds"] > 0, r  # at least its drawing
    by_name = {r["name"]: r for r in rows}
    assert by_name["lm_model_size"]["how"].endswith("counted above (shared)")


def test_simulation_work_doubles_with_the_draws():
    spec = Sweep(d=50, axes={"n": [100, 400], "p2": [0.0, 0.1]}, method="simulate", reps=8)
    (once,) = sweep_tasks([spec])
    (twice,) = sweep_tasks([dataclasses.replace(spec, reps=16)])
    assert once.rate is SWEEP_SIMULATE and (once.calls, once.compiles) == (2, 2)
    assert twice.amount == pytest.approx(2 * once.amount)


def test_a_figure_estimate_rises_with_its_draws_and_points(monkeypatch):
    (fig,) = select(["scaling_plateau"])
    base = figure_estimates([fig], "quick", throughput=fixed)[0]["seconds"]
    quick = paper_common.PRESETS["scaling_plateau"]["quick"]
    monkeypatch.setitem(paper_common.PRESETS["scaling_plateau"], "quick", {**quick, "reps": 24})
    more_draws = figure_estimates([fig], "quick", throughput=fixed)[0]["seconds"]
    n_sim = [*quick["n_sim"], 8000]
    monkeypatch.setitem(paper_common.PRESETS["scaling_plateau"], "quick", {**quick, "n_sim": n_sim})
    more_points = figure_estimates([fig], "quick", throughput=fixed)[0]["seconds"]
    assert base < more_draws and base < more_points


def test_a_sweep_run_by_an_earlier_figure_is_not_counted_again():
    figures = select(["pareto", "rp_width", "theory_vs_simulation"])
    alone = {
        r["name"]: r["seconds"] for r in figure_estimates(figures[:2], "quick", throughput=fixed)
    }
    rows = figure_estimates(figures[::-1], "quick", throughput=fixed)  # theory_vs_simulation first
    after = {r["name"]: r["seconds"] for r in rows}
    assert after["pareto"] < alone["pareto"] and after["rp_width"] < alone["rp_width"]


def test_a_figure_that_cannot_be_estimated_says_why():
    def broken(ctx) -> Work:
        raise ValueError("no model of this work")

    fig = Figure("broken", "x", compute=lambda ctx: pd.DataFrame(), plot=lambda t: None,
                 work=broken)  # fmt: skip
    (row,) = figure_estimates([fig], "quick", throughput=fixed)
    assert row == {"name": "broken", "seconds": None, "how": "not estimated: no model of this work"}


def test_dry_run_cli_prints_a_row_per_figure_and_the_total(monkeypatch, capsys, tmp_path):
    import simcollapse.figures.dry_run as dry_run
    from simcollapse.cli import main

    monkeypatch.setattr(dry_run, "_estimate", _fixed_estimate(dry_run._estimate))
    assert (
        main(["figures", "--quick", "--only", "pareto", "--dry-run", "--out", str(tmp_path)]) == 0
    )
    out = capsys.readouterr().out
    assert "pareto" in out and "total:" in out and "every figure estimated" in out
    assert not any(tmp_path.iterdir())  # nothing written


def _fixed_estimate(estimate):
    return lambda figures, ctx, throughput=None: estimate(figures, ctx, fixed)
