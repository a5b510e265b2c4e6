"""Registered figures of the language-model experiment (paper Section 5).

* ``lm_synthetic_fraction``: real test loss against tokens seen, one curve per p2, one panel per
  student size (the paper's loss-versus-training-tokens curves for GPT-2 on BabiStories).
* ``lm_model_size``: final real test loss against the number of parameters, one curve per p2.

On the built-in grammar both plot the *excess* loss over the grammar's exact per-token entropy
(the irreducible loss); on a user corpus, the raw test loss. ``quick`` mode: short one-plot
grammar stories, two toy sizes, p2 in {0, 0.1, 0.5, 1}, 64 steps of 16 rows (about 1.5 minutes
on a 2-core CPU for both figures; they share one experiment). ``default``: five of the paper's p2,
three seeds and four times the steps of ``quick``. ``full`` mode: the full grammar
(or ``--corpus``), sizes from 2 to 12 layers, the paper's p2 grid, three seeds (a GPU job).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from simcollapse.figures.registry import Figure, FigureContext, register
from simcollapse.lm.experiment import PAPER_P2S, LMExperiment, run_lm_experiment
from simcollapse.lm.train import TrainConfig

__all__ = ["default_experiment", "full_experiment", "quick_experiment"]


def quick_experiment(seed: int = 0, corpus: str | None = None) -> LMExperiment:
    """The CPU-sized experiment behind ``figures --quick`` (weak generator, toy students).

    Example:
      >>> exp = quick_experiment(seed=0)
      >>> exp.sizes, exp.seeds
      (('nano', 'toy'), (0,))
    """
    recipe = TrainConfig(
        steps=64, batch_size=16, lr=1e-2, warmup_steps=6, eval_every=16, eval_batch=64
    )
    return LMExperiment(
        corpus=corpus,
        grammar_plots=(1.0,),
        bpe_vocab=512,
        n_test=64,
        n_generator=100,
        n_student=2000,
        context=512 if corpus is None else 128,  # grammar: clipped to its longest story + EOS
        sizes=("nano", "toy"),
        generator_size="nano",
        p2s=(0.0, 0.1, 0.5, 1.0),
        seeds=(seed,),
        data_seed=seed,
        student_train=recipe,
        generator_train=recipe,  # the same recipe and size as nano: one compiled step for both
        n_synthetic=256,
    )


def default_experiment(seed: int = 0, corpus: str | None = None) -> LMExperiment:
    """The hour-budget CPU level: five of the paper's p2, three seeds, four times the steps."""
    recipe = TrainConfig(
        steps=256, batch_size=16, lr=1e-2, warmup_steps=24, eval_every=32, eval_batch=64
    )
    return dataclasses.replace(
        quick_experiment(seed, corpus),
        p2s=(0.0, 0.01, 0.1, 0.5, 1.0),
        seeds=(seed, seed + 1, seed + 2),
        n_student=4000,
        student_train=recipe,
        generator_train=recipe,
        n_synthetic=512,
    )


def full_experiment(seed: int = 0, corpus: str | None = None) -> LMExperiment:
    """Paper-like settings (GPU): sizes up to GPT-2 small, p2 in {0, .001, .01, .1, .5, 1}.

    Example:
      >>> exp = full_experiment(seed=0)
      >>> exp.p2s, exp.seeds
      ((0.0, 0.001, 0.01, 0.1, 0.5, 1.0), (0, 1, 2))
    """
    return LMExperiment(
        corpus=corpus,
        n_test=2000,
        n_generator=20_000,
        n_student=None if corpus is not None else 100_000,
        context=512,
        sizes=("tiny", "mini", "small", "medium", "gpt2-small"),
        generator_size="small",
        p2s=PAPER_P2S,
        seeds=(seed, seed + 1, seed + 2),
        data_seed=seed,
        student_train=TrainConfig(
            steps=10_000,
            batch_size=64,
            lr=6e-4,
            warmup_steps=500,
            eval_every=500,
            eval_batch=128,
            checkpoint_every=1000,
        ),
        generator_train=TrainConfig(
            steps=2000,
            batch_size=64,
            lr=6e-4,
            warmup_steps=200,
            eval_every=500,
            eval_batch=128,
            checkpoint_every=1000,
        ),
        n_synthetic=50_000,
        dropout=0.1,
        bf16=True,
    )


def _experiment(ctx: FigureContext) -> LMExperiment:
    corpus = None if ctx.corpus is None else str(ctx.corpus)
    make = {"quick": quick_experiment, "default": default_experiment, "full": full_experiment}[
        ctx.mode
    ]
    return make(ctx.seed, corpus)


def _compute_curves(ctx: FigureContext) -> pd.DataFrame:
    return run_lm_experiment(_experiment(ctx), ctx.store, progress=ctx.progress)


def _compute_sizes(ctx: FigureContext) -> pd.DataFrame:
    df = run_lm_experiment(_experiment(ctx), ctx.store, progress=ctx.progress)
    last = df[df["step"] == df["step"].max()]
    keys = ["size", "n_params", "p2"]
    agg = last.groupby(keys, as_index=False).agg(
        test_loss=("test_loss", "mean"),
        test_loss_sd=("test_loss", "std"),
        excess_loss=("excess_loss", "mean"),
        n_seeds=("seed", "nunique"),
        tokens=("tokens", "mean"),
        entropy=("entropy", "first"),
        generator_test_loss=("generator_test_loss", "first"),
    )
    return agg.fillna({"test_loss_sd": 0.0}).sort_values(["p2", "n_params"])


def _loss_column(df: pd.DataFrame) -> tuple[str, str]:
    if df["entropy"].notna().all():
        return "excess_loss", "real test loss - entropy (nats/token)"
    return "test_loss", "real test loss (nats/token)"


def _p2_label(p2: float) -> str:
    return f"{p2:g}"


def _plain_log_axis(axis: Any) -> None:
    """Log scale with plain tick labels (0.5, 2, 30k, 1M) instead of 5x10^-1."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    def fmt(x: float, _pos: Any) -> str:
        for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
            if x >= scale:
                return f"{x / scale:g}{suffix}"
        return f"{x:g}"

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(fmt))
    axis.set_minor_formatter(NullFormatter())


def _plot_curves(df: pd.DataFrame) -> Any:
    from simcollapse.figures.style import new_figure, palette

    col, ylabel = _loss_column(df)
    sizes = list(dict.fromkeys(df.sort_values("n_params")["size"]))
    p2s = sorted(df["p2"].unique())
    fig, axes = new_figure(ncols=len(sizes), width=4.6, height=3.8, squeeze=False, sharey=True)
    colors = palette(len(p2s))
    for ax, size in zip(axes[0], sizes, strict=True):
        sub = df[df["size"] == size]
        for color, p2 in zip(colors, p2s, strict=True):
            g = sub[sub["p2"] == p2].groupby("step", as_index=False)[["tokens", col]].mean()
            ax.plot(g["tokens"], g[col], marker="o", ms=3, color=color, label=_p2_label(p2))
        gen = sub["generator_test_loss"].iloc[0] - (
            sub["entropy"].iloc[0] if col == "excess_loss" else 0.0
        )
        ax.axhline(gen, color="grey", ls="--", lw=1, label="generator")
        n = int(sub["n_params"].iloc[0])
        ax.set_title(f"{size} ({n / 1e3:.0f}k params)")
        ax.set_xlabel("training tokens seen")
        ax.set_xscale("log")
        ax.set_yscale("log")
        _plain_log_axis(ax.xaxis)
        _plain_log_axis(ax.yaxis)
    axes[0][0].set_ylabel(ylabel)
    axes[0][-1].legend(
        title="synthetic\nfraction p2",
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        fontsize="small",
    )
    return fig


def _plot_sizes(df: pd.DataFrame) -> Any:
    from matplotlib.ticker import NullFormatter

    from simcollapse.figures.style import new_figure, palette

    col, ylabel = _loss_column(df)
    p2s = sorted(df["p2"].unique())
    fig, ax = new_figure(width=5.2, height=4.0)
    for color, p2 in zip(palette(len(p2s)), p2s, strict=True):
        g = df[df["p2"] == p2].sort_values("n_params")
        ax.errorbar(
            g["n_params"],
            g[col],
            yerr=g["test_loss_sd"],
            marker="o",
            ms=4,
            capsize=3,
            color=color,
            label=_p2_label(p2),
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    _plain_log_axis(ax.yaxis)
    sizes = df.drop_duplicates("n_params").sort_values("n_params")
    ax.set_xticks(
        sizes["n_params"],
        [f"{s}\n{n / 1e3:.0f}k" for s, n in zip(sizes["size"], sizes["n_params"], strict=True)],
    )
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("student size and parameters")
    ax.set_ylabel(f"final {ylabel}")
    tokens = float(np.mean(df["tokens"]))
    ax.set_title(f"same budget: about {tokens / 1e3:.0f}k tokens per student")
    ax.legend(
        title="synthetic\nfraction p2",
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        fontsize="small",
    )
    return fig


register(
    Figure(
        name="lm_synthetic_fraction",
        caption="GPT students on real + synthetic stories: real test loss against tokens seen, "
        "one curve per synthetic fraction p2 (paper Section 5).",
        compute=_compute_curves,
        plot=_plot_curves,
        group="lm",
        paper="Figure 8, left",
    )
)
register(
    Figure(
        name="lm_model_size",
        caption="Final real test loss of GPT students against model size, one curve per "
        "synthetic fraction p2, at a fixed token budget (paper Section 5).",
        compute=_compute_sizes,
        plot=_plot_sizes,
        group="lm",
        paper="Figure 8, right",
    )
)
