"""Registry entry ``mnist_theory_vs_experiment``: MNIST learning curves against data-built theory.

Measured test MSE of ridge on pixels and of random-feature ridge (points, SE over seeds) against
the deterministic equivalent built from the same data (lines; ``mnist_theory``), for several
synthetic fractions p2. ``quick`` runs on the built-in 5,000 digits in about a minute of CPU;
``default`` adds width 2,000 (as wide as half the pool: where the estimated moments give out) and
5 seeds; ``full`` uses full MNIST when ``ctx.data_dir`` / SIMCOLLAPSE_DATA points at it (larger
n, widths 500 and 2,000: a 2,000 x 2,000 float64 feature covariance, 32 MB, built in blocks of
rows).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simcollapse.figures.claims import Claim
from simcollapse.figures.registry import Figure, FigureContext, register
from simcollapse.figures.style import new_figure, palette
from simcollapse.neural.dry_run import theory_work
from simcollapse.neural.experiments import random_feature_sweep
from simcollapse.neural.figures import errorbar_p2, plain_log_ticks, seed_summary
from simcollapse.neural.mnist import load_digits
from simcollapse.neural.mnist_theory import pixel_ridge_sweep, relative_gaps, theory_curves
from simcollapse.store import cached_run

__all__ = ["SETTINGS", "compute_theory_vs_experiment", "plot_theory_vs_experiment"]

_QUICK = dict(
    ns=[100, 200, 400, 800, 1600, 3200],
    ms=[200, 1000],
    p2s=[0.0, 0.1, 0.5],
    n_seeds=3,
    n0=200,
    teacher_lam=1e-2,
    lam=1e-3,
)
# wider features on the same 4,000-image pool: where the estimated moments give out
_DEFAULT = _QUICK | dict(ms=[200, 1000, 2000], n_seeds=5)
SETTINGS = {
    "quick": _QUICK,
    "default": _DEFAULT,
    "full": _DEFAULT | dict(ns=[250, 500, 1000, 2000, 4000, 8000, 16000, 32000], ms=[500, 2000]),
}


def compute_theory_vs_experiment(ctx: FigureContext) -> pd.DataFrame:
    """Measured rows (kind = "measured", one per seed) and theory rows (kind = "theory").

    Models: "pixels" (m = 0) and "random_features" (each width of ``SETTINGS[mode]["ms"]``).

    Args:
      ctx: the figure context: its level picks ``SETTINGS[mode]``, its data_dir the digits
        (None: the built-in 5,000), its store keeps the sweeps and theory curves.

    Returns:
      Rows with model, m, n, p2, seed, test_mse, teacher_mse, data_source and kind.

    Example:
      A whole table fits ridge on the digits and builds the theory for every size, width, p2 and
      seed (``simcollapse figures --only mnist_theory_vs_experiment``); its quick level:

      >>> s = SETTINGS["quick"]
      >>> s["ns"], s["ms"], s["p2s"], s["n_seeds"]
      ([100, 200, 400, 800, 1600, 3200], [200, 1000], [0.0, 0.1, 0.5], 3)
    """
    s = dict(SETTINGS[ctx.mode])
    digits = load_digits(ctx.data_dir)
    ns = [n for n in s["ns"] if n <= digits.n_pool - s["n0"]]
    seeds = [ctx.seed + i for i in range(s["n_seeds"])]
    common = dict(n0=s["n0"], teacher_lam=s["teacher_lam"], lam=s["lam"])
    key = dict(source=digits.source, n_pool=digits.n_pool, ns=ns, p2s=s["p2s"], seeds=seeds)
    tables = [
        cached_run(
            ctx.store,
            "mnist_pixel_ridge",
            key | common,
            lambda: pixel_ridge_sweep(digits, ns, s["p2s"], seeds, **common),
            source=digits.source,
        ),
        random_feature_sweep(
            digits, ns, s["ms"], s["p2s"], seeds, store=ctx.store, progress=ctx.progress, **common
        ),
    ]
    measured = pd.concat(tables, ignore_index=True).assign(kind="measured")
    theories = [
        cached_run(
            ctx.store,
            "mnist_theory",
            key | common | {"m": m},
            lambda m=m: theory_curves(digits, ns, s["p2s"], seeds, m=m, **common),
            source=digits.source,
        )
        for m in [0, *s["ms"]]
    ]
    keep = ["model", "m", "n", "p2", "seed", "test_mse", "teacher_mse", "data_source", "kind"]
    return pd.concat([measured[keep], *theories], ignore_index=True)


def plot_theory_vs_experiment(df: pd.DataFrame):
    """One panel per model (pixels, then each width): points = measured, lines = theory.

    Args:
      df: ``compute_theory_vs_experiment``'s rows (model, m, n, p2, seed, test_mse, data_source,
        kind).

    Returns:
      matplotlib Figure; each panel's title gives the median and worst |theory/measured - 1|.

    Example:
      >>> import matplotlib.pyplot as plt
      >>> measured = pd.DataFrame({"model": "pixels", "m": 0, "n": [100, 100, 200, 200],
      ...                          "p2": 0.0, "seed": [0, 1, 0, 1],
      ...                          "test_mse": [0.50, 0.52, 0.40, 0.42], "kind": "measured",
      ...                          "data_source": "built-in"})
      >>> theory = measured.assign(kind="theory", test_mse=[0.51, 0.51, 0.451, 0.451])
      >>> fig = plot_theory_vs_experiment(pd.concat([measured, theory], ignore_index=True))
      >>> print(fig.axes[0].get_title())
      ridge on pixels
      |theory/measured - 1|: median 5.0%, worst 10% (4 SE)
      theory below measured at 0% of points
      >>> plt.close(fig)
    """
    measured, theory = df[df["kind"] == "measured"], df[df["kind"] == "theory"]
    panels = sorted({(model, int(m)) for model, m in zip(df["model"], df["m"], strict=True)})
    panels.sort(key=lambda p: (p[0] != "pixels", p[1]))
    p2s = sorted(df["p2"].unique())
    colours = palette(len(p2s))
    fig, axes = new_figure(ncols=len(panels), width=4.2, height=3.8, sharey=True, squeeze=False)
    summ = seed_summary(measured, ["model", "m", "p2", "n"], "test_mse")
    gaps = relative_gaps(measured, theory)
    for ax, (model, m) in zip(axes[0], panels, strict=True):
        for colour, p2 in zip(colours, p2s, strict=True):
            pick = (summ["model"] == model) & (summ["m"] == m) & (summ["p2"] == p2)
            pts = summ[pick].sort_values("n")
            errorbar_p2(ax, pts, "n", colour, p2, ls="none")
            pick = (theory["model"] == model) & (theory["m"] == m) & (theory["p2"] == p2)
            line = theory[pick].sort_values("n")
            ax.plot(line["n"], line["test_mse"], color=colour, lw=1.5)
        plain_log_ticks(ax, sorted(df["n"].unique()))
        part = gaps[(gaps["model"] == model) & (gaps["m"] == m)]
        gap, below = part["gap"].abs().median(), (part["gap"] < 0).mean()
        z = _gap_in_se(part)
        worst = part.iloc[int(np.argmax(np.abs(z)))]
        title = "ridge on pixels" if model == "pixels" else f"random features, m = {m:,}"
        ax.set_title(
            f"{title}\n|theory/measured - 1|: median {gap:.1%}, worst {abs(worst.gap):.0%} "
            f"({np.abs(z).max():.0f} SE)\ntheory below measured at {below:.0%} of points",
            fontsize="small",
        )
        ax.set_xlabel("training images n")
    axes[0][0].set_ylabel("test MSE (real labels)")
    fig.legend(
        *axes[0][0].get_legend_handles_labels(),
        title="p2 (points: measured, lines: theory)",
        loc="outside lower center",
        ncols=len(p2s),
    )
    source = ", ".join(sorted(measured["data_source"].unique()))
    fig.suptitle(
        f"MNIST: theory built from the data against experiment ({source})", fontsize="medium"
    )
    return fig


def _gap_in_se(gaps: pd.DataFrame) -> np.ndarray:
    """(theory - measured) / SE over seeds of each point of a ``relative_gaps`` table."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return ((gaps["theory"] - gaps["measured"]) / gaps["se"]).to_numpy()


def _gaps(df: pd.DataFrame) -> pd.DataFrame:
    return relative_gaps(df[df["kind"] == "measured"], df[df["kind"] == "theory"])


def _worst_panel_median(df: pd.DataFrame) -> float:
    gaps = _gaps(df)
    return float(gaps.assign(a=gaps["gap"].abs()).groupby(["model", "m"])["a"].median().max())


THEORY_VS_EXPERIMENT_CLAIMS = (
    Claim(
        "median-gap-below-6-percent",
        "In every panel the median |theory/measured - 1| is below 6% (the largest panel median).",
        _worst_panel_median,
        "<",
        0.06,
    ),
    Claim(
        "worst-gap-below-20-percent",
        "The worst |theory/measured - 1| is below 20% (the largest gaps are at n >= 1,600 with "
        "m >= 1,000, where the error nears the noise level estimated from the pool).",
        lambda df: float(_gaps(df)["gap"].abs().max()),
        "<",
        0.2,
    ),
    Claim(
        "theory-below-measured",
        "The theory is below the measured mean at 70% of the points or more: a bias, not seed "
        "noise (fraction of points).",
        lambda df: float((_gaps(df)["gap"] < 0).mean()),
        ">=",
        0.7,
    ),
    Claim(
        "gap-beyond-seed-noise",
        "Some points miss by more than 3 standard errors over seeds: the gap is not seed noise "
        "(the worst |gap| in SE).",
        lambda df: float(np.nanmax(np.abs(_gap_in_se(_gaps(df))))),
        ">",
        3.0,
    ),
)


MNIST_THEORY_VS_EXPERIMENT = register(
    Figure(
        name="mnist_theory_vs_experiment",
        caption="Theory built from the data for the MNIST experiments of paper Figure 7: test MSE "
        "against n for p2 in {0, 0.1, 0.5}, ridge on pixels and random-feature ridge (points, SE "
        "over seeds) against the deterministic equivalent built from the data (lines).",
        compute=compute_theory_vs_experiment,
        plot=plot_theory_vs_experiment,
        group="mnist",
        claims=THEORY_VS_EXPERIMENT_CLAIMS,
        work=lambda ctx: theory_work(ctx, SETTINGS[ctx.mode]),
    )
)
