"""The paper's scaling curves, each a sweep spec (or a few) plus a plot of the sweep's tidy table.

Theory is drawn as lines, Monte Carlo as markers with standard-error bars. Quick settings use a
smaller d, fewer draws and fewer grid points than full settings, with the same shapes of curves.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from simcollapse.figures.registry import Figure, FigureContext, register
from simcollapse.figures.style import new_figure, palette
from simcollapse.sweep import Sweep, problem_of_row, run_sweep

SCALING_P2 = (0.0, 0.001, 0.01, 0.1)
WIDTH_P2 = (0.0, 0.02, 0.1, 0.2)


def _run(ctx: FigureContext, **spec: Any) -> pd.DataFrame:
    spec.setdefault("seed", ctx.seed)
    return run_sweep(Sweep(**spec), ctx.store, progress=ctx.progress)


def _quick(ctx: FigureContext, quick: Any, full: Any) -> Any:
    return quick if ctx.mode == "quick" else full


def _errorbars(ax: Any, sim: pd.DataFrame, x: str, color: Any, label: str | None = None) -> None:
    ax.errorbar(
        sim[x],
        sim["total"],
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


def _legend_note(ax: Any) -> None:
    """A second legend explaining lines (theory) and markers (simulation)."""
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color="0.3", lw=1.8, label="theory"),
        Line2D([], [], color="0.3", marker="o", mfc="white", ls="", label="simulation (±1 SE)"),
    ]
    current = ax.get_legend()
    if current is not None:
        ax.add_artist(current)
    ax.legend(handles=handles, loc="lower left", fontsize="small")


# --------------------------------------------------------------------------- scaling_plateau


def scaling_plateau_table(ctx: FigureContext) -> pd.DataFrame:
    d = _quick(ctx, 100, 400)
    common = dict(d=d, family="power_law", alpha=1.5, source=1.5, c2=1.0, sigma2=0.1)
    theory = _run(
        ctx,
        **common,
        method="theory",
        axes={
            "n": {"start": 10, "stop": 1e9, "num": _quick(ctx, 60, 120), "scale": "log"},
            "lam": [1e-6],
            "p2": list(SCALING_P2),
        },
    )
    sim = _run(
        ctx,
        **common,
        method="simulate",
        reps=_quick(ctx, 12, 48),
        axes={
            "n": _quick(ctx, [30, 300, 1000, 4000], [50, 200, 800, 2000, 8000, 32000]),
            "lam": [1e-6],
            "p2": list(SCALING_P2),
        },
    )
    return pd.concat([theory, sim], ignore_index=True)


def scaling_plateau_plot(table: pd.DataFrame) -> Any:
    fig, ax = new_figure(width=6.2, height=4.4)
    colors = palette(len(SCALING_P2))
    c2 = float(table["c2"].iloc[0])
    for color, p2 in zip(colors, SCALING_P2, strict=True):
        th = table[(table.method == "theory") & np.isclose(table.p2, p2)]
        ax.plot(th["n"], th["total"], color=color, lw=1.8, label=f"{p2:g}")
        sim = table[(table.method == "simulate") & np.isclose(table.p2, p2)]
        _errorbars(ax, sim, "n", color)
        if p2 > 0:
            ax.axhline(p2**2 * c2, color=color, ls="--", lw=1)
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="sample size n",
        ylabel="test error $E_{test}$",
        title=f"Strong model collapse: floors at $p_2^2 c^2$ ($c^2$={c2:g}, dashed)",
    )
    ax.legend(title="synthetic fraction $p_2$", loc="upper right")
    _legend_note(ax)
    return fig


# ----------------------------------------------------------------------- isotropic_corollary


def isotropic_corollary_table(ctx: FigureContext) -> pd.DataFrame:
    from simcollapse.theory import isotropic_ridgeless_error

    d = _quick(ctx, 100, 400)
    p2s = [0.0, 0.1, 0.3, 0.5]
    common = dict(d=d, family="isotropic", c2=1.0, sigma2=0.5)
    phi_line = np.linspace(0.04, 0.92, _quick(ctx, 40, 80))
    theory = _run(
        ctx, **common, method="theory", axes={"n": np.round(d / phi_line), "lam": [0.0], "p2": p2s}
    )
    phi_sim = np.array(_quick(ctx, [0.1, 0.3, 0.6], [0.1, 0.2, 0.3, 0.5, 0.7, 0.8]))
    sim = _run(
        ctx,
        **common,
        method="simulate",
        reps=_quick(ctx, 12, 48),
        axes={"n": np.round(d / phi_sim), "lam": [0.0], "p2": p2s},
    )
    table = pd.concat([theory, sim], ignore_index=True)
    table["phi"] = table["d"] / table["n"]
    table["closed_form"] = isotropic_ridgeless_error(
        table["phi"].to_numpy(),
        table["p2"].to_numpy(),
        table["c2"].to_numpy(),
        table["sigma2"].to_numpy(),
    )
    return table


def isotropic_corollary_plot(table: pd.DataFrame) -> Any:
    fig, ax = new_figure(width=6.0, height=4.4)
    p2s = sorted(table["p2"].unique())
    for color, p2 in zip(palette(len(p2s)), p2s, strict=True):
        th = table[(table.method == "theory") & np.isclose(table.p2, p2)].sort_values("phi")
        ax.plot(th["phi"], th["closed_form"], color=color, lw=1.8, label=f"{p2:g}")
        _errorbars(ax, table[(table.method == "simulate") & np.isclose(table.p2, p2)], "phi", color)
    ax.set(
        yscale="log",
        xlabel=r"$\phi = d/n$",
        ylabel="test error $E_{test}$",
        title="Corollary 1: isotropic ridgeless regression",
    )
    ax.legend(title="$p_2$", loc="upper left")
    _legend_note(ax)
    return fig


# ------------------------------------------------------------------------ model_size_regimes

REGIME_C2 = {"high quality": 0.02, "medium quality": 0.2, "low quality": 2.0}


def model_size_regimes_table(ctx: FigureContext) -> pd.DataFrame:
    d = _quick(ctx, 200, 600)
    widths = _quick(ctx, [50, 100, 200, 400], [100, 200, 400, 800, 1600])
    sim_widths = _quick(ctx, [50, 200, 400], widths)
    common = dict(d=d, family="power_law", alpha=1.5, source=1.5, sigma2=0.1, model="rp")
    n_line = {
        "start": 20,
        "stop": _quick(ctx, 1e5, 1e6),
        "num": _quick(ctx, 40, 80),
        "scale": "log",
    }
    theory = _run(
        ctx,
        **common,
        method="theory",
        axes={"n": n_line, "m": widths, "lam": [1e-4], "p2": [0.1], "c2": list(REGIME_C2.values())},
    )
    sim = _run(
        ctx,
        **common,
        method="simulate",
        reps=_quick(ctx, 8, 32),
        axes={
            "n": _quick(ctx, [1000], [100, 400, 1600, 6400]),
            "m": sim_widths,
            "lam": [1e-4],
            "p2": [0.1],
            "c2": list(REGIME_C2.values()),
        },
    )
    table = pd.concat([theory, sim], ignore_index=True)
    names = {v: k for k, v in REGIME_C2.items()}
    table["regime"] = [names[min(names, key=lambda c: abs(c - x))] for x in table["c2"]]
    return table


def model_size_regimes_plot(table: pd.DataFrame) -> Any:
    fig, axes = new_figure(ncols=len(REGIME_C2), width=4.6, height=4.0, sharey=True)
    widths = sorted(table["m"].unique())
    colors = palette(len(widths))
    for ax, (regime, c2) in zip(axes, REGIME_C2.items(), strict=True):
        part = table[table.regime == regime]
        for color, m in zip(colors, widths, strict=True):
            th = part[(part.method == "theory") & (part.m == m)]
            ax.plot(th["n"], th["total"], color=color, lw=1.6, label=f"{m}")
            _errorbars(ax, part[(part.method == "simulate") & (part.m == m)], "n", color)
        ax.axhline(0.1**2 * c2, color="0.4", ls="--", lw=1)
        ax.set(xscale="log", yscale="log", xlabel="sample size n", title=f"{regime}: $c^2$={c2:g}")
    axes[0].set_ylabel("test error ($p_2$ = 0.1)")
    axes[-1].legend(title="width m", loc="upper right")
    return fig


# ----------------------------------------------------------------------- width_double_descent


def width_double_descent_table(ctx: FigureContext) -> pd.DataFrame:
    d, n = _quick(ctx, (300, 100), (800, 300))
    common = dict(d=d, family="power_law", alpha=1.0, source=1.0, c2=0.5, sigma2=0.2, model="rp")
    m_line = np.unique(np.round(np.geomspace(0.1 * n, 10 * n, _quick(ctx, 61, 121))))
    m_line = np.union1d(m_line, [n])
    theory = _run(
        ctx,
        **common,
        method="theory",
        axes={"n": [n], "m": m_line, "lam": [1e-6], "p2": list(WIDTH_P2)},
    )
    sim = _run(
        ctx,
        **common,
        method="simulate",
        reps=_quick(ctx, 12, 48),
        axes={
            "n": [n],
            "m": [int(n * f) for f in (0.2, 0.5, 2, 5)],
            "lam": [1e-6],
            "p2": list(WIDTH_P2),
        },
    )
    table = pd.concat([theory, sim], ignore_index=True)
    table["psi"] = table["m"] / table["n"]
    return table


def width_double_descent_plot(table: pd.DataFrame) -> Any:
    fig, (ax, az) = new_figure(ncols=2, width=5.2, height=4.2)
    for color, p2 in zip(palette(len(WIDTH_P2)), WIDTH_P2, strict=True):
        th = table[(table.method == "theory") & np.isclose(table.p2, p2)]
        ax.plot(th["psi"], th["total"], color=color, lw=1.8, label=f"{p2:g}")
        _errorbars(ax, table[(table.method == "simulate") & np.isclose(table.p2, p2)], "psi", color)
        if p2 > 0:
            az.plot(th["psi"], th["zeta"], color=color, lw=1.8, label=f"{p2:g}")
    for a in (ax, az):
        a.axvline(1.0, color="0.5", ls=":", lw=1)
        a.set(xscale="log", yscale="log", xlabel=r"$\psi = m/n$")
    n = int(table["n"].iloc[0])
    ax.set(ylabel="test error", title=f"Random projections, n = {n}")
    az.set(ylabel=r"synthetic term $\zeta$", title="grows below $m = n$, shrinks beyond")
    ax.legend(title="$p_2$", loc="upper right")
    return fig


# ------------------------------------------------------------------------ synthetic_fraction


def synthetic_fraction_table(ctx: FigureContext) -> pd.DataFrame:
    d = _quick(ctx, 200, 600)
    common = dict(d=d, family="power_law", alpha=1.5, source=1.5, c2=0.5, sigma2=0.1)
    ns = _quick(ctx, [300, 3000, 30000], [1000, 10000, 100000])
    p2 = np.linspace(0.0, 1.0, _quick(ctx, 21, 41))
    widths = _quick(ctx, [100, 400], [300, 1200])
    rp = _run(
        ctx,
        **common,
        model="rp",
        method="theory",
        axes={"n": ns, "m": widths, "lam": [1e-4], "p2": p2},
    )
    ridge = _run(ctx, **common, method="theory", axes={"n": ns, "lam": [1e-4], "p2": p2})
    sim = _run(
        ctx,
        **common,
        model="rp",
        method="simulate",
        reps=_quick(ctx, 8, 32),
        axes={"n": ns[:2], "m": widths, "lam": [1e-4], "p2": [0.0, 0.2, 0.5, 1.0]},
    )
    table = pd.concat([rp, ridge, sim], ignore_index=True)
    table["width"] = [
        ("ridge (m = ∞)" if mod == "ridge" else f"m = {int(m)}")
        for mod, m in zip(table["model"], table.get("m", np.nan), strict=True)
    ]
    return table


def synthetic_fraction_plot(table: pd.DataFrame) -> Any:
    ns = sorted(table["n"].unique())
    fig, axes = new_figure(ncols=len(ns), width=4.4, height=4.0, sharey=True)
    widths = sorted(table["width"].unique(), key=lambda w: (w.startswith("ridge"), len(w), w))
    colors = dict(zip(widths, palette(len(widths)), strict=True))
    for ax, n in zip(axes, ns, strict=True):
        part = table[table.n == n]
        for w in widths:
            th = part[(part.method == "theory") & (part.width == w)]
            ax.plot(th["p2"], th["total"], color=colors[w], lw=1.6, label=w)
            _errorbars(ax, part[(part.method == "simulate") & (part.width == w)], "p2", colors[w])
        ax.set(yscale="log", xlabel="synthetic fraction $p_2$", title=f"n = {n:,}")
    axes[0].set_ylabel("test error")
    axes[-1].legend(title="model", loc="lower right")
    return fig


# ---------------------------------------------------------------------- theory_vs_simulation

MAIN_FIGURES = (
    "scaling_plateau",
    "isotropic_corollary",
    "model_size_regimes",
    "width_double_descent",
    "synthetic_fraction",
)
KEYS = ["model", "family", "d", "n", "lam", "p2", "c2", "sigma2"]


def theory_vs_simulation_table(ctx: FigureContext) -> pd.DataFrame:
    """Every simulated point of the other figures, beside the theory at the same point."""
    from simcollapse import theory

    rows = []
    for name in MAIN_FIGURES:
        table = FIGURES[name].compute(ctx)
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


FIGURES = {
    f.name: register(f)
    for f in (
        Figure(
            "scaling_plateau",
            "Test error against n, power-law spectrum: every p2 > 0 stops at p2^2 c^2.",
            scaling_plateau_table,
            scaling_plateau_plot,
        ),
        Figure(
            "isotropic_corollary",
            "Corollary 1: isotropic ridgeless error against phi = d/n, closed form and simulation.",
            isotropic_corollary_table,
            isotropic_corollary_plot,
        ),
        Figure(
            "model_size_regimes",
            "Random projections: larger models amplify or mitigate collapse depending on "
            "the quality c^2 and on n (paper Figure 1).",
            model_size_regimes_table,
            model_size_regimes_plot,
        ),
        Figure(
            "width_double_descent",
            "Test error against psi = m/n: the peak at m = n, the synthetic term growing below "
            "it and shrinking beyond.",
            width_double_descent_table,
            width_double_descent_plot,
        ),
        Figure(
            "synthetic_fraction",
            "Test error against the synthetic fraction p2 for several n and widths.",
            synthetic_fraction_table,
            synthetic_fraction_plot,
        ),
        Figure(
            "theory_vs_simulation",
            "Every simulated point of the other figures against its theory value.",
            theory_vs_simulation_table,
            theory_vs_simulation_plot,
        ),
    )
}
