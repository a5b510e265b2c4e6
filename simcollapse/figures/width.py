"""Random projections against the width m at the paper's Figure 1 setting (Figures 2 and 4).

* ``rp_error_terms`` (paper Figure 2): bias, variance and the synthetic term zeta of Theorem 2
  against psi = m/n, one panel each; all three diverge at the interpolation threshold m = n as
  lam -> 0. Theory only (the simulator measures the total, not its terms).
* ``rp_width`` (paper Figure 4): test error against m for several synthetic fractions p2, one
  panel per quality c^2; theory lines and simulated markers.

Both: isotropic inputs (Sigma = I, d = 600), n = 500, label shift Delta = (c^2/d) I,
sigma^2 = 0.1.
Table columns: those of a sweep table (method, n, m, lam, p2, c2, bias, variance, zeta, total,
stderr, ...) plus psi = m/n.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from simcollapse.figures import theory_claims
from simcollapse.figures.paper_common import draw_errorbars, run_figure_sweep, theory_and_simulation
from simcollapse.figures.registry import Figure, FigureContext, register
from simcollapse.figures.style import new_figure, palette

__all__ = ["PRESETS", "TERMS_LAMS", "WIDTH_C2", "WIDTH_P2"]

TERMS_LAMS = (1e-4, 1e-6)  # small ridges: finite at m = n, and ever sharper peaks there
TERMS_C2, TERMS_P2 = 0.5, 0.1
WIDTH_P2 = (0.0, 0.02, 0.1, 0.2, 0.5)
WIDTH_C2 = [0.1, 0.5, 1.0]
WIDTH_LAM = 1e-4

PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "rp_error_terms": {
        "quick": dict(d=600, n=500, psi_line=41),
        "default": dict(d=600, n=500, psi_line=101),
        "full": dict(d=600, n=500, psi_line=201),
    },
    "rp_width": {
        "quick": dict(d=600, n=500, psi_line=41, psi_sim=[0.2, 0.6], c2_sim=[1.0], reps=8),
        "default": dict(
            d=600, n=500, psi_line=81, psi_sim=[0.1, 0.4, 2.0, 5.0], c2_sim=WIDTH_C2, reps=24
        ),
        "full": dict(
            d=600,
            n=500,
            psi_line=121,
            psi_sim=[0.1, 0.2, 0.4, 2.0, 5.0, 10.0],
            c2_sim=WIDTH_C2,
            reps=64,
        ),
    },
}
COMMON = dict(family="isotropic", signal=1.0, sigma2=0.1, setting="random_projection")


def _psi_grid(num: int) -> np.ndarray:
    """num points log-spaced in [0.1, 10], symmetric about psi = 1 (on it when num is odd)."""
    return np.geomspace(0.1, 10.0, num)


def _with_psi(table: pd.DataFrame) -> pd.DataFrame:
    table = table.copy()
    table["psi"] = table["m"] / table["n"]
    return table


def rp_error_terms_table(ctx: FigureContext) -> pd.DataFrame:
    """Theorem 2's terms on a psi grid through psi = 1, for each small ridge."""
    cfg = PRESETS["rp_error_terms"][ctx.mode]
    n = cfg["n"]
    m = np.unique(np.round(_psi_grid(cfg["psi_line"] | 1) * n))  # odd count: m = n on the grid
    theory = run_figure_sweep(
        ctx,
        d=cfg["d"],
        **COMMON,
        c2=TERMS_C2,
        method="theory",
        axes={"n": [n], "m": m, "lam": list(TERMS_LAMS), "p2": [TERMS_P2]},
    )
    return _with_psi(theory)


def rp_error_terms_plot(table: pd.DataFrame) -> Any:
    """Draw the rp_error_terms figure (paper Figure 2): bias, variance and the synthetic
    term zeta of random projections against psi = m/n, one panel per term, one curve per lam."""
    terms = (("bias", "bias"), ("variance", "variance"), ("zeta", r"synthetic term $\zeta$"))
    fig, axes = new_figure(ncols=3, width=4.2, height=3.9)
    colors = palette(len(TERMS_LAMS))
    for ax, (col, label) in zip(axes, terms, strict=True):
        for color, lam in zip(colors, TERMS_LAMS, strict=True):
            part = table[np.isclose(table.lam, lam)].sort_values("psi")
            ax.plot(part["psi"], part[col], color=color, lw=1.8, label=f"{lam:g}")
        ax.axvline(1.0, color="0.5", ls=":", lw=1, label="m = n")
        ax.set(xscale="log", yscale="log", xlabel=r"$\psi = m/n$", title=label)
    axes[0].set_ylabel("Theorem 2 term (theory)")
    axes[1].legend(
        title="ridge $\\lambda$ (lines coincide away from m = n)",
        loc="upper center",
        bbox_to_anchor=(0.5, -0.26),
        ncols=3,
    )
    n, d = int(table["n"].iloc[0]), int(table["d"].iloc[0])
    fig.suptitle(
        f"Random projections, $\\Sigma$ = I, d = {d}, n = {n}, $p_2$ = {TERMS_P2:g}, "
        f"$c^2$ = {TERMS_C2:g}: every term peaks at m = n and diverges there as $\\lambda \\to 0$",
        fontsize="medium",
    )
    return fig


def rp_width_table(ctx: FigureContext) -> pd.DataFrame:
    """Test error against the width for each (p2, c2): theory on a grid, simulation at a few m."""
    cfg = PRESETS["rp_width"][ctx.mode]
    n = cfg["n"]
    m_line = np.unique(np.round(_psi_grid(cfg["psi_line"]) * n))
    grid = {"n": [n], "lam": [WIDTH_LAM], "p2": list(WIDTH_P2)}
    common = dict(d=cfg["d"], **COMMON)
    m_sim = np.round(np.asarray(cfg["psi_sim"]) * n)
    theory_axes = {"m": m_line, "c2": WIDTH_C2, **grid}
    sim_axes = {"m": m_sim, "c2": list(cfg["c2_sim"]), **grid}
    return _with_psi(theory_and_simulation(ctx, common, theory_axes, sim_axes, cfg["reps"]))


GAP_C2 = 1.0  # the panel of the gap against psi: the worst quality drawn


def _rp_gap(part: pd.DataFrame, method: str, p2: float) -> pd.DataFrame:
    """E(p2) - E(0) at each width of one c^2 (with the SE of the difference when simulated)."""
    rows = part[part.method == method]
    clean = rows[np.isclose(rows.p2, 0.0)].set_index("m")
    mix = rows[np.isclose(rows.p2, p2)].set_index("m")
    common = mix.index.intersection(clean.index)
    mix, clean = mix.loc[common], clean.loc[common]
    return pd.DataFrame(
        {
            "psi": mix["psi"],
            "gap": mix["total"] - clean["total"],
            "stderr": np.hypot(mix["stderr"], clean["stderr"]),
        }
    ).sort_values("psi")


def rp_width_plot(table: pd.DataFrame) -> Any:
    """Draw the rp_width figure (paper Figure 4): test error of random projections against
    the width m for each p2, theory lines and Monte Carlo points."""
    fig, axes = new_figure(ncols=len(WIDTH_C2) + 1, width=4.4, height=4.0)
    colors = palette(len(WIDTH_P2))
    for ax, c2 in zip(axes, WIDTH_C2, strict=False):
        part = table[np.isclose(table.c2, c2)]
        for color, p2 in zip(colors, WIDTH_P2, strict=True):
            th = part[(part.method == "theory") & np.isclose(part.p2, p2)].sort_values("m")
            ax.plot(th["m"], th["total"], color=color, lw=1.6, label=f"{p2:g}")
            sim = part[(part.method == "simulate") & np.isclose(part.p2, p2)]
            draw_errorbars(ax, sim, "m", color)
        ax.axvline(int(table["n"].iloc[0]), color="0.5", ls=":", lw=1)
        ax.set(
            xscale="log",
            yscale="log",
            xlabel="width m (log axis)",
            title=f"$c^2$ = {c2:g}: test error against m",
        )
    for ax in axes[1 : len(WIDTH_C2)]:
        ax.sharey(axes[0])
    n, d = int(table["n"].iloc[0]), int(table["d"].iloc[0])
    axes[0].set_ylabel("test error (log axis; dotted: m = n)")
    gap_ax = axes[-1]
    part = table[np.isclose(table.c2, GAP_C2)]
    for color, p2 in zip(colors[1:], WIDTH_P2[1:], strict=True):
        th = _rp_gap(part, "theory", p2)
        gap_ax.plot(th["psi"], th["gap"], color=color, lw=1.6)
        sim = _rp_gap(part, "simulate", p2)
        if len(sim):
            draw_errorbars(gap_ax, sim, "psi", color, y="gap")
    gap_ax.axvline(1.0, color="0.5", ls=":", lw=1)
    gap_ax.axhline(0.0, color="0.6", lw=1)
    gap_ax.set(
        xscale="log",
        xlabel=r"$\psi = m/n$ (log axis; dotted: $\psi$ = 1)",
        ylabel="gap E($p_2$) - E(0) (linear axis)",
        title=f"$c^2$ = {GAP_C2:g}: the gap peaks at $\\psi$ = 1,\nshrinks beyond, never 0",
    )
    handles, labels = axes[0].get_legend_handles_labels()

    handles += [
        Line2D([], [], color="0.3", lw=1.8),
        Line2D([], [], color="0.3", marker="o", mfc="white", ls=""),
    ]
    labels += ["theory", "simulation (±1 SE)"]
    fig.legend(handles, labels, title="synthetic fraction $p_2$", loc="outside lower center",
               ncols=len(labels))  # fmt: skip
    fig.suptitle(
        f"Random projections, $\\Sigma$ = I, d = {d}, n = {n}, $\\lambda$ = {WIDTH_LAM:g}: "
        "synthetic rows raise the error most near m = n",
        fontsize="medium",
    )
    return fig


RP_ERROR_TERMS = register(
    Figure(
        "rp_error_terms",
        "Bias, variance and synthetic term zeta of random projections against psi = m/n "
        "(Sigma = I, d = 600, n = 500, sigma^2 = 0.1, p2 = 0.1, c^2 = 0.5), one panel each, for "
        "lam = 1e-4 and 1e-6: all three peak at m = n and diverge there as lam -> 0. "
        "Theory only; the paper's d, n and p2 for this figure are not stated, we reuse "
        "Figure 1's.",
        rp_error_terms_table,
        rp_error_terms_plot,
        paper="Figure 2",
        claims=theory_claims.RP_ERROR_TERMS,
    )
)
RP_WIDTH = register(
    Figure(
        "rp_width",
        "Test error of random projections against the width m (Sigma = I, d = 600, n = 500, "
        "sigma^2 = 0.1, lam = 1e-4) for p2 in {0, 0.02, 0.1, 0.2, 0.5}, one panel per c^2 in "
        "{0.1, 0.5, 1}: the synthetic rows raise the curve most near m = n. Settings chosen "
        "(the paper's are not stated): Figure 1's.",
        rp_width_table,
        rp_width_plot,
        paper="Figure 4",
        claims=theory_claims.RP_WIDTH,
    )
)
