"""Ridge scaling figures: the error floor p2^2 c^2 against n (Theorem 1) and the isotropic
ridgeless closed form against phi = d/n (Corollary 1)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from simcollapse.figures.paper_common import (
    draw_errorbars,
    legend_note,
    level_preset,
    theory_and_simulation,
)
from simcollapse.figures.registry import FigureContext
from simcollapse.figures.style import new_figure, palette
from simcollapse.theory import isotropic_ridgeless_error

SCALING_P2 = (0.0, 0.001, 0.01, 0.1)


# --------------------------------------------------------------------------- scaling_plateau


def scaling_plateau_table(ctx: FigureContext) -> pd.DataFrame:
    """Tidy table of the scaling_plateau figure at ``ctx``'s level: ridge on a power-law
    problem (c^2 = 1, lam = 1e-6), the theory on a log grid of n up to 1e9 and the Monte Carlo at
    a few n, for each p2 in ``SCALING_P2`` (Theorem 1: every p2 > 0 stops at p2^2 c^2)."""
    cfg = level_preset(ctx, "scaling_plateau")
    common = dict(d=cfg["d"], family="power_law", alpha=1.5, source=1.5, c2=1.0, sigma2=0.1)
    grid = {"lam": [1e-6], "p2": list(SCALING_P2)}
    n_line = {"start": 10, "stop": 1e9, "num": cfg["n_line"], "scale": "log"}
    return theory_and_simulation(
        ctx, common, {"n": n_line, **grid}, {"n": cfg["n_sim"], **grid}, cfg["reps"]
    )


def scaling_plateau_plot(table: pd.DataFrame) -> Any:
    """Draw the scaling_plateau figure: test error against n (log-log) for each p2, theory
    lines, Monte Carlo points and the p2^2 c^2 floors."""
    fig, ax = new_figure(width=6.2, height=4.4)
    colors = palette(len(SCALING_P2))
    c2 = float(table["c2"].iloc[0])
    for color, p2 in zip(colors, SCALING_P2, strict=True):
        th = table[(table.method == "theory") & np.isclose(table.p2, p2)]
        ax.plot(th["n"], th["total"], color=color, lw=1.8, label=f"{p2:g}")
        sim = table[(table.method == "simulate") & np.isclose(table.p2, p2)]
        draw_errorbars(ax, sim, "n", color)
        if p2 > 0:
            ax.axhline(p2**2 * c2, color=color, ls="--", lw=1)
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="sample size n",
        ylabel="test error $E_{test}$",
        title=f"Strong model collapse: floors at $p_2^2 c^2$ ($c^2$={c2:g}, dashed)",
    )
    ax.legend(title="synthetic fraction $p_2$", loc="upper left", bbox_to_anchor=(1.02, 1.0))
    legend_note(ax, outside=True)
    return fig


# ----------------------------------------------------------------------- isotropic_corollary


def isotropic_corollary_table(ctx: FigureContext) -> pd.DataFrame:
    """Tidy table of the isotropic_corollary figure at ``ctx``'s level: ridgeless
    regression on an isotropic problem for p2 in {0, 0.1, 0.3, 0.5}, the sweep's theory on a grid of
    phi = d/n and the Monte Carlo at a few phi, each row with the closed form of Corollary 1
    (``closed_form``) beside it."""

    cfg = level_preset(ctx, "isotropic_corollary")
    d = cfg["d"]
    p2s = [0.0, 0.1, 0.3, 0.5]
    common = dict(d=d, family="isotropic", c2=1.0, sigma2=0.5)
    phi_line = np.linspace(0.04, 0.92, cfg["phi_line"])
    phi_sim = np.array(cfg["phi_sim"])
    table = theory_and_simulation(
        ctx,
        common,
        {"n": np.round(d / phi_line), "lam": [0.0], "p2": p2s},
        {"n": np.round(d / phi_sim), "lam": [0.0], "p2": p2s},
        cfg["reps"],
    )
    table["phi"] = table["d"] / table["n"]
    table["closed_form"] = isotropic_ridgeless_error(
        table["phi"].to_numpy(),
        table["p2"].to_numpy(),
        table["c2"].to_numpy(),
        table["sigma2"].to_numpy(),
    )
    return table


def isotropic_corollary_plot(table: pd.DataFrame) -> Any:
    """Draw the isotropic_corollary figure: test error against phi = d/n for each p2, the
    closed form as lines and the Monte Carlo as points."""
    fig, ax = new_figure(width=6.0, height=4.4)
    p2s = sorted(table["p2"].unique())
    for color, p2 in zip(palette(len(p2s)), p2s, strict=True):
        th = table[(table.method == "theory") & np.isclose(table.p2, p2)].sort_values("phi")
        ax.plot(th["phi"], th["closed_form"], color=color, lw=1.8, label=f"{p2:g}")
        draw_errorbars(
            ax, table[(table.method == "simulate") & np.isclose(table.p2, p2)], "phi", color
        )
    ax.set(
        yscale="log",
        xlabel=r"$\phi = d/n$",
        ylabel="test error $E_{test}$",
        title="Corollary 1: isotropic ridgeless regression",
    )
    ax.legend(title="$p_2$", loc="upper left", bbox_to_anchor=(1.02, 1.0))
    legend_note(ax, loc="lower left", outside=True)
    return fig
