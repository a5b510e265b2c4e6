"""The paper's headline figure: the Pareto diagram of model size against model collapse.

Random projections (Theorem 2) of width m on isotropic inputs (Sigma = I, d = 600), n = 500 rows in
total, label shift Delta = (c^2/d) I so that tr(Sigma Delta) = c^2. For each width, x is the test
error when all n rows are real and y the test error when a fraction p2 of them is synthetic; one
point per width, coloured by psi = m/n. The diagonal y = x is no collapse at all.

Table columns (one row per method, p2 > 0, c^2 and width): method ("theory" or "simulate"), n, m,
psi, lam, p2, c2, d, sigma2, real_error (and real_stderr), mix_error (and mix_stderr), gap =
mix_error - real_error.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from simcollapse.figures import theory_claims
from simcollapse.figures.paper_common import theory_and_simulation
from simcollapse.figures.registry import Figure, FigureContext, register
from simcollapse.figures.style import new_figure

__all__ = ["PARETO_C2", "PARETO_P2", "PRESETS", "pareto_plot", "pareto_table"]

PARETO_C2 = (0.0, 0.1, 0.5, 1.0)  # the paper's qualities, c^2 = 0 is the real labeller itself
PARETO_P2 = (0.1, 0.02, 0.5)  # the paper's p2 = 0.1 first, then further panels
MARKERS = {0.0: "s", 0.1: "D", 0.5: "^", 1.0: "*"}
LINESTYLES = {0.0: "-", 0.1: "--", 0.5: "-.", 1.0: ":"}
# the simulated points of both kinds of panel: open black markers with error bars
SIM_MARKERS: dict[str, Any] = dict(mfc="none", mec="k", ecolor="k", lw=0.8, capsize=2, zorder=4)

# d and n are the paper's at every level; the paper does not state sigma^2 or lambda: we take
# sigma^2 = 0.1, ||w1||^2 = 1 and a small ridge lam = 1e-6 (the ridgeless limit away from m = n).
PRESETS: dict[str, dict[str, Any]] = {
    "quick": dict(psi_line=41, psi_sim=[0.2, 0.6], c2_sim=[1.0], reps=8),
    "default": dict(
        psi_line=61, psi_sim=[0.1, 0.3, 0.6, 1.6, 3.0], c2_sim=[0.1, 0.5, 1.0], reps=24
    ),
    "full": dict(
        psi_line=81, psi_sim=[0.1, 0.2, 0.4, 0.7, 1.4, 2.0, 4.0], c2_sim=[0.1, 0.5, 1.0], reps=64
    ),
}
SETTING = dict(d=600, n=500, lam=1e-6, sigma2=0.1)


def _widths(n: int, psi: Any) -> list[int]:
    """Integer widths m = psi n, never exactly n (the interpolation threshold)."""
    m = np.unique(np.round(np.asarray(psi, float) * n).astype(int))
    return [int(v) for v in m if v != n]


def _pair(raw: pd.DataFrame) -> pd.DataFrame:
    """One row per (method, p2 > 0, c2, m): the all-real error beside the mix's error."""
    keys = ["method", "n", "m", "lam", "c2"]
    real = raw[raw.p2 == 0][[*keys, "total", "stderr"]]
    real = real.rename(columns={"total": "real_error", "stderr": "real_stderr"})
    mix = raw[raw.p2 > 0][[*keys, "p2", "d", "sigma2", "total", "stderr"]]
    mix = mix.rename(columns={"total": "mix_error", "stderr": "mix_stderr"})
    out = mix.merge(real, on=keys, how="left", validate="many_to_one")
    out["psi"] = out["m"] / out["n"]
    out["gap"] = out["mix_error"] - out["real_error"]
    return out.sort_values(["method", "p2", "c2", "m"], ignore_index=True)


def pareto_table(ctx: FigureContext) -> pd.DataFrame:
    """Theory at every width of a log grid of psi = m/n in [0.1, 10]; simulation at a few.

    Each row pairs the mix's error (p2 > 0) with the all-real error (p2 = 0) at the same width
    m and quality c^2 (random projections, Theorem 2), with psi = m/n and the gap mix - real.

    Args:
      ctx: the figure context: its level picks ``PRESETS`` (theory grid size, simulated widths
        and qualities, repetitions), its store keeps the sweeps.

    Returns:
      One row per (method, p2, c2, m): mix_error, real_error, their stderr, psi and gap.

    Example:
      A whole table runs theory and Monte Carlo sweeps (``simcollapse figures --only pareto``);
      the widths its quick level simulates at n = 500:

      >>> _widths(SETTING["n"], PRESETS["quick"]["psi_sim"])
      [100, 300]
    """
    cfg = {**SETTING, **PRESETS[ctx.mode]}
    n = cfg["n"]
    common = dict(
        d=cfg["d"],
        family="isotropic",
        signal=1.0,
        sigma2=cfg["sigma2"],
        setting="random_projection",
    )
    psi_line = np.geomspace(0.1, 10.0, cfg["psi_line"])
    theory_axes = {
        "n": [n],
        "m": _widths(n, psi_line),
        "lam": [cfg["lam"]],
        "p2": [0.0, *PARETO_P2],
        "c2": list(PARETO_C2),
    }
    sim_axes = {
        "n": [n],
        "m": _widths(n, cfg["psi_sim"]),
        "lam": [cfg["lam"]],
        "p2": [0.0, PARETO_P2[0]],
        "c2": cfg["c2_sim"],
    }
    return _pair(theory_and_simulation(ctx, common, theory_axes, sim_axes, cfg["reps"]))


def _panel(ax: Any, part: pd.DataFrame, norm: Any, cmap: Any) -> Any:
    points = None
    for c2 in sorted(part["c2"].unique()):
        th = part[(part.method == "theory") & np.isclose(part.c2, c2)].sort_values("m")
        ax.plot(th["real_error"], th["mix_error"], color="0.35", lw=1, ls=LINESTYLES.get(c2, "-"))
        points = ax.scatter(
            th["real_error"],
            th["mix_error"],
            c=th["psi"],
            cmap=cmap,
            norm=norm,
            marker=MARKERS.get(c2, "o"),
            s=30,
            edgecolors="none",
            zorder=3,
        )
        sim = part[(part.method == "simulate") & np.isclose(part.c2, c2)]
        if len(sim):
            ax.errorbar(
                sim["real_error"],
                sim["mix_error"],
                xerr=sim["real_stderr"],
                yerr=sim["mix_stderr"],
                fmt=MARKERS.get(c2, "o"),
                ms=9,
                **SIM_MARKERS,
            )
    return points


def _gap_panel(ax: Any, table: pd.DataFrame, p2: float) -> None:
    """The collapse gap mix - real against psi, linear in the gap, one line per c^2 > 0."""
    part = table[np.isclose(table.p2, p2) & (table.c2 > 0)]
    for c2 in sorted(part["c2"].unique()):
        th = part[(part.method == "theory") & np.isclose(part.c2, c2)].sort_values("psi")
        ax.plot(th["psi"], th["gap"], color="0.35", lw=1.2, ls=LINESTYLES.get(c2, "-"))
        sim = part[(part.method == "simulate") & np.isclose(part.c2, c2)]
        if len(sim):
            ax.errorbar(
                sim["psi"],
                sim["gap"],
                yerr=np.hypot(sim["mix_stderr"], sim["real_stderr"]),
                fmt=MARKERS.get(c2, "o"),
                ms=7,
                **SIM_MARKERS,
            )
    ax.axvline(1.0, color="0.6", ls=":", lw=1)
    ax.axhline(0.0, color="0.6", lw=1)
    ax.set(
        xscale="log",
        xlabel=r"model size $\psi = m/n$ (log axis; dotted: $\psi$ = 1)",
        ylabel="gap: mix error - all-real error (linear)",
        title=f"$p_2$ = {p2:g}: the gap grows up to $\\psi$ = 1,\nshrinks beyond, never reaches 0",
    )
    ax.xaxis.set_major_formatter(_plain_formatter())


def _plain_formatter() -> Any:

    return FuncFormatter(lambda v, _: f"{v:g}")


def pareto_plot(table: pd.DataFrame) -> Any:
    """One panel per p2: mix error against all-real error, one point per width; then the gap
    mix - real against psi at the paper's p2 = 0.1 on a linear axis.

    Args:
      table: ``pareto_table``'s rows (method, n, d, m, psi, p2, c2, mix_error, real_error,
        mix_stderr, real_stderr, gap).

    Returns:
      matplotlib Figure: a panel per p2 of ``PARETO_P2`` in the table, then the gap panel.

    Example:
      >>> import matplotlib.pyplot as plt
      >>> m = np.array([100, 300, 1000])
      >>> table = pd.DataFrame({"method": "theory", "n": 500, "d": 600, "m": m, "psi": m / 500,
      ...                       "p2": 0.1, "c2": 0.5, "real_error": [0.8, 0.6, 0.3],
      ...                       "mix_error": [0.85, 0.7, 0.32], "real_stderr": 0.0,
      ...                       "mix_stderr": 0.0}).assign(gap=lambda t: t.mix_error - t.real_error)
      >>> fig = pareto_plot(table)
      >>> len(fig.axes), fig.axes[1].get_ylabel()  # two panels and the colour bar
      (3, 'gap: mix error - all-real error (linear)')
      >>> plt.close(fig)
    """

    p2s = [p for p in PARETO_P2 if np.isclose(table.p2, p).any()]
    fig, axes = new_figure(ncols=len(p2s) + 1, width=4.8, height=4.6, squeeze=False)
    norm, cmap = LogNorm(0.1, 10.0), "viridis"
    lo = 0.8 * table[["real_error", "mix_error"]].min().min()
    hi = min(1.2 * table[["real_error", "mix_error"]].max().max(), 50.0)
    points = None
    for ax, p2 in zip(axes[0], p2s, strict=False):
        points = _panel(ax, table[np.isclose(table.p2, p2)], norm, cmap) or points
        ax.plot([lo, hi], [lo, hi], color="0.6", lw=1)
        ax.set(xscale="log", yscale="log", xlim=(lo, hi), ylim=(lo, hi))
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            axis.set_major_formatter(_plain_formatter())
            axis.set_minor_formatter(NullFormatter())
        note = "\n(the $c^2$ curves nearly coincide)" if p2 < 0.05 else ""
        ax.set(
            xlabel="test error, all n rows real (log axis)",
            title=f"$p_2$ = {p2:g}: mix error against all-real error{note}",
        )
    axes[0][0].set_ylabel("test error, real + synthetic mix (log axis)")
    _gap_panel(axes[0][-1], table, PARETO_P2[0])
    handles = [
        Line2D([], [], color="0.35", ls=LINESTYLES[c], marker=MARKERS[c], mfc="0.35", mec="none")
        for c in PARETO_C2
    ]
    labels = [f"$c^2$ = {c:g} (theory)" for c in PARETO_C2]
    handles += [
        Line2D([], [], ls="", marker="o", mfc="none", mec="k", ms=8),
        Line2D([], [], color="0.6", lw=1),
    ]
    labels += ["simulation (±1 SE)", "y = x: no collapse"]
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize="small")
    bar = fig.colorbar(points, ax=axes[0, :-1].tolist(), shrink=0.85)
    bar.set_label(r"model size $\psi = m/n$")
    n, d = int(table["n"].iloc[0]), int(table["d"].iloc[0])
    fig.suptitle(
        f"Random projections, $\\Sigma$ = I, d = {d}, n = {n}: points above the diagonal are "
        "collapse;\nthe gap (right, linear axis) grows with $\\psi$ up to 1 and shrinks beyond",
        fontsize="medium",
    )
    return fig


PARETO = register(
    Figure(
        "pareto",
        "Pareto diagram: test error on the real/synthetic mix against test error with all n = "
        "500 rows real, random projections, Sigma = I, d = 600, c^2 in {0, 0.1, 0.5, 1}, one "
        "point per width coloured by psi = m/n; p2 = 0.1 as in the paper, and p2 = 0.02, 0.5. "
        "sigma^2 = 0.1 and lam = 1e-6 are our choice (not stated in the paper).",
        pareto_table,
        pareto_plot,
        paper="Figure 1",
        claims=theory_claims.PARETO,
    )
)
