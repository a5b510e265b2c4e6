"""The check of every simulated point of the sweep figures against the theory at that point."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from simcollapse.figures.registry import FigureContext
from simcollapse.figures.style import new_figure, palette
from simcollapse.sweep import problem_of_row

# ---------------------------------------------------------------------- theory_vs_simulation

MAIN_FIGURES = (
    "scaling_plateau",
    "isotropic_corollary",
    "model_size_regimes",
    "width_double_descent",
    "synthetic_fraction",
)
# Figures of other modules whose tables are sweep tables too (their simulated points join in).
OTHER_SIMULATED = ("rp_width",)


def theory_vs_simulation_table(ctx: FigureContext) -> pd.DataFrame:
    """Every simulated point of the other figures, beside the theory at the same point."""
    import simcollapse.figures.width  # noqa: F401  (registers rp_width)
    from simcollapse import theory
    from simcollapse.figures.registry import get

    rows = []
    for name in (*MAIN_FIGURES, *OTHER_SIMULATED):
        table = get(name).compute(ctx)
        sim = table[table.method == "simulate"].copy()
        sim["figure"] = name
        rows.append(sim)
    sim = pd.concat(rows, ignore_index=True)
    values = np.empty(len(sim))
    for i, r in enumerate(sim.itertuples()):
        prob = problem_of_row(r)
        if r.model == "rp":
            values[i] = theory.rp_error(prob, r.n, r.m, r.lam, r.p2).total
        else:
            values[i] = theory.ridge_error(prob, r.n, r.lam, r.p2).total
    sim["theory"] = values
    sim["relative_difference"] = (sim["total"] - sim["theory"]) / sim["theory"]
    return sim


def theory_vs_simulation_plot(table: pd.DataFrame) -> Any:
    fig, ax = new_figure(width=5.6, height=5.0)
    names = list(dict.fromkeys(table["figure"]))
    for color, name in zip(palette(len(names)), names, strict=True):
        part = table[table.figure == name]
        ax.errorbar(
            part["theory"],
            part["total"],
            yerr=part["stderr"],
            fmt="o",
            ms=4,
            color=color,
            alpha=0.85,
            capsize=1.5,
            lw=0.8,
            label=name,
        )
    lo = min(table["theory"].min(), table["total"].min()) * 0.8
    hi = max(table["theory"].max(), table["total"].max()) * 1.2
    ax.plot([lo, hi], [lo, hi], color="0.3", lw=1, ls="--", label="y = x")
    med = float(np.median(np.abs(table["relative_difference"])))
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="theory",
        ylabel="simulation (±1 SE)",
        title=f"{len(table)} points, median |relative difference| {100 * med:.1f}%",
    )
    ax.legend(fontsize="small", loc="upper left")
    return fig
