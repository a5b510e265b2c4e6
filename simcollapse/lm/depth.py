"""Figure 8, right: students of several depths trained on synthetic stories only (p2 = 1).

The paper trains GPT-2 students of 12, 18 and 24 layers (width 768) on BabiStories written by a
generator and finds the larger models lower at few tokens and the smaller ones lower at many
tokens. The registered figure ``lm_depth`` runs the same comparison on the level's experiment
(``lm.figures``: the same data, generator and quality filter as ``lm_synthetic_fraction``):

* ``quick``: 1, 2 and 4 layers of width 16 (the 2-layer run is the ``lm_synthetic_fraction``
  run at p2 = 1, reused from the store), one seed;
* ``default``: 12, 18 and 24 layers of width 16 (2 heads), two seeds, half the students' steps;
* ``full``: 12, 18 and 24 layers of width 768 (GPT-2 small and its deeper versions), three seeds.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from simcollapse._aliases import seed_keyword
from simcollapse.figures.claims import Claim
from simcollapse.figures.registry import Figure, FigureContext, register
from simcollapse.figures.style import new_figure, palette
from simcollapse.keys import as_seed
from simcollapse.lm.estimate import experiment_work
from simcollapse.lm.experiment import LMExperiment, run_lm_experiment
from simcollapse.lm.figures import (
    filter_note,
    level_experiment,
    loss_column,
    mean_and_se,
    plain_log_axis,
)

__all__ = ["DEPTHS", "depth_experiment", "loss_order_by_depth"]

#: Student sizes (names of ``model.SIZES``) of the depth comparison at each level.
DEPTHS: dict[str, tuple[str, ...]] = {
    "quick": ("narrow-1", "nano", "narrow-4"),
    "default": ("narrow-12", "narrow-18", "narrow-24"),
    "full": ("gpt2-small", "gpt2-18", "gpt2-24"),
}


@seed_keyword
def depth_experiment(mode: str, key: Any = 0, corpus: str | None = None) -> LMExperiment:
    """The level's experiment with students of ``DEPTHS[mode]``, all at p2 = 1.

    Args:
      mode: "quick", "default" or "full".
      key: an int or a ``jax.random`` key; its seed (``keys.as_seed``) is the data seed and the
        first student seed.
      corpus: a user corpus file, or None (the built-in grammar).

    Returns:
      An ``LMExperiment`` (same data, generator and filter as the level's
      ``lm_synthetic_fraction``; the default level trains two seeds for half the steps).

    Raises:
      ValueError: an unknown mode.

    Example:
      >>> [int(n[7:]) for n in depth_experiment("default").sizes]
      [12, 18, 24]
    """
    if mode not in DEPTHS:
        raise ValueError(f"mode must be one of {', '.join(DEPTHS)}, got {mode!r}")
    seed = as_seed(key)
    base = level_experiment(mode, seed, corpus)
    exp = dataclasses.replace(base, sizes=DEPTHS[mode], p2s=(1.0,))
    if mode == "default":
        recipe = base.student_train
        steps = recipe.steps // 2
        exp = dataclasses.replace(
            exp,
            seeds=(seed, seed + 1),
            student_train=dataclasses.replace(
                recipe, steps=steps, warmup_steps=min(recipe.warmup_steps, steps // 4)
            ),
        )
    return exp


def loss_order_by_depth(df: pd.DataFrame) -> pd.DataFrame:
    """The depths ranked by mean real test loss (lowest first) at the first and last evaluation.

    Args:
      df: an ``lm_depth`` table (columns layers, seed, step, test_loss).

    Returns:
      A DataFrame indexed by "first" and "last" with columns step and order (a tuple of layer
      counts, lowest loss first).

    Example:
      >>> df = pd.DataFrame({"layers": [2, 2, 4, 4], "seed": 0, "step": [10, 20, 10, 20],
      ...                    "test_loss": [3.0, 2.0, 2.9, 2.1]})
      >>> loss_order_by_depth(df)["order"].tolist()
      [(4, 2), (2, 4)]
    """
    means = df.groupby(["step", "layers"])["test_loss"].mean().unstack("layers")
    rows = {}
    for name, step in (("first", means.index.min()), ("last", means.index.max())):
        order = means.loc[step].sort_values().index
        rows[name] = {"step": int(step), "order": tuple(int(v) for v in order)}
    return pd.DataFrame.from_dict(rows, orient="index")


def _depth_experiment(ctx: FigureContext) -> LMExperiment:
    corpus = None if ctx.corpus is None else str(ctx.corpus)
    return depth_experiment(ctx.mode, ctx.key, corpus)


def _work_depth(ctx: FigureContext) -> Any:
    return experiment_work(_depth_experiment(ctx))


def _compute_depth(ctx: FigureContext) -> pd.DataFrame:
    exp = _depth_experiment(ctx)
    # The seeds of each depth side by side, on a CPU too: these deep, narrow students are many
    # small operations per step, whose cost two students share (about 1.7 times faster than one
    # after another for two 12-layer students on a 2-core CPU; the same numbers up to rounding)
    return run_lm_experiment(
        exp, ctx.store, progress=ctx.progress, side_by_side=len(exp.seeds) > 1 or None
    )


def _plot_depth(df: pd.DataFrame) -> Any:

    col, ylabel = loss_column(df)
    depths = sorted(df["layers"].unique())
    fig, ax = new_figure(width=5.4, height=4.0)
    for color, layers in zip(palette(len(depths)), depths, strict=True):
        sub = df[df["layers"] == layers]
        g = mean_and_se(sub, ["step"], col)
        n = int(sub["n_params"].iloc[0])
        label = f"{layers} layer{'' if layers == 1 else 's'} ({n / 1e3:.0f}k)"
        ax.plot(g["tokens"], g["mean"], marker="o", ms=3, color=color, label=label)
        ax.fill_between(
            g["tokens"], g["mean"] - g["se"], g["mean"] + g["se"], color=color, alpha=0.25
        )
    gen = df["generator_test_loss"].iloc[0] - (
        df["entropy"].iloc[0] if col == "excess_loss" else 0.0
    )
    ax.axhline(gen, color="grey", ls="--", lw=1, label="generator")
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain_log_axis(ax.xaxis)
    plain_log_axis(ax.yaxis)
    ax.set_xlabel("training tokens seen (all synthetic, p2 = 1)")
    ax.set_ylabel(ylabel)
    width = int(df["width"].iloc[0])
    ax.set_title(
        f"width {width}; mean over {df['seed'].nunique()} seed(s), band: standard error\n"
        f"{filter_note(df)}",
        fontsize="small",
    )
    ax.legend(title="student depth", fontsize="small")
    return fig


def _deep_over_shallow_last(df: pd.DataFrame) -> float:
    means = df.groupby(["step", "layers"])["test_loss"].mean().unstack("layers").sort_index()
    last = means.iloc[-1]
    return float(last[last.index.max()] / last[last.index.min()])


DEPTH_CLAIMS = (
    Claim(
        "deepest-not-lower-at-the-end",
        "At the last evaluation the deepest student is not below the shallowest (ratio of their "
        "seed means, >= 1): at this narrow width depth does not help on synthetic data.",
        _deep_over_shallow_last,
        ">=",
        1.0,
    ),
)


register(
    Figure(
        name="lm_depth",
        caption="GPT students of three depths trained on synthetic stories only (p2 = 1): real "
        "test loss against tokens seen (the paper's 12, 18 and 24 layers, narrowed to width 16 "
        "on a CPU).",
        compute=_compute_depth,
        plot=_plot_depth,
        group="lm",
        paper="Figure 8, right",
        claims=DEPTH_CLAIMS,
        work=_work_depth,
    )
)
