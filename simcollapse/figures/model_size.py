"""Model-size figures (random projections): the two regimes of the width against n, double
descent in the width m/n, and the error against the synthetic fraction for several widths."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from simcollapse.figures.paper_common import (
    draw_errorbars,
    legend_note,
    level_preset,
    run_figure_sweep,
    theory_and_simulation,
)
from simcollapse.figures.registry import FigureContext
from simcollapse.figures.style import new_figure, palette

WIDTH_P2 = (0.0, 0.02, 0.1, 0.2)


# ------------------------------------------------------------------------ model_size_regimes

# Isotropic inputs, widths below d, half the rows synthetic: the narrow model cannot see part of
# the shift, so the n -> infinity floor grows with the width when p2^2 c^2 exceeds the signal
# (low quality: larger models amplify collapse) and shrinks with it otherwise (high quality).
REGIME_C2 = {"high quality": 0.2, "low quality": 8.0}
REGIME_WIDTHS = (60, 150, 240)
REGIME_P2 = 0.5


def model_size_regimes_table(ctx: FigureContext) -> pd.DataFrame:
    """Tidy table of the model_size_regimes figure at ``ctx``'s level: random
    projections on an isotropic problem, p2 = 1/2, widths ``REGIME_WIDTHS``, one c^2 per regime
    (``REGIME_C2``): the theory on a log grid of n and the Monte Carlo at a few n, through the
    store; a ``regime`` column names each row's c^2."""
    cfg = level_preset(ctx, "model_size_regimes")
    common = dict(d=cfg["d"], family="isotropic", sigma2=0.1, setting="random_projection")
    grid = {
        "m": list(REGIME_WIDTHS),
        "lam": [1e-4],
        "p2": [REGIME_P2],
        "c2": list(REGIME_C2.values()),
    }
    n_line = {"start": 20, "stop": cfg["n_stop"], "num": cfg["n_line"], "scale": "log"}
    sim_axes = {"n": cfg["n_sim"], **grid}
    table = theory_and_simulation(ctx, common, {"n": n_line, **grid}, sim_axes, cfg["reps"])
    names = {v: k for k, v in REGIME_C2.items()}
    table["regime"] = [names[min(names, key=lambda c: abs(c - x))] for x in table["c2"]]
    return table


def model_size_regimes_plot(table: pd.DataFrame) -> Any:
    """Draw the model_size_regimes figure: test error against n for each width, one panel
    per regime (high- and low-quality synthetic data), theory lines and Monte Carlo points."""
    fig, axes = new_figure(ncols=len(REGIME_C2), width=5.6, height=4.2, sharey=True)
    widths = sorted(table["m"].unique())
    colors = palette(len(widths))
    verdict = {
        "high quality": "wider is better\n(except near its threshold n = m)",
        "low quality": "wider is worse for n > 2m (amplifies),\nbetter for n < m (mitigates)",
    }
    for ax, (regime, c2) in zip(axes, REGIME_C2.items(), strict=True):
        part = table[table.regime == regime]
        for color, m in zip(colors, widths, strict=True):
            th = part[(part.method == "theory") & (part.m == m)]
            ax.plot(th["n"], th["total"], color=color, lw=1.6, label=f"{m:g}")
            draw_errorbars(ax, part[(part.method == "simulate") & (part.m == m)], "n", color)
            ax.axvline(m, color=color, ls=":", lw=1)
        ax.set(
            xscale="log",
            yscale="log",
            xlabel="sample size n",
            title=f"{regime}, $c^2$ = {c2:g}: {verdict[regime]}",
        )
    d = int(table["d"].iloc[0])
    axes[0].set_ylabel(f"test error ($p_2$ = {REGIME_P2:g}, isotropic, d = {d})")
    axes[-1].legend(title="width m (dotted: n = m)", loc="upper left", bbox_to_anchor=(1.02, 1.0))
    legend_note(axes[-1], outside=True)
    return fig


# ----------------------------------------------------------------------- width_double_descent


def width_double_descent_table(ctx: FigureContext) -> pd.DataFrame:
    """Tidy table of the width_double_descent figure at ``ctx``'s level: random
    projections on a power-law problem at one n, the theory on a log grid of widths m from n/10 to
    10 n (m = n included) and the Monte Carlo at m/n in {0.2, 0.5, 2, 5}, for p2 in ``WIDTH_P2``;
    ``psi = m/n`` is added."""
    cfg = level_preset(ctx, "width_double_descent")
    d, n = cfg["d"], cfg["n"]
    common = dict(
        d=d,
        family="power_law",
        alpha=1.0,
        source=1.0,
        c2=0.5,
        sigma2=0.2,
        setting="random_projection",
    )
    m_line = np.unique(np.round(np.geomspace(0.1 * n, 10 * n, cfg["m_line"])))
    m_line = np.union1d(m_line, [n])
    theory_axes = {"n": [n], "m": m_line, "lam": [1e-6], "p2": list(WIDTH_P2)}
    sim_axes = {**theory_axes, "m": [int(n * f) for f in (0.2, 0.5, 2, 5)]}
    table = theory_and_simulation(ctx, common, theory_axes, sim_axes, cfg["reps"])
    table["psi"] = table["m"] / table["n"]
    return table


def width_double_descent_plot(table: pd.DataFrame) -> Any:
    """Draw the width_double_descent figure: left, the test error against psi = m/n (the
    peak at m = n); right, the synthetic term zeta growing below the threshold and shrinking
    beyond it."""
    fig, (ax, az) = new_figure(ncols=2, width=5.2, height=4.2)
    for color, p2 in zip(palette(len(WIDTH_P2)), WIDTH_P2, strict=True):
        th = table[(table.method == "theory") & np.isclose(table.p2, p2)]
        ax.plot(th["psi"], th["total"], color=color, lw=1.8, label=f"{p2:g}")
        draw_errorbars(
            ax, table[(table.method == "simulate") & np.isclose(table.p2, p2)], "psi", color
        )
        if p2 > 0:
            az.plot(th["psi"], th["zeta"], color=color, lw=1.8, label=f"{p2:g}")
    for a in (ax, az):
        a.axvline(1.0, color="0.5", ls=":", lw=1)
        a.set(xscale="log", yscale="log", xlabel=r"$\psi = m/n$")
    n = int(table["n"].iloc[0])
    ax.set(ylabel="test error", title=f"Random projections, n = {n} (dotted: m = n)")
    az.set(ylabel=r"synthetic term $\zeta$ (theory)", title="grows below $m = n$, shrinks beyond")
    ax.legend(title="$p_2$ (lines close:\nsee the $\\zeta$ panel)", loc="upper right")
    legend_note(ax, loc="upper left")
    az.legend(title="$p_2$", loc="upper right")
    return fig


# ------------------------------------------------------------------------ synthetic_fraction


RIDGE_WIDTH = "ridge (m = ∞)"  # the width label of the ridge curve


def synthetic_fraction_table(ctx: FigureContext) -> pd.DataFrame:
    """Tidy table of the synthetic_fraction figure at ``ctx``'s level: the theory of random
    projections (each width) and of ridge against p2 in [0, 1] at several n, and the Monte Carlo
    of random projections at four p2 for the two smallest n; ``width`` labels each curve
    (ridge is m = infinity)."""
    cfg = level_preset(ctx, "synthetic_fraction")
    common = dict(d=cfg["d"], family="power_law", alpha=1.5, source=1.5, c2=0.5, sigma2=0.1)
    ns, widths = cfg["ns"], cfg["widths"]
    p2 = np.linspace(0.0, 1.0, cfg["p2_line"])
    rp = run_figure_sweep(
        ctx,
        **common,
        setting="random_projection",
        method="theory",
        axes={"n": ns, "m": widths, "lam": [1e-4], "p2": p2},
    )
    ridge = run_figure_sweep(
        ctx, **common, method="theory", axes={"n": ns, "lam": [1e-4], "p2": p2}
    )
    sim = run_figure_sweep(
        ctx,
        **common,
        setting="random_projection",
        method="simulate",
        reps=cfg["reps"],
        axes={"n": ns[:2], "m": widths, "lam": [1e-4], "p2": [0.0, 0.2, 0.5, 1.0]},
    )
    table = pd.concat([rp, ridge, sim], ignore_index=True)
    # ridge rows have no width (m is NaN after the concatenation): m = infinity
    table["width"] = [
        RIDGE_WIDTH if np.isnan(m) else f"m = {int(m)}" for m in table.get("m", np.nan)
    ]
    return table


def synthetic_fraction_plot(table: pd.DataFrame) -> Any:
    """Draw the synthetic_fraction figure: test error against p2, one panel per n, one
    curve per width (a width m >= d lies on the ridge line, drawn dashed on top of it)."""
    ns = sorted(table["n"].unique())
    fig, axes = new_figure(ncols=len(ns), width=4.4, height=4.0, sharey=True)
    widths = sorted(table["width"].unique(), key=lambda w: (w == RIDGE_WIDTH, len(w), w))
    colors = dict(zip(widths, palette(len(widths)), strict=True))
    d = int(table["d"].iloc[0])
    for ax, n in zip(axes, ns, strict=True):
        part = table[table.n == n]
        for w in widths:
            th = part[(part.method == "theory") & (part.width == w)]
            # A width m >= d spans the inputs: its theory line lies on the ridge line, so it is
            # drawn dashed on top of a wider ridge line, and the legend says so.
            wide = w != RIDGE_WIDTH and int(w.split("=")[1]) >= d
            style = (
                dict(ls="--", lw=1.6, zorder=2.5)
                if wide
                else dict(lw=3.0 if w == RIDGE_WIDTH else 1.6)
            )
            label = f"{w} (m ≥ d = {d}: on the ridge line)" if wide else w
            ax.plot(th["p2"], th["total"], color=colors[w], label=label, **style)
            draw_errorbars(
                ax, part[(part.method == "simulate") & (part.width == w)], "p2", colors[w]
            )
        ax.set(yscale="log", xlabel="synthetic fraction $p_2$", title=f"n = {n:,}")
    axes[0].set_ylabel("test error")
    axes[-1].legend(title="model (theory)", loc="lower right", fontsize="small")
    legend_note(axes[0])
    return fig
