"""The language-model figures: Figure 8's claims read off the tables, the levels, lm_depth."""

import dataclasses
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

from simcollapse.figures.registry import NEW, registry
from simcollapse.lm.depth import DEPTHS, _plot_depth, depth_experiment, loss_order_by_depth
from simcollapse.lm.experiment import PAPER_P2S, run_lm_experiment
from simcollapse.lm.figures import (
    _plot_curves,
    final_loss_rank_correlation,
    level_experiment,
    quick_experiment,
)
from simcollapse.lm.model import SIZES

matplotlib.use("Agg")

COMMITTED = Path(__file__).resolve().parents[1] / "figures" / "lm_synthetic_fraction.csv"


def fake_table(layers=(2,), p2s=(0.0, 0.5, 1.0), seeds=(0, 1, 2), steps=(32, 64)) -> pd.DataFrame:
    """A run_lm_experiment-shaped table whose final loss rises with p2 and falls with depth."""
    rng = np.random.default_rng(0)
    rows = []
    for n_layers in layers:
        for p2 in p2s:
            for seed in seeds:
                for step in steps:
                    loss = 3.0 / (1 + step / 32) + p2 - 0.01 * n_layers + 0.01 * rng.random()
                    rows.append(
                        dict(
                            size=f"L{n_layers}",
                            layers=n_layers,
                            width=16,
                            heads=2,
                            n_params=1000 * n_layers,
                            p2=p2,
                            seed=seed,
                            step=step,
                            tokens=100.0 * step,
                            test_loss=loss,
                            entropy=0.1,
                            excess_loss=loss - 0.1,
                            generator_test_loss=1.5,
                            kept_fraction=0.9,
                            perplexity_threshold=4.2,
                        )
                    )
    return pd.DataFrame(rows)


def test_rank_correlation_uses_the_last_step_and_means_over_seeds() -> None:
    df = fake_table(layers=(2, 4))
    # at the first step the loss falls with p2: only the last step may count
    first = df["step"] == 32
    df.loc[first, "test_loss"] = 5.0 - df.loc[first, "p2"]
    rho = final_loss_rank_correlation(df)
    assert rho.to_dict() == {"L2": 1.0, "L4": 1.0}
    # one seed of p2 = 1 far below, outvoted by nothing: the mean decides
    last_p2_1 = (df["step"] == 64) & (df["p2"] == 1.0)
    df.loc[last_p2_1 & (df["seed"] == 0), "test_loss"] = -10.0
    assert final_loss_rank_correlation(df)["L2"] == pytest.approx(-0.5)


def test_rank_correlation_needs_three_p2_values() -> None:
    with pytest.raises(ValueError, match="size 'L2' has 2 p2 values"):
        final_loss_rank_correlation(fake_table(p2s=(0.0, 1.0)))


@pytest.mark.skipif(not COMMITTED.is_file(), reason="no committed lm_synthetic_fraction table")
def test_committed_table_loss_rises_with_p2() -> None:
    """Figure 8, left: at the largest token count the real test loss increases with p2."""
    rho = final_loss_rank_correlation(pd.read_csv(COMMITTED))
    assert (rho >= 0.8).all(), rho.to_dict()


@pytest.mark.slow
def test_quick_level_loss_rises_with_p2() -> None:
    """Figure 8, left, computed: the quick level's smallest students, Spearman >= 0.8."""
    df = run_lm_experiment(dataclasses.replace(quick_experiment(0), sizes=("nano",)))
    assert df["kept_fraction"].iloc[0] == pytest.approx(0.9, abs=1 / 256)  # 10% filtered
    rho = final_loss_rank_correlation(df)
    assert rho["nano"] >= 0.8, rho.to_dict()


def test_default_level_meets_the_paper_grid() -> None:
    exp = level_experiment("default")
    assert len(set(exp.p2s) & set(PAPER_P2S + (0.02, 0.05, 0.2, 0.9))) >= 5
    assert len(exp.seeds) == 3
    assert exp.filter_frac > 0
    with pytest.raises(ValueError, match="mode must be one of"):
        level_experiment("huge")


@pytest.mark.parametrize("mode", ["quick", "default", "full"])
def test_depth_experiment_shares_data_and_generator(mode: str) -> None:
    base, deep = level_experiment(mode, 3), depth_experiment(mode, 3)
    assert deep.p2s == (1.0,)
    assert deep.run_key("generator") == base.run_key("generator")
    layers = [SIZES[s][0] for s in deep.sizes]
    assert layers == sorted(layers) and len(set(layers)) == 3
    assert len({SIZES[s][1] for s in deep.sizes}) == 1, "one width, depth alone varies"
    if mode == "quick":  # the 2-layer run is lm_synthetic_fraction's p2 = 1 run
        assert "nano" in deep.sizes and deep.run_key("student") == base.run_key("student")
    if mode != "quick":
        assert layers == [12, 18, 24]
    assert DEPTHS[mode] == deep.sizes


def test_loss_order_by_depth_reads_first_and_last_step() -> None:
    df = fake_table(layers=(1, 2, 4), p2s=(1.0,))
    order = loss_order_by_depth(df)
    assert order.loc["first", "step"] == 32 and order.loc["last", "step"] == 64
    assert order.loc["last", "order"] == (4, 2, 1)


def test_figure8_mapping() -> None:
    figures = registry()
    assert figures["lm_synthetic_fraction"].paper == "Figure 8, left"
    assert figures["lm_depth"].paper == "Figure 8, right"
    assert figures["lm_model_size"].paper == NEW


def test_plots_draw_standard_errors_and_the_filter() -> None:
    df = fake_table(layers=(2, 4))
    fig = _plot_curves(df)
    assert "kept: 90%" in fig._suptitle.get_text()
    assert fig.axes[0].collections, "a standard-error band per curve"
    fig = _plot_depth(fake_table(layers=(1, 2, 4), p2s=(1.0,)))
    assert "kept: 90%" in fig.axes[0].get_title()
    assert len(fig.axes[0].collections) == 3


@pytest.mark.parametrize(("mode", "together"), [("quick", None), ("default", True)])
def test_depth_figure_trains_several_seeds_side_by_side(monkeypatch, mode, together) -> None:
    from simcollapse.figures.registry import FigureContext
    from simcollapse.lm import depth

    seen = {}
    monkeypatch.setattr(
        depth, "run_lm_experiment", lambda exp, store, **kw: seen.update(kw, seeds=exp.seeds)
    )
    depth._compute_depth(FigureContext(mode=mode))
    assert seen["side_by_side"] is together  # one seed at the quick level: the default rule
    assert len(seen["seeds"]) == (2 if together else 1)
