"""What the paper's sweep figures share: their settings per level, the sweep runner, and the
theory-line / simulation-marker drawing.

Every setting of every figure is in ``PRESETS``, one column per level: ``quick`` (minutes on a
2-core CPU for all figures), ``default`` (more draws and grid points, within the hour-long budget
of all figures together on a 2-core CPU) and ``full`` (paper scale).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.lines import Line2D

from simcollapse.figures.dry_run import figure_sweep
from simcollapse.figures.registry import FigureContext
from simcollapse.sweep import Sweep


def run_figure_sweep(ctx: FigureContext, **spec: Any) -> pd.DataFrame:
    spec.setdefault("seed", ctx.seed)
    return figure_sweep(Sweep(**spec), ctx.store, progress=ctx.progress)


# One row per figure, one column per level (FigureContext.mode). Widths and sample sizes are the
# grid points of simulated markers; n_line / m_line are the number of theory points.
PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "scaling_plateau": {
        "quick": dict(d=100, n_line=60, reps=12, n_sim=[30, 300, 1000, 4000]),
        "default": dict(d=200, n_line=100, reps=32, n_sim=[50, 200, 800, 3000, 10000]),
        "full": dict(d=400, n_line=120, reps=48, n_sim=[50, 200, 800, 2000, 8000, 32000]),
    },
    "isotropic_corollary": {
        "quick": dict(d=100, phi_line=40, reps=12, phi_sim=[0.1, 0.3, 0.6]),
        "default": dict(d=200, phi_line=60, reps=32, phi_sim=[0.1, 0.2, 0.3, 0.5, 0.7]),
        "full": dict(d=400, phi_line=80, reps=48, phi_sim=[0.1, 0.2, 0.3, 0.5, 0.7, 0.8]),
    },
    "model_size_regimes": {
        "quick": dict(d=300, n_stop=1e5, n_line=40, reps=16, n_sim=[30, 1000]),
        "default": dict(d=300, n_stop=1e5, n_line=60, reps=32, n_sim=[30, 400, 3000]),
        "full": dict(d=300, n_stop=1e6, n_line=80, reps=64, n_sim=[50, 100, 400, 1500, 6000]),
    },
    "width_double_descent": {
        "quick": dict(d=300, n=100, m_line=61, reps=12),
        "default": dict(d=600, n=200, m_line=91, reps=32),
        "full": dict(d=800, n=300, m_line=121, reps=48),
    },
    "synthetic_fraction": {
        "quick": dict(d=200, ns=[300, 3000, 30000], widths=[100, 400], p2_line=21, reps=32),
        "default": dict(d=200, ns=[300, 3000, 30000], widths=[100, 400], p2_line=41, reps=128),
        "full": dict(d=600, ns=[1000, 10000, 100000], widths=[300, 1200], p2_line=41, reps=128),
    },
}


def theory_and_simulation(
    ctx: FigureContext,
    common: dict[str, Any],
    theory_axes: dict[str, Any],
    sim_axes: dict[str, Any],
    reps: int,
) -> pd.DataFrame:
    """The theory swept over ``theory_axes`` (the lines) and the Monte Carlo with ``reps``
    repetitions over ``sim_axes`` (the markers) of one problem and setting (``common``), through
    the store; one table, theory rows first, its ``method`` column telling them apart."""
    theory = run_figure_sweep(ctx, **common, method="theory", axes=theory_axes)
    sim = run_figure_sweep(ctx, **common, method="simulate", reps=reps, axes=sim_axes)
    return pd.concat([theory, sim], ignore_index=True)


def level_preset(ctx: FigureContext, name: str) -> dict[str, Any]:
    """The settings of figure ``name`` at the context's level (a copy)."""
    return dict(PRESETS[name][ctx.mode])


def draw_errorbars(
    ax: Any, sim: pd.DataFrame, x: str, color: Any, label: str | None = None, y: str = "total"
) -> None:
    ax.errorbar(
        sim[x],
        sim[y],
        yerr=sim["stderr"],
        fmt="o",
        ms=4.5,
        color=color,
        mfc="white",
        mew=1.3,
        capsize=2,
        lw=1,
        label=label,
        zorder=3,
    )


def legend_note(ax: Any, loc: str = "lower left", outside: bool = False) -> None:
    """A second legend explaining lines (theory) and markers (simulation); ``outside``: to the
    right of the axes (at ``loc``'s height) instead of inside it."""

    handles = [
        Line2D([], [], color="0.3", lw=1.8, label="theory"),
        Line2D([], [], color="0.3", marker="o", mfc="white", ls="", label="simulation (±1 SE)"),
    ]
    current = ax.get_legend()
    if current is not None:
        ax.add_artist(current)
    if outside:
        ax.legend(handles=handles, loc=loc, bbox_to_anchor=(1.02, 0.0), fontsize="small")
    else:
        ax.legend(handles=handles, loc=loc, fontsize="small")
