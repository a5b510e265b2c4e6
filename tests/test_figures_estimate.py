"""``figures --dry-run`` estimates: the LM figures from model flops, the others listed."""

from __future__ import annotations

import dataclasses

import pytest

from simcollapse.figures.runner import select
from simcollapse.lm import full_experiment, quick_experiment
from simcollapse.lm.dry_run import figure_estimates
from simcollapse.lm.estimate import experiment_seconds, gpt_params


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


@pytest.mark.slow
def test_every_figure_gets_a_row(monkeypatch):
    import simcollapse.lm.estimate as est

    monkeypatch.setattr(est, "calibrate", lambda: 1e12)
    rows = figure_estimates(select(None), "full")
    by_name = {r["name"]: r for r in rows}
    assert by_name["lm_synthetic_fraction"]["seconds"] > 0
    assert by_name["lm_model_size"]["seconds"] == 0.0
    assert by_name["lm_depth"]["seconds"] > 0
    assert by_name["mnist_two_layer"]["seconds"] is None
