"""The golden-ratio weighting figure (He, Xu, Cheng 2025, arXiv 2502.18049; not in the paper).

Each generation refits on n fresh real rows and n fresh rows labelled by the previous
generation, with the loss share ``real_weight`` on the real rows (setting ``golden_weighted``);
generation 0 is OLS on n real rows (``teacher_n0 = n``: Delta = sigma^2 Sigma^-1/(n - d - 1)).

* panel "optimum": the real weight minimising the theory error at generation t
  (``theory.golden.optimal_weight``) against t, for OLS with n >> d (tends to 1/phi = 0.618),
  OLS at n = 4 d and ridge at the same n; Monte Carlo optima as points (the minimum of a parabola
  through the smallest simulated error on a weight grid and its two neighbours).
* panel "error": the test error at the last generation against the weight, theory lines and
  Monte Carlo points (common random numbers: every weight sees the same draws), minima marked.

Table columns: figure, panel, curve, source ("theory", "simulation" or "reference"), n, lam,
t (generation; 0 where none), weight, total, stderr.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from simcollapse.figures import golden_claims
from simcollapse.figures.dry_run import THEORY_POINTS, Task, Work, figure_sweep
from simcollapse.figures.registry import NEW, Figure, FigureContext, register
from simcollapse.figures.style import new_figure, palette
from simcollapse.problem import Problem
from simcollapse.sweep import Sweep
from simcollapse.theory.golden import INV_PHI, optimal_weight

__all__ = ["CONFIGS", "golden_table", "parabola_argmin", "plot_golden"]

COLUMNS = ["figure", "panel", "curve", "source", "n", "lam", "t", "weight", "total", "stderr"]

# n_large >> d is the OLS regime of the paper's 1/phi; n = 4 d is finite, where both OLS and
# ridge are simulated on the weight grid ``w_sim`` (ratio 1: as many synthetic rows as real).
CONFIGS: dict[str, dict[str, Any]] = {
    "quick": dict(d=20, sigma2=1.0, n=80, n_large=20_000, lams=[0.1, 0.3, 1.0], generations=8,
                  w_sim=np.round(np.arange(0.30, 1.0001, 0.05), 2).tolist(), reps=128),
    "default": dict(d=40, sigma2=1.0, n=160, n_large=40_000, lams=[0.1, 0.3, 1.0], generations=10,
                    w_sim=np.round(np.arange(0.30, 1.0001, 0.05), 2).tolist(), reps=256),
    "full": dict(d=100, sigma2=1.0, n=400, n_large=100_000, lams=[0.1, 0.3, 1.0], generations=12,
                 w_sim=np.round(np.arange(0.30, 1.0001, 0.025), 3).tolist(), reps=512),
}  # fmt: skip


def parabola_argmin(x: np.ndarray, y: np.ndarray) -> float:
    """The minimiser of the parabola through the smallest y and its two neighbours.

    x is increasing; at an end of the grid (or a flat/concave triple) the grid point itself.

    Example:
      >>> x = np.linspace(0.0, 1.0, 11)
      >>> round(parabola_argmin(x, (x - 0.62) ** 2), 6)
      0.62
      >>> parabola_argmin(x, x)
      0.0
    """
    i = int(np.argmin(y))
    if i == 0 or i == len(x) - 1:
        return float(x[i])
    (x0, x1, x2), (y0, y1, y2) = x[i - 1 : i + 2], y[i - 1 : i + 2]
    den = (x1 - x0) * (y1 - y2) - (x1 - x2) * (y1 - y0)
    if den >= 0:  # not convex
        return float(x1)
    num = (x1 - x0) ** 2 * (y1 - y2) - (x1 - x2) ** 2 * (y1 - y0)
    return float(np.clip(x1 - 0.5 * num / den, x0, x2))


def _rows(**cols: Any) -> pd.DataFrame:
    size = max(np.size(v) for v in cols.values())
    base = {"n": 0, "lam": 0.0, "t": 0, "weight": np.nan, "total": np.nan, "stderr": 0.0}
    base.update(cols)
    out = {k: np.broadcast_to(np.asarray(v), (size,)).ravel() for k, v in base.items()}
    return pd.DataFrame(out)[COLUMNS[1:]]


def _label(lam: float) -> str:
    return "OLS" if lam == 0 else f"ridge lam={lam:g}"


def golden_sweeps(cfg: dict[str, Any]) -> tuple[Sweep, Sweep]:
    """The two sweeps of ``golden_table`` (theory on a fine weight grid at the last generation,
    simulation on ``w_sim`` at every generation) for one config with its seed.

    Example:
      >>> th, ms = golden_sweeps(dict(CONFIGS["quick"], seed=0))
      >>> th.method, ms.method, ms.reps
      ('theory', 'simulate', 128)
    """
    d, n, big_t = cfg["d"], cfg["n"], cfg["generations"]
    spec = dict(d=d, family="isotropic", sigma2=cfg["sigma2"], teacher_n0=n,
                setting="golden_weighted", seed=cfg["seed"])  # fmt: skip
    w_sim = np.asarray(cfg["w_sim"], float)
    w_fine = np.union1d(np.linspace(0.0, 1.0, 101), w_sim)
    axes = {"n": [n], "lam": [0.0, *cfg["lams"]], "ratio": [1.0]}
    th = Sweep(**spec, method="theory",
               axes={**axes, "real_weight": w_fine, "generations": [big_t]})  # fmt: skip
    ms = Sweep(
        **spec,
        method="simulate",
        reps=cfg["reps"],
        axes={**axes, "real_weight": w_sim, "generations": np.arange(1, big_t + 1)},
    )
    return th, ms


# optimal_weight: a grid of 41 weights, then about 40 golden-section steps, per generation
OPTIMUM_EVALUATIONS = 80


def golden_work(ctx: FigureContext) -> Work:
    """The golden_ratio figure's work: its two sweeps and the optima (``optimal_weight`` for
    each ridge lam and the n >> d reference), as theory points (``dry_run.THEORY_POINTS``).

    Example:
      >>> work = golden_work(FigureContext(mode="quick"))
      >>> len(work.sweeps), work.tasks[0].compiles
      (2, 2)
    """
    cfg = dict(CONFIGS[ctx.mode], seed=ctx.seed)
    optima = len(cfg["lams"]) + 2
    points = optima * cfg["generations"] * OPTIMUM_EVALUATIONS
    task = Task(THEORY_POINTS, points, optima, 2)
    return Work(sweeps=golden_sweeps(cfg), tasks=(task,), note=f"its sweeps and {optima} optima")


def golden_table(cfg: dict[str, Any], ctx: FigureContext | None = None) -> pd.DataFrame:
    """Tidy table of the golden_ratio figure for one config (see ``CONFIGS``).

    The optima come from ``optimal_weight`` (theory, float64, every generation at once); the
    error against the weight from two sweeps of the ``golden_weighted`` setting at n = cfg["n"]
    (theory on a fine weight grid, simulation on ``w_sim``), both kept in the context's store.

    Args:
      cfg: one level of ``CONFIGS`` with its seed.
      ctx: the figure context whose store keeps the sweeps (None: nothing stored).

    Returns:
      The figure's rows (columns ``COLUMNS`` without "figure").

    Example:
      A whole table runs Monte Carlo sweeps (``simcollapse figures --only
      golden_ratio``); the weight grid its quick level simulates:

      >>> cfg = CONFIGS["quick"]
      >>> cfg["w_sim"][0], cfg["w_sim"][-1], len(cfg["w_sim"]), cfg["generations"]
      (0.3, 1.0, 15, 8)
    """
    d, n, sigma2, big_t = cfg["d"], cfg["n"], cfg["sigma2"], cfg["generations"]
    lams = [0.0, *cfg["lams"]]
    ts = np.arange(1, big_t + 1)
    blocks = [_rows(panel="optimum", curve="1/phi", source="reference", t=ts, weight=INV_PHI)]
    iso = Problem.isotropic(d, c2=0.0, sigma2=sigma2)
    w_large = optimal_weight(iso.with_teacher(cfg["n_large"]), cfg["n_large"], 0.0, big_t,
                             all_generations=True)  # fmt: skip
    blocks.append(_rows(panel="optimum", curve="OLS, n >> d", source="theory", n=cfg["n_large"],
                        t=ts, weight=w_large))  # fmt: skip
    for lam in lams:
        w_opt = optimal_weight(iso.with_teacher(n), n, lam, big_t, all_generations=True)
        blocks.append(_rows(panel="optimum", curve=_label(lam), source="theory", n=n, lam=lam,
                            t=ts, weight=w_opt))  # fmt: skip
    store, progress = (None, False) if ctx is None else (ctx.store, ctx.progress)
    th_spec, ms_spec = golden_sweeps(cfg)
    th = figure_sweep(th_spec, store, progress=progress)
    ms = figure_sweep(ms_spec, store, progress=progress)
    for lam in lams:
        t_th = th[np.isclose(th.lam, lam)].sort_values("real_weight")
        blocks.append(_rows(panel="error", curve=_label(lam), source="theory", n=n, lam=lam,
                            t=big_t, weight=t_th.real_weight, total=t_th.total))  # fmt: skip
        sim = ms[np.isclose(ms.lam, lam)]
        for t in ts:
            s = sim[sim.generations == t].sort_values("real_weight")
            w_mc = parabola_argmin(s.real_weight.to_numpy(), s.total.to_numpy())
            blocks.append(_rows(panel="optimum", curve=_label(lam), source="simulation", n=n,
                                lam=lam, t=t, weight=w_mc))  # fmt: skip
            if t == big_t:
                blocks.append(_rows(panel="error", curve=_label(lam), source="simulation", n=n,
                                    lam=lam, t=t, weight=s.real_weight, total=s.total,
                                    stderr=s.stderr))  # fmt: skip
    return pd.concat(blocks, ignore_index=True)


def plot_golden(table: pd.DataFrame) -> Any:
    """Draw the golden_ratio figure from ``golden_table``'s rows: the optimal real weight
    against the generation (theory lines, Monte Carlo points, 1/phi and 1/2 as references) and
    the error at the last generation against the weight, with each curve's minimum marked.

    Args:
      table: rows with panel ("optimum" or "error"), curve, source ("theory" or "simulation"),
        n, t, weight, total and stderr.

    Returns:
      matplotlib Figure with two panels.

    Example:
      >>> import matplotlib.pyplot as plt
      >>> table = pd.DataFrame({
      ...     "panel": ["optimum"] * 2 + ["error"] * 4,
      ...     "curve": "OLS", "source": ["theory"] * 5 + ["simulation"],
      ...     "n": 80, "t": [1, 2, 2, 2, 2, 2], "weight": [0.7, 0.65, 0.5, 0.6, 0.7, 0.6],
      ...     "total": [0.0, 0.0, 0.3, 0.2, 0.25, 0.21], "stderr": 0.01})
      >>> fig = plot_golden(table)
      >>> [ax.get_title() for ax in fig.axes]
      ['Optimal real weight per generation', 'Error at generation 2, n = 80 real + 80 synthetic']
      >>> plt.close(fig)
    """
    fig, (ax, bx) = new_figure(ncols=2, width=5.2, height=5.0)
    opt = table[table.panel == "optimum"]
    curves = list(opt[opt.source == "theory"].curve.unique())
    colours = dict(zip(curves, palette(len(curves)), strict=True))
    ax.axhline(INV_PHI, color="k", ls="--", lw=1.2, label="1/phi = 0.618")
    ax.axhline(0.5, color="0.5", ls=":", lw=1.2, label="1/2")
    for c in curves:
        th = opt[(opt.source == "theory") & (opt.curve == c)]
        n = int(th.n.iloc[0])
        ax.plot(th.t, th.weight, color=colours[c], lw=1.8, label=f"{c}, n = {n:,} (theory)")
        s = opt[(opt.source == "simulation") & (opt.curve == c)]
        if len(s):
            ax.plot(s.t, s.weight, "o", ms=5, color=colours[c])
    ax.plot([], [], "o", ms=5, color="0.3", label="Monte Carlo optimum")
    ax.set(xlabel="generation t", ylabel="optimal loss weight on real rows", ylim=(0.45, 1.02),
           title="Optimal real weight per generation")  # fmt: skip
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=2)
    err = table[table.panel == "error"]
    t_last = int(err.t.max())
    for c in [c for c in curves if c in set(err.curve)]:
        th = err[(err.source == "theory") & (err.curve == c)]
        bx.plot(th.weight, th.total, color=colours[c], lw=1.8, label=f"{c} (theory)")
        i = int(np.argmin(th.total.to_numpy()))
        bx.plot(th.weight.iloc[i], th.total.iloc[i], "*", ms=13, color=colours[c], mec="k")
        s = err[(err.source == "simulation") & (err.curve == c)]
        bx.errorbar(s.weight, s.total, yerr=s.stderr, fmt="o", ms=4, capsize=2, color=colours[c])
    bx.axvline(INV_PHI, color="k", ls="--", lw=1.2)
    bx.plot([], [], "*", ms=10, color="0.3", mec="k", label="theory minimum")
    bx.plot([], [], "o", ms=4, color="0.3", label="Monte Carlo (mean, SE)")
    n = int(err.n.iloc[0])
    bx.set(yscale="log", xlabel="loss weight on real rows", ylabel="test error",
           title=f"Error at generation {t_last}, n = {n} real + {n} synthetic")  # fmt: skip
    bx.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=2)
    return fig


def _compute(ctx: FigureContext) -> pd.DataFrame:
    out = golden_table(dict(CONFIGS[ctx.mode], seed=ctx.seed), ctx)
    out.insert(0, "figure", "golden_ratio")
    return out.reset_index(drop=True)


register(
    Figure(
        "golden_ratio",
        "Golden-ratio weighting (He, Xu, Cheng 2025, arXiv 2502.18049): each generation refits "
        "on fresh real rows and rows labelled by the previous generation; the loss weight on "
        "the real rows that minimises the error tends to 1/phi = 0.618 (OLS, n >> d) and ridge "
        "moves it; theory and Monte Carlo.",
        _compute,
        plot_golden,
        group="mixing",
        paper=NEW,
        claims=golden_claims.GOLDEN,
        work=golden_work,
    )
)
