"""The paper's scaling curves, each a sweep spec (or a few) plus a plot of the sweep's tidy table.

Theory is drawn as lines, Monte Carlo as markers with standard-error bars. Every setting of every
figure is in ``PRESETS``, one column per level: ``quick`` (minutes on a 2-core CPU for all
figures), ``default`` (more draws and grid points, within the hour-long budget of all figures
together on a 2-core CPU) and ``full`` (paper scale). The shapes of the curves are the same at
every level; draws are raised where a heavy-tailed shift term needs them to be honest.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from simcollapse.figures.registry import NEW, Figure, FigureContext, register
from simcollapse.figures.style import new_figure, palette
from simcollapse.sweep import Sweep, problem_of_row, run_sweep

SCALING_P2 = (0.0, 0.001, 0.01, 0.1)
WIDTH_P2 = (0.0, 0.02, 0.1, 0.2)


def _run(ctx: FigureContext, **spec: Any) -> pd.DataFrame:
    spec.setdefault("seed", ctx.seed)
    return run_sweep(Sweep(**spec), ctx.store, progress=ctx.progress)


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


def _preset(ctx: FigureContext, name: str) -> dict[str, Any]:
    """The settings of figure ``name`` at the context's level (a copy)."""
    return dict(PRESETS[name][ctx.mode])


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


def _legend_note(ax: Any, loc: str = "lower left") -> None:
    """A second legend explaining lines (theory) and markers (simulation)."""
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color="0.3", lw=1.8, label="theory"),
        Line2D([], [], color="0.3", marker="o", mfc="white", ls="", label="simulation (±1 SE)"),
    ]
    current = ax.get_legend()
    if current is not None:
        ax.add_artist(current)
    ax.legend(handles=handles, loc=loc, fontsize="small")


# --------------------------------------------------------------------------- scaling_plateau


def scaling_plateau_table(ctx: FigureContext) -> pd.DataFrame:
    cfg = _preset(ctx, "scaling_plateau")
    common = dict(d=cfg["d"], family="power_law", alpha=1.5, source=1.5, c2=1.0, sigma2=0.1)
    theory = _run(
        ctx,
        **common,
        method="theory",
        axes={
            "n": {"start": 10, "stop": 1e9, "num": cfg["n_line"], "scale": "log"},
            "lam": [1e-6],
            "p2": list(SCALING_P2),
        },
    )
    sim = _run(
        ctx,
        **common,
        method="simulate",
        reps=cfg["reps"],
        axes={
            "n": cfg["n_sim"],
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

    cfg = _preset(ctx, "isotropic_corollary")
    d = cfg["d"]
    p2s = [0.0, 0.1, 0.3, 0.5]
    common = dict(d=d, family="isotropic", c2=1.0, sigma2=0.5)
    phi_line = np.linspace(0.04, 0.92, cfg["phi_line"])
    theory = _run(
        ctx, **common, method="theory", axes={"n": np.round(d / phi_line), "lam": [0.0], "p2": p2s}
    )
    phi_sim = np.array(cfg["phi_sim"])
    sim = _run(
        ctx,
        **common,
        method="simulate",
        reps=cfg["reps"],
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

# Isotropic inputs, widths below d, half the rows synthetic: the narrow model cannot see part of
# the shift, so the n -> infinity floor grows with the width when p2^2 c^2 exceeds the signal
# (low quality: larger models amplify collapse) and shrinks with it otherwise (high quality).
REGIME_C2 = {"high quality": 0.2, "low quality": 8.0}
REGIME_WIDTHS = (60, 150, 240)
REGIME_P2 = 0.5


def model_size_regimes_table(ctx: FigureContext) -> pd.DataFrame:
    cfg = _preset(ctx, "model_size_regimes")
    common = dict(d=cfg["d"], family="isotropic", sigma2=0.1, model="rp")
    grid = {
        "m": list(REGIME_WIDTHS),
        "lam": [1e-4],
        "p2": [REGIME_P2],
        "c2": list(REGIME_C2.values()),
    }
    n_line = {"start": 20, "stop": cfg["n_stop"], "num": cfg["n_line"], "scale": "log"}
    theory = _run(ctx, **common, method="theory", axes={"n": n_line, **grid})
    sim = _run(ctx, **common, method="simulate", reps=cfg["reps"], axes={"n": cfg["n_sim"], **grid})
    table = pd.concat([theory, sim], ignore_index=True)
    names = {v: k for k, v in REGIME_C2.items()}
    table["regime"] = [names[min(names, key=lambda c: abs(c - x))] for x in table["c2"]]
    return table


def model_size_regimes_plot(table: pd.DataFrame) -> Any:
    fig, axes = new_figure(ncols=len(REGIME_C2), width=4.8, height=4.2, sharey=True)
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
            _errorbars(ax, part[(part.method == "simulate") & (part.m == m)], "n", color)
            ax.axvline(m, color=color, ls=":", lw=1)
        ax.set(
            xscale="log",
            yscale="log",
            xlabel="sample size n",
            title=f"{regime}, $c^2$ = {c2:g}: {verdict[regime]}",
        )
    d = int(table["d"].iloc[0])
    axes[0].set_ylabel(f"test error ($p_2$ = {REGIME_P2:g}, isotropic, d = {d})")
    axes[-1].legend(title="width m (dotted: n = m)", loc="upper right")
    _legend_note(axes[0])
    return fig


# ----------------------------------------------------------------------- width_double_descent


def width_double_descent_table(ctx: FigureContext) -> pd.DataFrame:
    cfg = _preset(ctx, "width_double_descent")
    d, n = cfg["d"], cfg["n"]
    common = dict(d=d, family="power_law", alpha=1.0, source=1.0, c2=0.5, sigma2=0.2, model="rp")
    m_line = np.unique(np.round(np.geomspace(0.1 * n, 10 * n, cfg["m_line"])))
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
        reps=cfg["reps"],
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
    ax.set(ylabel="test error", title=f"Random projections, n = {n} (dotted: m = n)")
    az.set(ylabel=r"synthetic term $\zeta$ (theory)", title="grows below $m = n$, shrinks beyond")
    ax.legend(title="$p_2$ (lines close:\nsee the $\\zeta$ panel)", loc="upper right")
    _legend_note(ax, loc="upper left")
    az.legend(title="$p_2$", loc="upper right")
    return fig


# ------------------------------------------------------------------------ synthetic_fraction


def synthetic_fraction_table(ctx: FigureContext) -> pd.DataFrame:
    cfg = _preset(ctx, "synthetic_fraction")
    common = dict(d=cfg["d"], family="power_law", alpha=1.5, source=1.5, c2=0.5, sigma2=0.1)
    ns, widths = cfg["ns"], cfg["widths"]
    p2 = np.linspace(0.0, 1.0, cfg["p2_line"])
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
        reps=cfg["reps"],
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
    d = int(table["d"].iloc[0])
    for ax, n in zip(axes, ns, strict=True):
        part = table[table.n == n]
        for w in widths:
            th = part[(part.method == "theory") & (part.width == w)]
            # A width m >= d spans the inputs: its theory line lies on the ridge line, so it is
            # drawn dashed on top of a wider ridge line, and the legend says so.
            wide = not w.startswith("ridge") and int(w.split("=")[1]) >= d
            style = (
                dict(ls="--", lw=1.6, zorder=2.5) if wide else dict(lw=3.0 if "ridge" in w else 1.6)
            )
            label = f"{w} (m ≥ d = {d}: on the ridge line)" if wide else w
            ax.plot(th["p2"], th["total"], color=colors[w], label=label, **style)
            _errorbars(ax, part[(part.method == "simulate") & (part.width == w)], "p2", colors[w])
        ax.set(yscale="log", xlabel="synthetic fraction $p_2$", title=f"n = {n:,}")
    axes[0].set_ylabel("test error")
    axes[-1].legend(title="model (theory)", loc="lower right", fontsize="small")
    _legend_note(axes[0])
    return fig


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
KEYS = ["model", "family", "d", "n", "lam", "p2", "c2", "sigma2"]


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


FIGURES = {
    f.name: register(f)
    for f in (
        Figure(
            "scaling_plateau",
            "Test error against n, power-law spectrum: every p2 > 0 stops at p2^2 c^2 "
            "(Theorem 1, strong model collapse).",
            scaling_plateau_table,
            scaling_plateau_plot,
            paper=NEW,
        ),
        Figure(
            "isotropic_corollary",
            "Corollary 1: isotropic ridgeless error against phi = d/n, closed form and simulation.",
            isotropic_corollary_table,
            isotropic_corollary_plot,
            paper=NEW,
        ),
        Figure(
            "model_size_regimes",
            "Random projections (isotropic, d = 300, p2 = 1/2, widths 60/150/240) against n: "
            "with high-quality synthetic data (c^2 = 0.2) the wider model is better except near "
            "its threshold n = m; with low-quality data (c^2 = 8, p2^2 c^2 above the signal) the "
            "wider model is worse for every n > 2m (larger models amplify collapse) and better "
            "for n < m (beyond the threshold they mitigate it).",
            model_size_regimes_table,
            model_size_regimes_plot,
            paper=NEW,
        ),
        Figure(
            "width_double_descent",
            "Test error against psi = m/n, power-law spectrum: the peak at m = n, the synthetic "
            "term growing below it and shrinking beyond.",
            width_double_descent_table,
            width_double_descent_plot,
            paper=NEW,
        ),
        Figure(
            "synthetic_fraction",
            "Test error against the synthetic fraction p2 for several n and widths (a width "
            "m >= d lies on the ridge line, drawn dashed on top of it).",
            synthetic_fraction_table,
            synthetic_fraction_plot,
            paper=NEW,
        ),
        Figure(
            "theory_vs_simulation",
            "Every simulated point of the theory figures (those above and rp_width) against its "
            "theory value.",
            theory_vs_simulation_table,
            theory_vs_simulation_plot,
            paper=NEW,
        ),
    )
}
