"""Registry entries for the MNIST figures: ``mnist_random_features`` and ``mnist_two_layer``.

Both compute a tidy table through ``experiments`` (cached in ``ctx.store``) and plot means over
seeds with standard-error bars. Settings per mode are in ``SETTINGS``; ``quick`` is sized to run
both figures on the built-in 5,000 digits in well under 90 s on a 2-core CPU; ``default`` uses all
of the built-in digits, random-feature widths up to 10^5 and two-layer widths up to 2,000 (the
paper's largest widths; about 0.6 GB of memory); ``full`` is paper scale in n too (full MNIST
from ``ctx.data_dir`` / SIMCOLLAPSE_DATA, n up to 30,000, meant for an accelerator). Sizes larger
than the pool of images are dropped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from simcollapse.analysis.seeds import mean_se
from simcollapse.figures.claims import Claim
from simcollapse.figures.registry import Figure, FigureContext, register
from simcollapse.figures.style import new_figure, palette
from simcollapse.neural.dry_run import random_feature_work, two_layer_work
from simcollapse.neural.experiments import random_feature_sweep, two_layer_sweep
from simcollapse.neural.mnist import load_digits

__all__ = [
    "SETTINGS",
    "compute_random_features",
    "compute_two_layer",
    "plot_random_features",
    "plot_two_layer",
]


def _paper_random_features(ns: list[int]) -> dict:
    """Random-feature settings at the paper's widths (up to 10^5) and fractions, for sizes ns."""
    return dict(
        ns=ns,
        ms=[100, 1000, 10000, 100000],
        p2s=[0.0, 0.01, 0.05, 0.2],
        n_seeds=5,
        n0=200,
        lam=1e-3,
    )


def _paper_two_layer(n: int, n_seeds: int, n_val: int, epochs: int, batch_size: int) -> dict:
    """Two-layer settings at the paper's widths (up to 2,000) and fractions."""
    return dict(
        n=n,
        widths=[8, 32, 128, 512, 2000],
        p2s=[0.0, 0.05, 0.2, 0.5],
        n_seeds=n_seeds,
        n0=200,
        n_val=n_val,
        epochs=epochs,
        batch_size=batch_size,
        lr=3e-3,
    )


SETTINGS = {
    "quick": {
        "rf": dict(
            ns=[200, 400, 800, 1600, 3200],
            ms=[100, 500, 2000],
            p2s=[0.0, 0.01, 0.05, 0.2],
            n_seeds=3,
            n0=200,
            lam=1e-3,
        ),
        "two_layer": dict(
            n=1000,
            widths=[8, 32, 128, 512],
            p2s=[0.0, 0.2, 0.5],
            n_seeds=3,
            n0=200,
            n_val=500,
            epochs=15,
            batch_size=50,
            lr=3e-3,
        ),
    },
    # Built-in 5,000 digits (4,000 training images, so n stops at 3,200); widths up to 10^5
    # random features, as in the paper. The dual form never builds the n x 10^5 feature matrix:
    # it streams blocks of 2,048 features into the n x n kernel (about 0.6 GB at n = 3,200).
    "default": {
        "rf": _paper_random_features(ns=[200, 400, 800, 1600, 3200]),
        "two_layer": _paper_two_layer(n=3000, n_seeds=3, n_val=1000, epochs=20, batch_size=100),
    },
    "full": {
        "rf": _paper_random_features(ns=[500, 1000, 2000, 5000, 10000, 20000, 30000]),
        "two_layer": _paper_two_layer(n=20000, n_seeds=5, n_val=5000, epochs=40, batch_size=128),
    },
}


def _seeds(ctx: FigureContext, k: int) -> list[int]:
    return [ctx.seed + i for i in range(k)]


def _run_sweep(sweep, ctx: FigureContext, digits, sizes, widths, s: dict) -> pd.DataFrame:
    """``sweep(digits, sizes, widths, p2s, seeds, ...)`` with the rest of the settings ``s``."""
    seeds = _seeds(ctx, s.pop("n_seeds"))
    p2s = s.pop("p2s")
    return sweep(digits, sizes, widths, p2s, seeds, store=ctx.store, progress=ctx.progress, **s)


def compute_random_features(ctx: FigureContext) -> pd.DataFrame:
    """Test MSE of random-feature ridge against n, for each p2 and width (``SETTINGS[mode]``).

    Args:
      ctx: the figure context: its level picks ``SETTINGS[mode]["rf"]``, its data_dir the
        digits (None: the built-in 5,000), its store keeps the sweep, its seed the first seed.

    Returns:
      ``random_feature_sweep``'s rows: one per (n, m, p2, seed), with test_mse.

    Example:
      A whole table fits random-feature ridge on the digits for every size, width, p2 and seed
      (``simcollapse figures --only mnist_random_features``); what its quick level sweeps:

      >>> s = SETTINGS["quick"]["rf"]
      >>> s["ns"], s["ms"], s["p2s"], s["n_seeds"]
      ([200, 400, 800, 1600, 3200], [100, 500, 2000], [0.0, 0.01, 0.05, 0.2], 3)
    """
    s = dict(SETTINGS[ctx.mode]["rf"])
    digits = load_digits(ctx.data_dir)
    room = digits.n_pool - s["n0"]
    ns = [n for n in s.pop("ns") if n <= room] or [room]
    return _run_sweep(random_feature_sweep, ctx, digits, ns, s.pop("ms"), s)


def compute_two_layer(ctx: FigureContext) -> pd.DataFrame:
    """Test MSE / error of two-layer nets against width, for each p2 (``SETTINGS[mode]``).

    Args:
      ctx: the figure context: its level picks ``SETTINGS[mode]["two_layer"]``, its data_dir
        the digits (None: the built-in 5,000), its store keeps the sweep, its seed the first seed.

    Returns:
      ``two_layer_sweep``'s rows: one per (width m, p2, seed), with test_mse and test_acc.

    Example:
      A whole table trains a two-layer net for every width, p2 and seed (``simcollapse figures
      --only mnist_two_layer``); what its quick level trains:

      >>> s = SETTINGS["quick"]["two_layer"]
      >>> s["n"], s["widths"], s["p2s"], s["epochs"]
      (1000, [8, 32, 128, 512], [0.0, 0.2, 0.5], 15)
    """
    s = dict(SETTINGS[ctx.mode]["two_layer"])
    digits = load_digits(ctx.data_dir)
    n = min(s.pop("n"), digits.n_pool - s["n0"] - s["n_val"])
    return _run_sweep(two_layer_sweep, ctx, digits, n, s.pop("widths"), s)


def seed_summary(df: pd.DataFrame, by: list[str], col: str) -> pd.DataFrame:
    return mean_se(df, by, col)


def _source_note(df: pd.DataFrame) -> str:
    src = ", ".join(sorted(df["data_source"].unique()))
    c2 = df.groupby("seed")["teacher_mse"].first().mean()
    return f"data: {src}; teacher on n0 = {int(df['n0'].iloc[0])} images, c$^2$ = {c2:.2f}"


def plain_log_ticks(ax, xticks) -> None:
    """Log-log axes; x ticks at the swept values, written as plain numbers."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(FixedLocator(xticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:.2g}"))


def errorbar_p2(ax, s: pd.DataFrame, x: str, colour, p2: float, **style) -> None:
    """Mean with standard-error bars (rows of ``seed_summary``) against column x, labelled by p2."""
    ax.errorbar(
        s[x],
        s["mean"],
        yerr=s["se"],
        color=colour,
        marker="o",
        ms=4,
        capsize=2,
        label=f"{p2:g}",
        **style,
    )


def plot_random_features(df: pd.DataFrame):
    """One panel per width m: test MSE against n (log-log), one line per p2, SE bars over seeds.

    Args:
      df: ``compute_random_features``'s rows (m, n, p2, seed, test_mse, teacher_mse, n0,
        data_source).

    Returns:
      matplotlib Figure.

    Example:
      >>> import matplotlib.pyplot as plt
      >>> df = pd.DataFrame({"m": 100, "n": [200, 200, 400, 400] * 2,
      ...                    "p2": [0.0] * 4 + [0.2] * 4, "seed": [0, 1] * 4,
      ...                    "test_mse": [0.5, 0.52, 0.4, 0.41, 0.6, 0.62, 0.55, 0.56],
      ...                    "teacher_mse": 0.3, "n0": 200, "data_source": "built-in"})
      >>> fig = plot_random_features(df)
      >>> fig.axes[0].get_title(), fig.axes[0].get_xlabel()
      ('width m = 100', 'training images n')
      >>> plt.close(fig)
    """
    widths = sorted(df["m"].unique())
    p2s = sorted(df["p2"].unique())
    fig, axes = new_figure(ncols=len(widths), width=4.2, height=3.8, sharey=True, squeeze=False)
    colours = palette(len(p2s))
    summ = seed_summary(df, ["m", "p2", "n"], "test_mse")
    for ax, m in zip(axes[0], widths, strict=True):
        for colour, p2 in zip(colours, p2s, strict=True):
            s = summ[(summ["m"] == m) & (summ["p2"] == p2)].sort_values("n")
            errorbar_p2(ax, s, "n", colour, p2)
        plain_log_ticks(ax, sorted(df["n"].unique()))
        ax.set_title(f"width m = {m:,}")
        ax.set_xlabel("training images n")
    axes[0][0].set_ylabel("test MSE (real labels)")
    axes[0][-1].legend(title="synthetic fraction p2", loc="upper right")
    fig.suptitle(
        "MNIST random-feature ridge: real + synthetic labels\n" + _source_note(df),
        fontsize="medium",
    )
    return fig


def plot_two_layer(df: pd.DataFrame):
    """Test MSE and test classification error against width (log x), one line per p2.

    Args:
      df: ``compute_two_layer``'s rows (m, n, p2, seed, test_mse, test_acc, teacher_mse, n0,
        data_source).

    Returns:
      matplotlib Figure with two panels.

    Example:
      >>> import matplotlib.pyplot as plt
      >>> df = pd.DataFrame({"m": [8, 8, 32, 32], "n": 1000, "p2": 0.0, "seed": [0, 1, 0, 1],
      ...                    "test_mse": [0.5, 0.52, 0.4, 0.41], "test_acc": [0.8, 0.82, 0.9, 0.9],
      ...                    "teacher_mse": 0.3, "n0": 200, "data_source": "built-in"})
      >>> fig = plot_two_layer(df)
      >>> [ax.get_ylabel() for ax in fig.axes]
      ['test MSE (real labels)', 'test classification error']
      >>> plt.close(fig)
    """
    p2s = sorted(df["p2"].unique())
    df = df.assign(test_err=1.0 - df["test_acc"])
    fig, axes = new_figure(ncols=2, width=4.6, height=3.8, squeeze=False)
    colours = palette(len(p2s))
    for ax, col, label in zip(
        axes[0],
        ["test_mse", "test_err"],
        ["test MSE (real labels)", "test classification error"],
        strict=True,
    ):
        summ = seed_summary(df, ["p2", "m"], col)
        for colour, p2 in zip(colours, p2s, strict=True):
            s = summ[summ["p2"] == p2].sort_values("m")
            errorbar_p2(ax, s, "m", colour, p2)
        plain_log_ticks(ax, sorted(df["m"].unique()))
        ax.set_xlabel("hidden width m")
        ax.set_ylabel(label)
    axes[0][-1].legend(title="synthetic fraction p2", loc="upper left", bbox_to_anchor=(1.02, 1.0))
    n = int(df["n"].iloc[0])
    fig.suptitle(
        f"MNIST two-layer ReLU nets (Adam), n = {n:,} training images\n" + _source_note(df),
        fontsize="medium",
    )
    return fig


def _rf_excess_at_largest_n(df: pd.DataFrame) -> float:
    """Smallest mean(p2 = max) - mean(p2 = 0) over the widths, at the largest n."""
    means = df[df["n"] == df["n"].max()].groupby(["m", "p2"])["test_mse"].mean().unstack("p2")
    return float((means[means.columns.max()] - means[0.0]).min())


def _two_layer_rise(df: pd.DataFrame) -> float:
    means = df.groupby("p2")["test_mse"].mean().sort_index()
    return float(np.diff(means.to_numpy()).min())


RANDOM_FEATURES_CLAIMS = (
    Claim(
        "largest-p2-above-clean-at-every-width",
        "At the largest n the largest p2 has a higher test MSE than the clean curve at every "
        "width (smallest excess, > 0).",
        _rf_excess_at_largest_n,
        ">",
        0.0,
    ),
)
TWO_LAYER_CLAIMS = (
    Claim(
        "error-rises-with-p2",
        "The two-layer networks' test MSE, averaged over widths and seeds, rises with p2 "
        "(smallest step, > 0).",
        _two_layer_rise,
        ">",
        0.0,
    ),
)


MNIST_RANDOM_FEATURES = register(
    Figure(
        name="mnist_random_features",
        caption="MNIST, random-feature ridge: test MSE against n for synthetic fractions p2 "
        "{0, 0.01, 0.05, 0.2}, one panel per width (up to 100,000); SE over seeds.",
        compute=compute_random_features,
        plot=plot_random_features,
        group="mnist",
        paper="Figure 7, random features",
        claims=RANDOM_FEATURES_CLAIMS,
        work=lambda ctx: random_feature_work(ctx, SETTINGS[ctx.mode]["rf"]),
    )
)

MNIST_TWO_LAYER = register(
    Figure(
        name="mnist_two_layer",
        caption="MNIST, two-layer ReLU networks (flax.nnx, AdamW): test MSE and error against "
        "width for several p2; SE over seeds.",
        compute=compute_two_layer,
        plot=plot_two_layer,
        group="mnist",
        paper="Figure 7, two-layer networks",
        claims=TWO_LAYER_CLAIMS,
        work=lambda ctx: two_layer_work(ctx, SETTINGS[ctx.mode]["two_layer"]),
    )
)
