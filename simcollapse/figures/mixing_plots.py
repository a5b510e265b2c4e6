"""The drawings of the mixing figures (``simcollapse.figures.mixing``), each from its tidy table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from simcollapse.figures.style import new_figure, palette

__all__ = ["plot_generations", "plot_iterative", "plot_weighted"]


def plot_weighted(table: pd.DataFrame) -> Any:
    """Draw the weighted_mixing figure (paper Figure 9) from ``weighted_table``'s rows:
    test error against n for each fixed synthetic loss share alpha, the best alpha per n, the
    clean curve (dashed) and Monte Carlo points with their standard errors.

    Args:
      table: rows with curve, source ("theory" or "simulation"), n, total and stderr; a curve
        named "clean ..." is drawn dashed, "best alpha" dotted.

    Returns:
      matplotlib Figure.

    Example:
      >>> import matplotlib.pyplot as plt
      >>> table = pd.DataFrame({
      ...     "curve": ["alpha=0.1"] * 3 + ["clean (all real)"] * 2,
      ...     "source": ["theory", "theory", "simulation", "theory", "theory"],
      ...     "n": [100, 1000, 100, 100, 1000], "total": [0.5, 0.3, 0.52, 0.4, 0.1],
      ...     "stderr": [0.0, 0.0, 0.01, 0.0, 0.0]})
      >>> fig = plot_weighted(table)
      >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
      ['alpha=0.1', 'clean (all real)']
      >>> plt.close(fig)
    """
    fig, ax = new_figure(width=6.0, height=4.4)
    th = table[table.source == "theory"]
    curves = [c for c in th.curve.unique()]
    colours = dict(zip(curves, palette(len(curves)), strict=True))
    for c in curves:
        t = th[th.curve == c]
        style = dict(lw=2.5, color="k", ls="--") if c.startswith("clean") else {}
        if c == "best alpha":
            style = dict(lw=2.5, color=colours[c], ls=":")
        ax.plot(t.n, t.total, label=c, **({"color": colours[c]} | style))
        s = table[(table.source == "simulation") & (table.curve == c)]
        if len(s):
            ax.errorbar(s.n, s.total, yerr=s.stderr, fmt="o", ms=4, capsize=2,
                        color=style.get("color", colours[c]))  # fmt: skip
    ax.set(xscale="log", yscale="log", xlabel="n (total rows, p2 = 1/2)",
           ylabel="test error on real data",
           title="Weighted mixing: every fixed alpha flattens")  # fmt: skip
    ax.legend(fontsize=8, ncol=2)
    return fig


def _plot_reused(ax: Any, sub: pd.DataFrame) -> None:
    """Reused real rows: the simulated error against the round, one line per n, with the real
    half alone (dashed) and all n rows real (dotted) at that n."""
    sim = sub[sub.source == "simulation"]
    ns = sorted(sim.n.unique())
    for colour, n in zip(palette(len(ns)), ns, strict=True):
        s = sim[sim.n == n].sort_values("t")
        ax.errorbar(s.t, s.total, yerr=s.stderr, fmt="o-", ms=4, capsize=2, lw=1, color=colour,
                    label=f"n = {n:,.0f} (simulation)")  # fmt: skip
        for curve, ls in (("clean (real half)", "--"), ("clean (n real)", ":")):
            ref = sub[(sub.source == "theory") & (sub.curve == curve) & (sub.n == n)]
            ax.axhline(float(ref.total.iloc[0]), color=colour, ls=ls, lw=1.2)
    ax.plot([], [], color="k", ls="--", lw=1.2, label="real half alone (theory)")
    ax.plot([], [], color="k", ls=":", lw=1.2, label="all n rows real (theory)")
    ax.set(yscale="log", xlabel="round t", ylabel="test error",
           title="Iterative mixing, real rows reused:\nerror against the round per n")  # fmt: skip
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=2)


def plot_iterative(table: pd.DataFrame) -> Any:
    """Draw the iterative_mixing figure (paper Figure 10) from ``iterative_table``'s rows:
    fresh rows, reused real rows (test error against n after each round t) and the isotropic
    closed form against the round for several phi = d/n.

    Args:
      table: rows with panel ("fresh", "reused" or "isotropic"), curve, source ("theory",
        "simulation" or "reference": the isotropic limit), n, t, total and stderr.

    Returns:
      matplotlib Figure with three panels.

    Example:
      >>> import matplotlib.pyplot as plt
      >>> table = pd.DataFrame([
      ...     ("fresh", "t=1", "theory", 100, 1, 0.5), ("fresh", "t=1", "theory", 1000, 1, 0.2),
      ...     ("fresh", "clean (real half)", "theory", 100, 0, 0.6),
      ...     ("fresh", "clean (n real)", "theory", 100, 0, 0.4),
      ...     ("reused", "n=100", "simulation", 100, 1, 0.5),
      ...     ("reused", "n=100", "simulation", 100, 2, 0.55),
      ...     ("reused", "clean (real half)", "theory", 100, 0, 0.6),
      ...     ("reused", "clean (n real)", "theory", 100, 0, 0.4),
      ...     ("isotropic", "phi=0.5", "theory", 120, 1, 0.3),
      ...     ("isotropic", "phi=0.5", "theory", 120, 2, 0.35),
      ...     ("isotropic", "phi=0.5", "reference", 120, 0, 0.4),
      ... ], columns=["panel", "curve", "source", "n", "t", "total"]).assign(stderr=0.01)
      >>> fig = plot_iterative(table)
      >>> [ax.get_xlabel() for ax in fig.axes]
      ['n (p1 = p2 = 1/2)', 'round t', 'round t']
      >>> plt.close(fig)
    """
    fig, axes = new_figure(ncols=3, width=5.0, height=4.2)
    _plot_reused(axes[1], table[table.panel == "reused"])
    for ax, panel, title in zip(axes[:1], ("fresh",), ("fresh rows every round",), strict=True):
        sub = table[table.panel == panel]
        rounds = sorted(int(t) for t in sub.t.unique() if t > 0)
        colours = dict(zip(rounds, palette(len(rounds)), strict=True))
        for t in rounds:
            th = sub[(sub.source == "theory") & (sub.t == t)]
            if len(th):
                ax.plot(th.n, th.total, color=colours[t], lw=1.5, label=f"t = {t}")
            s = sub[(sub.source == "simulation") & (sub.t == t)]
            ax.errorbar(s.n, s.total, yerr=s.stderr, fmt="o", ms=4, capsize=2, color=colours[t],
                        label=None if len(th) else f"t = {t} (sim)")  # fmt: skip
        for c, ls in (("clean (real half)", "--"), ("clean (n real)", ":")):
            th = sub[(sub.source == "theory") & (sub.curve == c)]
            ax.plot(th.n, th.total, color="k", ls=ls, lw=2, label=c)
        ax.set(xscale="log", yscale="log", xlabel="n (p1 = p2 = 1/2)", ylabel="test error",
               title=f"Iterative mixing, {title}")  # fmt: skip
        ax.legend(fontsize=7, ncol=2)
    ax = axes[2]
    sub = table[table.panel == "isotropic"]
    curves = list(sub[sub.source == "theory"].curve.unique())  # simulated phis sit on these
    colours = dict(zip(curves, palette(len(curves)), strict=True))
    for c in curves:
        th = sub[(sub.source == "theory") & (sub.curve == c)]
        ref = sub[(sub.source == "reference") & (sub.curve == c)]
        lim = float(ref.total.iloc[0])
        label = f"{c}: limit {lim:.3g}" if np.isfinite(lim) else f"{c}: diverges"
        ax.plot(th.t, th.total, color=colours[c], lw=1.5, label=label)
        if np.isfinite(lim):
            ax.axhline(lim, color=colours[c], ls=":", lw=1)
        s = sub[(sub.source == "simulation") & (sub.curve == c)]
        if len(s):
            ax.errorbar(s.t, s.total, yerr=s.stderr, fmt="o", ms=4, capsize=2, color=colours[c])
    ax.set(yscale="log", xlabel="round t", ylabel="test error",
           title="Isotropic, fresh rows: diverges for phi >= 3/4")  # fmt: skip
    ax.legend(fontsize=7)
    return fig


def plot_generations(table: pd.DataFrame) -> Any:
    """Draw the generations figure from ``generations_table``'s rows: test error against
    the generation for the replace, accumulate and accumulate-subsample loops (and, for OLS, the
    accumulate loop in the fixed design), one panel per problem, theory as lines and Monte Carlo
    as points with their standard errors.

    Args:
      table: rows with panel (one per problem), curve ("replace", "accumulate",
        "accumulate-subsample", "accumulate, fixed X"), source ("theory", "reference" or
        "simulation"), n, t (the generation), total and stderr.

    Returns:
      matplotlib Figure: a panel per problem, and a zoom on the two accumulate designs when the
      table has the fixed-design curve.

    Example:
      >>> import matplotlib.pyplot as plt
      >>> table = pd.DataFrame({
      ...     "panel": "ridge", "curve": "replace",
      ...     "source": ["theory", "theory", "simulation", "simulation"],
      ...     "n": 100, "t": [1, 2, 1, 2], "total": [0.5, 0.9, 0.51, 0.88], "stderr": 0.02})
      >>> fig = plot_generations(table)
      >>> [ax.get_title() for ax in fig.axes]
      ['ridge, n = 100 per generation']
      >>> plt.close(fig)
    """
    panels = list(table.panel.unique())
    fixed = table[(table.curve == "accumulate, fixed X") & (table.source == "theory")]
    ncols = len(panels) + (1 if len(fixed) else 0)  # a zoom on the two accumulate designs
    fig, axes = new_figure(ncols=ncols, width=5.0, height=4.0)
    axes = np.atleast_1d(axes)
    curves = ["replace", "accumulate", "accumulate-subsample", "accumulate, fixed X"]
    colours = dict(zip(curves, palette(5)[:3] + palette(5)[4:], strict=True))
    styles = {"accumulate, fixed X": ("--", "s")}
    for ax, panel in zip(axes, panels, strict=False):
        sub = table[table.panel == panel]
        n = int(sub.n.iloc[0])
        for c in curves:
            ls, marker = styles.get(c, ("-", "o"))
            th = sub[(sub.curve == c) & (sub.source == "theory")]
            if len(th):
                ax.plot(th.t, th.total, color=colours[c], ls=ls, lw=1.5, label=f"{c} (theory)")
            ref = sub[(sub.curve == c) & (sub.source == "reference")]
            if len(ref):
                ax.plot(ref.t, ref.total, color=colours[c], ls=":", lw=1.5,
                        label=f"{c} (n >> d reference)")  # fmt: skip
            s = sub[(sub.curve == c) & (sub.source == "simulation")]
            if len(s):
                ax.errorbar(s.t, s.total, yerr=s.stderr, fmt=marker, ms=4, capsize=2,
                            color=colours[c], label=f"{c} (sim)")  # fmt: skip
        ax.set(xlabel="generation k", ylabel="test error", title=f"{panel}, n = {n} per generation")
        ax.legend(fontsize=7)
    if len(fixed):
        ax, panel = axes[-1], str(fixed.panel.iloc[0])
        sub = table[(table.panel == panel) & (table.t >= 2)]
        for c in ("accumulate", "accumulate, fixed X"):
            ls, marker = styles.get(c, ("-", "o"))
            th = sub[(sub.curve == c) & (sub.source == "theory")]
            s = sub[(sub.curve == c) & (sub.source == "simulation")]
            design = "fixed X" if c.endswith("fixed X") else "fresh X"
            ax.plot(th.t, th.total, color=colours[c], ls=ls, lw=1.5, label=f"{design} (exact)")
            ax.errorbar(s.t, s.total, yerr=s.stderr, fmt=marker, ms=4, capsize=2,
                        color=colours[c], label=f"{design} (sim)")  # fmt: skip
        ax.set(xlabel="generation k", ylabel="test error",
               title=f"{panel}: accumulate, fresh vs fixed X")  # fmt: skip
        ax.legend(fontsize=7)
    return fig
