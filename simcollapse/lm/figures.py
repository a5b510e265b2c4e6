"""Registered figures of the language-model experiment (paper Section 5).

* ``lm_synthetic_fraction`` (paper Figure 8, left): real test loss against tokens seen, one curve
  per p2, one panel per student size (mean over seeds, standard-error band);
* ``lm_model_size`` (not in the paper): final real test loss against the number of parameters,
  one curve per p2, from the same students;
* ``lm_depth`` (paper Figure 8, right, in ``lm.depth``): students of three depths at p2 = 1.

Generated stories are filtered for quality at every level: the ``FILTER_FRAC`` (10%) with the
highest per-token perplexity under the generator are dropped; the tables carry the fraction kept
and the perplexity threshold, and the figures print them.

On the built-in grammar the figures plot the *excess* loss over the grammar's exact per-token
entropy (the irreducible loss); on a user corpus (``figures --corpus FILE``), the raw test loss.
``quick``: short one-plot grammar stories, two toy sizes (nano, toy), p2 in {0, 0.1, 0.5, 1},
one seed, 64 steps of 16 rows. ``default``: p2 in {0, 0.02, 0.1, 0.2, 0.5, 1}, three seeds,
512 steps (eight times quick). ``full``: sizes from 2 to 12 layers, the paper's p2 grid, three
seeds (a GPU job).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
from scipy.stats import spearmanr

from simcollapse._aliases import seed_keyword
from simcollapse.analysis.seeds import mean_se
from simcollapse.figures.claims import Claim
from simcollapse.figures.registry import NEW, Figure, FigureContext, register
from simcollapse.figures.style import new_figure, palette
from simcollapse.keys import as_seed
from simcollapse.lm.estimate import experiment_work
from simcollapse.lm.experiment import PAPER_P2S, LMExperiment, run_lm_experiment
from simcollapse.lm.train import TrainConfig

__all__ = [
    "FILTER_FRAC",
    "default_experiment",
    "final_loss_rank_correlation",
    "full_experiment",
    "level_experiment",
    "quick_experiment",
]

#: Quality filter of every level: the generated stories with the highest per-token perplexity
#: under the generator (trained on real stories), this fraction of them, are dropped.
FILTER_FRAC = 0.1


@seed_keyword
def quick_experiment(key: Any = 0, corpus: str | None = None) -> LMExperiment:
    """The CPU-sized experiment behind ``figures --quick`` (weak generator, toy students).

    ``key`` is an int or a ``jax.random`` key; its seed (``keys.as_seed``) is the data seed and
    the student seed.

    Example:
      >>> exp = quick_experiment(key=0)
      >>> exp.sizes, exp.seeds
      (('nano', 'toy'), (0,))
    """
    seed = as_seed(key)
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
        filter_frac=FILTER_FRAC,
    )


@seed_keyword
def default_experiment(key: Any = 0, corpus: str | None = None) -> LMExperiment:
    """The hour-budget CPU level: six of the paper's p2, three seeds, eight times the steps.

    512 steps of 16 rows (about 0.85M tokens per student): the clean students are still
    improving at the end while the synthetic-heavy ones have levelled off near the generator.

    Example:
      >>> exp = default_experiment(key=0)
      >>> exp.p2s, exp.seeds, exp.student_train.steps
      ((0.0, 0.02, 0.1, 0.2, 0.5, 1.0), (0, 1, 2), 512)
    """
    seed = as_seed(key)
    recipe = TrainConfig(
        steps=512, batch_size=16, lr=1e-2, warmup_steps=24, eval_every=32, eval_batch=64
    )
    return dataclasses.replace(
        quick_experiment(seed, corpus),
        p2s=(0.0, 0.02, 0.1, 0.2, 0.5, 1.0),
        seeds=(seed, seed + 1, seed + 2),
        n_student=4000,
        student_train=recipe,
        generator_train=recipe,
        n_synthetic=512,
    )


@seed_keyword
def full_experiment(key: Any = 0, corpus: str | None = None) -> LMExperiment:
    """Paper-like settings (GPU): sizes up to GPT-2 small, p2 in {0, .001, .01, .1, .5, 1}.

    Example:
      >>> exp = full_experiment(key=0)
      >>> exp.p2s, exp.seeds
      ((0.0, 0.001, 0.01, 0.1, 0.5, 1.0), (0, 1, 2))
    """
    seed = as_seed(key)
    student = TrainConfig(
        steps=10_000,
        batch_size=64,
        lr=6e-4,
        warmup_steps=500,
        eval_every=500,
        eval_batch=128,
        checkpoint_every=1000,
    )
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
        student_train=student,
        generator_train=dataclasses.replace(student, steps=2000, warmup_steps=200),  # shorter
        n_synthetic=50_000,
        filter_frac=FILTER_FRAC,
        dropout=0.1,
        bf16=True,
    )


@seed_keyword
def level_experiment(mode: str, key: Any = 0, corpus: str | None = None) -> LMExperiment:
    """The experiment of a figure level: ``quick_experiment``, ``default_experiment`` or
    ``full_experiment``.

    Args:
      mode: "quick", "default" or "full".
      key: an int or a ``jax.random`` key; its seed (``keys.as_seed``) is the data seed and the
        first student seed.
      corpus: a user corpus file (``figures --corpus``), or None (the built-in grammar).

    Returns:
      An ``LMExperiment``.

    Raises:
      ValueError: an unknown mode.

    Example:
      >>> level_experiment("default").p2s
      (0.0, 0.02, 0.1, 0.2, 0.5, 1.0)
    """
    make = {"quick": quick_experiment, "default": default_experiment, "full": full_experiment}
    if mode not in make:
        raise ValueError(f"mode must be one of {', '.join(make)}, got {mode!r}")
    return make[mode](key, corpus)


def _experiment(ctx: FigureContext) -> LMExperiment:
    corpus = None if ctx.corpus is None else str(ctx.corpus)
    return level_experiment(ctx.mode, ctx.key, corpus)


def _work(ctx: FigureContext) -> Any:
    """The experiment's work; lm_synthetic_fraction and lm_model_size share it (one store entry)."""
    return experiment_work(_experiment(ctx))


def _compute_curves(ctx: FigureContext) -> pd.DataFrame:
    return run_lm_experiment(_experiment(ctx), ctx.store, progress=ctx.progress)


def _compute_sizes(ctx: FigureContext) -> pd.DataFrame:
    df = run_lm_experiment(_experiment(ctx), ctx.store, progress=ctx.progress)
    last = df[df["step"] == df["step"].max()]
    keys = ["size", "n_params", "p2"]
    agg = last.groupby(keys, as_index=False).agg(
        test_loss=("test_loss", "mean"),
        test_loss_se=("test_loss", "sem"),
        excess_loss=("excess_loss", "mean"),
        n_seeds=("seed", "nunique"),
        tokens=("tokens", "mean"),
        entropy=("entropy", "first"),
        generator_test_loss=("generator_test_loss", "first"),
        kept_fraction=("kept_fraction", "first"),
        perplexity_threshold=("perplexity_threshold", "first"),
    )
    return agg.fillna({"test_loss_se": 0.0}).sort_values(["p2", "n_params"])


def final_loss_rank_correlation(df: pd.DataFrame) -> pd.Series:
    """Spearman rank correlation of the synthetic fraction p2 with the final real test loss.

    The paper's Figure 8 (left) claim: at the largest token budget the real test loss rises with
    p2. Per student size, the test loss at the last evaluation step is averaged over seeds, and
    the Spearman correlation of those means with p2 is returned (1: the loss rises with every
    step in p2; at least 0.8 is the claim the figure tests), rounded to 12 decimals.

    Args:
      df: a ``run_lm_experiment`` table (columns size, p2, seed, step, test_loss), such as
        ``lm_synthetic_fraction.csv``.

    Returns:
      A Series indexed by size.

    Raises:
      ValueError: if a size has fewer than three p2 values (no rank correlation to speak of).

    Example:
      >>> df = pd.DataFrame({"size": "nano", "p2": [0.0, 0.0, 0.5, 0.5, 1.0, 1.0],
      ...                    "seed": [0, 1] * 3, "step": 64,
      ...                    "test_loss": [2.5, 2.7, 2.9, 2.8, 3.0, 3.1]})
      >>> float(final_loss_rank_correlation(df)["nano"])
      1.0
    """

    out = {}
    for size, sub in df.groupby("size", sort=False):
        last = sub[sub["step"] == sub["step"].max()]
        means = last.groupby("p2")["test_loss"].mean()
        if len(means) < 3:
            raise ValueError(
                f"size {size!r} has {len(means)} p2 values at its last step; need at least 3"
            )
        # rounded: a correlation that is exactly 0.8 in exact arithmetic stays 0.8
        out[size] = round(float(spearmanr(means.index, means.to_numpy()).statistic), 12)
    return pd.Series(out, name="spearman_p2_final_loss")


def filter_note(df: pd.DataFrame) -> str:
    """The quality filter in words, for a title: fraction kept and perplexity threshold."""
    kept, ppl = df["kept_fraction"].iloc[0], df["perplexity_threshold"].iloc[0]
    return (
        f"synthetic stories kept: {kept:.0%} (per-token perplexity <= {ppl:.3g} "
        "under the generator)"
    )


def mean_and_se(df: pd.DataFrame, by: list[str], col: str) -> pd.DataFrame:
    """Means over seeds of ``col`` and tokens; the standard error of ``col`` (0 for one seed)."""
    out = mean_se(df, by, col).rename(columns={"count": "n"})
    out.insert(len(by), "tokens", df.groupby(by)["tokens"].mean().to_numpy())
    return out


def loss_column(df: pd.DataFrame) -> tuple[str, str]:
    if df["entropy"].notna().all():
        return "excess_loss", "real test loss - entropy (nats/token)"
    return "test_loss", "real test loss (nats/token)"


def _p2_label(p2: float) -> str:
    return f"{p2:g}"


def plain_log_axis(axis: Any) -> None:
    """Log scale with plain tick labels (0.5, 2, 30k, 1M) instead of 5x10^-1."""

    def fmt(x: float, _pos: Any) -> str:
        for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
            if x >= scale:
                return f"{x / scale:g}{suffix}"
        return f"{x:g}"

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(fmt))
    axis.set_minor_formatter(NullFormatter())


def _plot_curves(df: pd.DataFrame) -> Any:

    col, ylabel = loss_column(df)
    sizes = list(dict.fromkeys(df.sort_values("n_params")["size"]))
    p2s = sorted(df["p2"].unique())
    fig, axes = new_figure(ncols=len(sizes), width=4.6, height=3.8, squeeze=False, sharey=True)
    colors = palette(len(p2s))
    for ax, size in zip(axes[0], sizes, strict=True):
        sub = df[df["size"] == size]
        for color, p2 in zip(colors, p2s, strict=True):
            g = mean_and_se(sub[sub["p2"] == p2], ["step"], col)
            ax.plot(g["tokens"], g["mean"], marker="o", ms=3, color=color, label=_p2_label(p2))
            ax.fill_between(
                g["tokens"], g["mean"] - g["se"], g["mean"] + g["se"], color=color, alpha=0.25
            )
        gen = sub["generator_test_loss"].iloc[0] - (
            sub["entropy"].iloc[0] if col == "excess_loss" else 0.0
        )
        ax.axhline(gen, color="grey", ls="--", lw=1, label="generator")
        n = int(sub["n_params"].iloc[0])
        ax.set_title(f"{size} ({n / 1e3:.0f}k params)")
        ax.set_xlabel("training tokens seen")
        ax.set_xscale("log")
        ax.set_yscale("log")
        plain_log_axis(ax.xaxis)
        plain_log_axis(ax.yaxis)
    axes[0][0].set_ylabel(ylabel)
    axes[0][-1].legend(
        title="synthetic\nfraction p2",
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        fontsize="small",
    )
    seeds = df["seed"].nunique()
    fig.suptitle(
        f"mean over {seeds} seed(s), band: standard error; {filter_note(df)}", fontsize="small"
    )
    return fig


def _plot_sizes(df: pd.DataFrame) -> Any:

    col, ylabel = loss_column(df)
    p2s = sorted(df["p2"].unique())
    fig, ax = new_figure(width=5.2, height=4.0)
    for color, p2 in zip(palette(len(p2s)), p2s, strict=True):
        g = df[df["p2"] == p2].sort_values("n_params")
        ax.errorbar(
            g["n_params"],
            g[col],
            yerr=g["test_loss_se"],
            marker="o",
            ms=4,
            capsize=3,
            color=color,
            label=_p2_label(p2),
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    plain_log_axis(ax.yaxis)
    sizes = df.drop_duplicates("n_params").sort_values("n_params")
    ax.set_xticks(
        sizes["n_params"],
        [f"{s}\n{n / 1e3:.0f}k" for s, n in zip(sizes["size"], sizes["n_params"], strict=True)],
    )
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("student size and parameters")
    ax.set_ylabel(f"final {ylabel}")
    tokens = float(np.mean(df["tokens"]))
    seeds = int(df["n_seeds"].max())
    ax.set_title(
        f"same budget: about {tokens / 1e3:.0f}k tokens per student;\n{seeds} seed(s), "
        f"bars: standard error\n" + filter_note(df).replace(" (", "\n(", 1),
        fontsize="small",
    )
    ax.legend(
        title="synthetic\nfraction p2",
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        fontsize="small",
    )
    return fig


# ---------------------------------------------------------------------------------------- claims
def _final_means(df: pd.DataFrame) -> pd.DataFrame:
    """Mean real test loss at each size's last step: index p2, one column per size."""
    last = df[df["step"] == df.groupby("size")["step"].transform("max")]
    return last.groupby(["p2", "size"])["test_loss"].mean().unstack("size")


def _all_synthetic_over_generator(df: pd.DataFrame) -> float:
    final = _final_means(df)
    return float(final.loc[final.index.max()].min() / df["generator_test_loss"].iloc[0])


def _all_synthetic_last_step(df: pd.DataFrame) -> float:
    sub = df[df["p2"] == df["p2"].max()]
    means = sub.groupby(["size", "step"])["test_loss"].mean().unstack("size").sort_index()
    return float((means.iloc[-1] - means.iloc[-2]).max())


def _bigger_gain(df: pd.DataFrame) -> float:
    """Smallest (loss of the smallest student - loss of the largest) over p2."""
    order = df.drop_duplicates("size").sort_values("n_params")["size"]
    by = df.pivot_table(index="p2", columns="size", values="test_loss")
    return float((by[order.iloc[0]] - by[order.iloc[-1]]).min())


SYNTHETIC_FRACTION_CLAIMS = (
    Claim(
        "loss-rises-with-p2",
        "At the last step the real test loss rises with p2 for every student size (smallest "
        "Spearman correlation of the seed means with p2, >= 0.8).",
        lambda df: float(final_loss_rank_correlation(df).min()),
        ">=",
        0.8,
    ),
    Claim(
        "all-synthetic-stays-above-generator",
        "Students trained on synthetic stories only (the largest p2) end at least 1.2 times the "
        "generator's own real test loss (smallest ratio over sizes).",
        _all_synthetic_over_generator,
        ">=",
        1.2,
    ),
    Claim(
        "all-synthetic-still-falling",
        "Students trained on synthetic stories only are still improving at the last evaluation "
        "(largest change of the seed mean over the last step, < 0).",
        _all_synthetic_last_step,
        "<",
        0.0,
    ),
)
MODEL_SIZE_CLAIMS = (
    Claim(
        "bigger-student-better-at-every-p2",
        "The largest student ends below the smallest at every p2: synthetic data never reverses "
        "the gain of size (smallest gain in final loss, > 0).",
        _bigger_gain,
        ">",
        0.0,
    ),
)


register(
    Figure(
        name="lm_synthetic_fraction",
        caption="GPT students on real + synthetic stories: real test loss against tokens seen, "
        "one curve per synthetic fraction p2, mean and standard error over seeds; the 10% of "
        "generated stories with the highest perplexity are filtered out (paper Section 5).",
        compute=_compute_curves,
        plot=_plot_curves,
        group="lm",
        paper="Figure 8, left",
        claims=SYNTHETIC_FRACTION_CLAIMS,
        work=_work,
    )
)
register(
    Figure(
        name="lm_model_size",
        caption="Final real test loss of GPT students against model size, one curve per "
        "synthetic fraction p2, at a fixed token budget (the students of "
        "lm_synthetic_fraction).",
        compute=_compute_sizes,
        plot=_plot_sizes,
        group="lm",
        paper=NEW,
        claims=MODEL_SIZE_CLAIMS,
        work=_work,
    )
)
