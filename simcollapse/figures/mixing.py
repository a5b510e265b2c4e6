"""Figures for the mixing strategies and multi-generation loops (Section 5 of the paper).

Registers three figures (group "mixing"), each a tidy table of theory lines and simulation
points (mean and standard error) computed through ``ctx.store`` when one is given:

* ``weighted_mixing``: test error against n for fixed synthetic loss shares alpha, the best alpha
  at each n and the clean curve (Corollary 2): every fixed alpha > 0 flattens at alpha^2 c^2.
* ``iterative_mixing``: test error against n after t = 1..T rounds (p2 = 1/2) with fresh and
  reused real rows, against the clean curves of the real half and of all n rows (Figure 10); and
  the isotropic fresh-rows recursion against the round for several phi = d/n, including the
  divergence for phi >= 3/4.
* ``generations``: test error against the generation for replace (exact OLS and ridge theory),
  accumulate (with its n >> d reference) and accumulate-subsample.

Table columns: figure, panel, curve, source ("theory", "simulation" or "reference"), n, alpha,
t (round or generation; 0 where none), phi, total, stderr.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from simcollapse.figures.registry import Figure, FigureContext, cached_table, register
from simcollapse.figures.style import new_figure, palette
from simcollapse.problem import Problem
from simcollapse.simulate import mixing as sim
from simcollapse.theory.generations import accumulate_reference, replace_error
from simcollapse.theory.iterative import (
    isotropic_iterative_error,
    isotropic_iterative_limit,
    iterative_error,
)
from simcollapse.theory.ridge import ridge_error
from simcollapse.theory.weighted import weighted_error

__all__ = ["CONFIGS", "generations_table", "iterative_table", "weighted_table"]

COLUMNS = ["figure", "panel", "curve", "source", "n", "alpha", "t", "phi", "total", "stderr"]

# Everything a table depends on, per mode (also the store key). The iterative figure simulates at
# n1 = n/2 >= 3 d: the "reused rows stay above the real half" claim is a statement away from the
# real half's interpolation threshold (near it, the extra synthetic rows regularise the fit).
CONFIGS: dict[str, dict[str, dict[str, Any]]] = {
    "weighted_mixing": {
        "quick": dict(d=100, c2=1.0, sigma2=1.0, p2=0.5, lam=1e-3,
                      alphas=[0.0, 0.02, 0.1, 0.5, 1.0], n_theory=(50, 2e5, 40),
                      n_sim=[100, 400, 1600], reps=16),
        "default": dict(d=100, c2=1.0, sigma2=1.0, p2=0.5, lam=1e-3,
                        alphas=[0.0, 0.02, 0.1, 0.5, 1.0], n_theory=(50, 4e5, 60),
                        n_sim=[100, 400, 1600, 6400], reps=48),
        "full": dict(d=200, c2=1.0, sigma2=1.0, p2=0.5, lam=1e-3,
                     alphas=[0.0, 0.02, 0.1, 0.5, 1.0], n_theory=(100, 1e6, 80),
                     n_sim=[200, 800, 3200, 12800], reps=48),
    },
    "iterative_mixing": {
        "quick": dict(d=100, c2=1.0, sigma2=1.0, lam=1e-3, rounds=8, n_theory=(150, 1e5, 40),
                      n_sim=[600, 2400], reps=16, iso_d=60, phis=[0.25, 0.5, 0.7, 0.75, 0.8],
                      iso_sim_n=[120, 75], iso_reps=32),
        "default": dict(d=100, c2=1.0, sigma2=1.0, lam=1e-3, rounds=10, n_theory=(150, 4e5, 60),
                        n_sim=[600, 2400, 4800], reps=32, iso_d=100,
                        phis=[0.25, 0.5, 0.7, 0.75, 0.8], iso_sim_n=[400, 200, 143], iso_reps=64),
        "full": dict(d=200, c2=1.0, sigma2=1.0, lam=1e-3, rounds=10, n_theory=(300, 1e6, 80),
                     n_sim=[1200, 4800, 19200], reps=48, iso_d=200,
                     phis=[0.25, 0.5, 0.7, 0.75, 0.8], iso_sim_n=[800, 400, 250], iso_reps=64),
    },
    "generations": {
        "quick": dict(ols_d=50, ols_n=400, ridge_d=100, ridge_n=100, ridge_lam=1e-2, c2=0.0,
                      sigma2=1.0, generations=6, reps=64),
        "default": dict(ols_d=50, ols_n=400, ridge_d=100, ridge_n=100, ridge_lam=1e-2, c2=0.0,
                        sigma2=1.0, generations=8, reps=128),
        "full": dict(ols_d=100, ols_n=800, ridge_d=200, ridge_n=200, ridge_lam=1e-2, c2=0.0,
                     sigma2=1.0, generations=12, reps=96),
    },
}  # fmt: skip


def _rows(**cols: Any) -> pd.DataFrame:
    """A block of table rows; scalars are broadcast, missing columns get defaults."""
    size = max(np.size(v) for v in cols.values())
    base = {"alpha": np.nan, "t": 0, "phi": np.nan, "stderr": 0.0}
    base.update(cols)
    out = {k: np.broadcast_to(np.asarray(v), (size,)).ravel() for k, v in base.items()}
    return pd.DataFrame(out)[COLUMNS[1:]]


def _cached(ctx: FigureContext, name: str, compute: Callable[[dict], pd.DataFrame]) -> pd.DataFrame:
    cfg = dict(CONFIGS[name][ctx.mode], seed=ctx.seed)
    return cached_table(ctx, "figures-mixing", name, cfg, compute)


# --------------------------------------------------------------------------------------------
# weighted_mixing
# --------------------------------------------------------------------------------------------
def weighted_table(cfg: dict[str, Any]) -> pd.DataFrame:
    """Tidy table of the weighted-mixing figure for one config (see ``CONFIGS``)."""
    prob = Problem.power_law(cfg["d"], c2=cfg["c2"], sigma2=cfg["sigma2"])
    p2, lam = cfg["p2"], cfg["lam"]
    n = np.geomspace(*cfg["n_theory"][:2], int(cfg["n_theory"][2]))
    blocks = []
    alphas = np.asarray(cfg["alphas"], float)
    th = weighted_error(prob, n[:, None], lam, p2, alphas[None, :])
    for i, a in enumerate(alphas):
        blocks.append(_rows(panel="n", curve=f"alpha={a:g}", source="theory", n=n, alpha=a,
                            total=th.total[:, i]))  # fmt: skip
    grid = np.unique(np.concatenate([np.geomspace(1e-5, 1.0, 120), np.linspace(0, 1, 101)]))
    best = weighted_error(prob, n[:, None], lam, p2, grid[None, :])
    i_best = np.argmin(best.total, axis=1)
    blocks.append(_rows(panel="n", curve="best alpha", source="theory", n=n, alpha=grid[i_best],
                        total=best.total[np.arange(n.size), i_best]))  # fmt: skip
    clean = ridge_error(prob, n, lam, 0.0)
    blocks.append(_rows(panel="n", curve="clean (n real)", source="theory", n=n,
                        total=clean.total))  # fmt: skip
    # One simulation call per n: the fixed alphas at p2, and the clean curve (p2 = alpha = 0).
    n_sim = np.asarray(cfg["n_sim"])
    p2s = np.append(np.full(alphas.size, p2), 0.0)
    ms = sim.weighted_error(prob, n_sim[:, None], lam, p2s, np.append(alphas, 0.0),
                            key=cfg["seed"], reps=cfg["reps"])  # fmt: skip
    for i, a in enumerate(alphas):
        blocks.append(_rows(panel="n", curve=f"alpha={a:g}", source="simulation", n=n_sim,
                            alpha=a, total=ms.total[:, i], stderr=ms.stderr[:, i]))  # fmt: skip
    blocks.append(_rows(panel="n", curve="clean (n real)", source="simulation", n=n_sim,
                        total=ms.total[:, -1], stderr=ms.stderr[:, -1]))  # fmt: skip
    floor = _rows(panel="n", curve="floor alpha^2 c^2", source="reference", n=n[-1],
                  alpha=alphas, total=alphas**2 * prob.c2)  # fmt: skip
    return pd.concat([*blocks, floor], ignore_index=True)


def _plot_weighted(table: pd.DataFrame) -> Any:
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


# --------------------------------------------------------------------------------------------
# iterative_mixing
# --------------------------------------------------------------------------------------------
def iterative_table(cfg: dict[str, Any]) -> pd.DataFrame:
    """Tidy table of the iterative-mixing figure for one config (see ``CONFIGS``)."""
    prob = Problem.power_law(cfg["d"], c2=cfg["c2"], sigma2=cfg["sigma2"])
    lam, rounds = cfg["lam"], cfg["rounds"]
    n = np.geomspace(*cfg["n_theory"][:2], int(cfg["n_theory"][2]))
    n = np.unique(np.concatenate([n, np.asarray(cfg["n_sim"], float)]))  # theory at the sim n too
    t_axis = np.arange(1, rounds + 1)
    blocks = []
    th = iterative_error(prob, n, lam, 0.5, rounds)
    for t in t_axis:
        blocks.append(_rows(panel="fresh", curve=f"t={t}", source="theory", n=n, t=t,
                            total=th.total[:, t - 1]))  # fmt: skip
    half = ridge_error(prob, n / 2, lam, 0.0)
    full = ridge_error(prob, n, lam, 0.0)
    for panel in ("fresh", "reused"):
        blocks.append(_rows(panel=panel, curve="clean (real half)", source="theory", n=n,
                            total=half.total))  # fmt: skip
        blocks.append(_rows(panel=panel, curve="clean (n real)", source="theory", n=n,
                            total=full.total))  # fmt: skip
    n_sim = np.asarray(cfg["n_sim"])
    for panel, reuse in (("fresh", False), ("reused", True)):
        ms = sim.iterative_error(prob, n_sim, lam, 0.5, rounds, key=cfg["seed"],
                                 reps=cfg["reps"], reuse_real=reuse)  # fmt: skip
        for t in t_axis:
            blocks.append(_rows(panel=panel, curve=f"t={t}", source="simulation", n=n_sim, t=t,
                                total=ms.total[:, t - 1], stderr=ms.stderr[:, t - 1]))  # fmt: skip
    # Isotropic, ridgeless, p2 = 1/2: the closed form against the round, for several phi.
    iso = Problem.isotropic(cfg["iso_d"], c2=cfg["c2"], sigma2=cfg["sigma2"])
    phis = np.asarray(cfg["phis"], float)
    closed = isotropic_iterative_error(phis, 0.5, cfg["c2"], cfg["sigma2"], rounds)
    limit = isotropic_iterative_limit(phis, 0.5, cfg["sigma2"])
    for i, phi in enumerate(phis):
        blocks.append(_rows(panel="isotropic", curve=f"phi={phi:g}", source="theory",
                            n=cfg["iso_d"] / phi, t=t_axis, phi=phi, total=closed[i]))  # fmt: skip
        blocks.append(_rows(panel="isotropic", curve=f"phi={phi:g}", source="reference",
                            n=cfg["iso_d"] / phi, t=0, phi=phi, total=limit[i]))  # fmt: skip
    iso_n = np.asarray(cfg["iso_sim_n"])
    mi = sim.iterative_error(iso, iso_n, 0.0, 0.5, rounds, key=cfg["seed"], reps=cfg["iso_reps"])
    for j, nj in enumerate(iso_n):
        phi = cfg["iso_d"] / nj
        blocks.append(_rows(panel="isotropic", curve=f"phi={phi:g}", source="simulation", n=nj,
                            t=t_axis, phi=phi, total=mi.total[j], stderr=mi.stderr[j]))  # fmt: skip
    return pd.concat(blocks, ignore_index=True)


def _plot_iterative(table: pd.DataFrame) -> Any:
    fig, axes = new_figure(ncols=3, width=5.0, height=4.2)
    for ax, panel, title in zip(
        axes[:2], ("fresh", "reused"), ("fresh rows every round", "real rows reused"), strict=True
    ):
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
    curves = list(sub.curve.unique())
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


# --------------------------------------------------------------------------------------------
# generations
# --------------------------------------------------------------------------------------------
def generations_table(cfg: dict[str, Any]) -> pd.DataFrame:
    """Tidy table of the generations figure for one config (see ``CONFIGS``)."""
    g = cfg["generations"]
    k = np.arange(1, g + 1)
    blocks = []
    panels = (
        ("OLS, isotropic", Problem.isotropic(cfg["ols_d"], c2=cfg["c2"], sigma2=cfg["sigma2"]),
         cfg["ols_n"], 0.0),
        ("ridge, power law", Problem.power_law(cfg["ridge_d"], c2=cfg["c2"], sigma2=cfg["sigma2"]),
         cfg["ridge_n"], cfg["ridge_lam"]),
    )  # fmt: skip
    for panel, prob, n, lam in panels:
        th = replace_error(prob, n, lam, g)
        blocks.append(_rows(panel=panel, curve="replace", source="theory", n=n, t=k,
                            total=th.total))  # fmt: skip
        blocks.append(_rows(panel=panel, curve="accumulate", source="reference", n=n, t=k,
                            total=accumulate_reference(prob, n, g)))  # fmt: skip
        for curve, fn in (
            ("replace", sim.replace_error),
            ("accumulate", sim.accumulate_error),
            ("accumulate-subsample", sim.accumulate_subsample_error),
        ):
            ms = fn(prob, n, lam, g, key=cfg["seed"], reps=cfg["reps"])
            blocks.append(_rows(panel=panel, curve=curve, source="simulation", n=n, t=k,
                                total=ms.total, stderr=ms.stderr))  # fmt: skip
    return pd.concat(blocks, ignore_index=True)


def _plot_generations(table: pd.DataFrame) -> Any:
    panels = list(table.panel.unique())
    fig, axes = new_figure(ncols=len(panels), width=5.0, height=4.0)
    curves = ["replace", "accumulate", "accumulate-subsample"]
    colours = dict(zip(curves, palette(3), strict=True))
    for ax, panel in zip(np.atleast_1d(axes), panels, strict=True):
        sub = table[table.panel == panel]
        n = int(sub.n.iloc[0])
        for c in curves:
            th = sub[(sub.curve == c) & (sub.source == "theory")]
            if len(th):
                ax.plot(th.t, th.total, color=colours[c], lw=1.5, label=f"{c} (theory)")
            ref = sub[(sub.curve == c) & (sub.source == "reference")]
            if len(ref):
                ax.plot(ref.t, ref.total, color=colours[c], ls=":", lw=1.5,
                        label=f"{c} (n >> d reference)")  # fmt: skip
            s = sub[(sub.curve == c) & (sub.source == "simulation")]
            ax.errorbar(s.t, s.total, yerr=s.stderr, fmt="o", ms=4, capsize=2, color=colours[c],
                        label=f"{c} (sim)")  # fmt: skip
        ax.set(xlabel="generation k", ylabel="test error", title=f"{panel}, n = {n} per generation")
        ax.legend(fontsize=7)
    return fig


register(
    Figure(
        "weighted_mixing",
        "Weighted mixing (Corollary 2): test error vs n for fixed synthetic loss shares alpha, "
        "the best alpha per n and the clean curve; every fixed alpha > 0 flattens at alpha^2 c^2.",
        lambda ctx: _cached(ctx, "weighted_mixing", weighted_table),
        _plot_weighted,
        group="mixing",
        paper="Figure 9",
    )
)
register(
    Figure(
        "iterative_mixing",
        "Iterative mixing (Figure 10): test error vs n after t rounds, fresh and reused real rows, "
        "against the real-half and all-real clean curves; isotropic divergence for phi >= 3/4.",
        lambda ctx: _cached(ctx, "iterative_mixing", iterative_table),
        _plot_iterative,
        group="mixing",
        paper="Figure 10",
    )
)
register(
    Figure(
        "generations",
        "Multi-generation loops: test error vs generation for replace (grows), accumulate "
        "(bounded) and accumulate-subsample.",
        lambda ctx: _cached(ctx, "generations", generations_table),
        _plot_generations,
        group="mixing",
    )
)
