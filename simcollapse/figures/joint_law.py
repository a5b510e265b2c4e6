"""``joint_law``: a joint scaling law fitted over a random-projection sweep of (n, m).

Theory (Theorem 2, p2 = 0) on an (n, m) grid for a power-law spectrum, the law
E + A n^-alpha + B m^-beta fitted (least squares on log errors, ``fit_joint_law``) to the
under-parameterised points m <= n/2 (away from the interpolation peak at m = n, which no
separable law has), iso-error contours of the fitted law, and its compute-optimal frontier
(n*, m*) at budgets n m = C (``compute_optimal``).

Table columns: the sweep's (n, m, lam, total, ...) plus in_fit (used by the fit), fitted, and
the fitted E, A, B, alpha, beta and status repeated on every row.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from simcollapse.analysis.joint import compute_optimal, fit_joint_law, joint_law
from simcollapse.figures.claims import Claim
from simcollapse.figures.dry_run import THEORY_POINTS, Task, Work, figure_sweep
from simcollapse.figures.registry import Figure, FigureContext, register
from simcollapse.figures.style import new_figure
from simcollapse.sweep import Sweep

__all__ = ["PRESETS", "joint_law_checks", "joint_law_table"]

PRESETS: dict[str, dict[str, Any]] = {
    "quick": dict(d=400, n_points=7, m_points=6),
    "default": dict(d=1000, n_points=10, m_points=9),
    "full": dict(d=2000, n_points=16, m_points=14),
}
COMMON = dict(
    family="power_law", alpha=1.5, source=1.5, c2=0.5, sigma2=0.01, setting="random_projection"
)
LAM = 1e-2
FIT_COLUMNS = ("E", "A", "B", "alpha", "beta")


def joint_law_sweep(ctx: FigureContext) -> Sweep:
    """The theory sweep of ``joint_law_table`` at ``ctx``'s level: the (n, m) grid.

    Example:
      >>> joint_law_sweep(FigureContext(mode="quick")).size
      42
    """
    cfg = PRESETS[ctx.mode]
    d = cfg["d"]
    n = np.unique(np.round(np.geomspace(100, 100 * d, cfg["n_points"])))
    m = np.unique(np.round(np.geomspace(10, 0.8 * d, cfg["m_points"])))
    axes = {"n": list(n), "m": list(m), "lam": [LAM], "p2": [0.0]}
    return Sweep(d=d, **COMMON, method="theory", axes=axes, seed=ctx.seed)


FIT_EVALUATIONS = 200  # evaluations of the law per fitted point in the least-squares fit


def joint_law_work(ctx: FigureContext) -> Work:
    """The joint_law figure's work: its sweep and the fit (``dry_run.THEORY_POINTS``).

    Example:
      >>> work = joint_law_work(FigureContext(mode="quick"))
      >>> len(work.sweeps), work.tasks[0].amount == 42 * FIT_EVALUATIONS
      (1, True)
    """
    spec = joint_law_sweep(ctx)
    fit = Task(THEORY_POINTS, spec.size * FIT_EVALUATIONS, 1, 1)
    return Work(sweeps=(spec,), tasks=(fit,), note="its sweep and one fit")


def joint_law_table(ctx: FigureContext) -> pd.DataFrame:
    """Theory on the (n, m) grid and the joint law fitted to its m <= n/2 points.

    The law E + A n^-alpha + B m^-beta is fitted by ``fit_joint_law`` (no bootstrap) to the
    theory at m <= n/2; every row carries the fitted law at its (n, m).

    Args:
      ctx: the figure context: its level picks ``PRESETS`` (d and the grid sizes), its store
        keeps the sweep.

    Returns:
      The sweep's rows with in_fit, fitted, E, A, B, alpha, beta and status.

    Example:
      A whole table solves the theory on the whole grid (``simcollapse figures --only
      joint_law``); the grid of its quick level:

      >>> cfg = PRESETS["quick"]
      >>> cfg["d"], cfg["n_points"] * cfg["m_points"]
      (400, 42)
    """
    table = figure_sweep(joint_law_sweep(ctx), ctx.store, progress=ctx.progress)
    table["in_fit"] = table["m"] <= table["n"] / 2
    fit = fit_joint_law(table[table.in_fit], ("n", "m"), "total", bootstrap=0).fits.iloc[0]
    for name in (*FIT_COLUMNS, "status"):
        table[name] = fit[name]
    table["fitted"] = joint_law(table.n, table.m, *(fit[k] for k in FIT_COLUMNS))
    return table


def joint_law_checks(table: pd.DataFrame) -> dict[str, tuple[float, bool]]:
    """The figure's claims as (measured value, holds) over its table.

    * ``fit_ok``: the fit's status is ok (1.0) with both exponents inside (0.02, 6).
    * ``median_abs_log_residual``: median |log theory - log law| over the fitted points < 0.25
      (the law summarises the surface to within about 25%; the random-projection surface is not
      exactly separable, so the worst point is larger and is not claimed).
    * ``frontier_exponent``: n* ~ C^(beta/(alpha+beta)) with the exponent strictly inside (0, 1):
      both n and m grow along the compute-optimal frontier.

    Args:
      table: ``joint_law_table``'s rows (in_fit, total, fitted, alpha, beta, status).

    Returns:
      Claim name -> (measured value, whether it holds).

    Example:
      >>> table = pd.DataFrame({"in_fit": [True, True, False], "total": [1.0, 0.5, 0.3],
      ...                       "fitted": [1.1, 0.5, 0.2], "alpha": 0.5, "beta": 1.5,
      ...                       "status": "ok"})
      >>> for name, (value, holds) in joint_law_checks(table).items():
      ...     print(name, round(value, 4), holds)
      fit_ok 1.0 True
      median_abs_log_residual 0.0477 True
      frontier_exponent 0.75 True
    """
    used = table[table.in_fit]
    resid = float(np.median(np.abs(np.log(used.total) - np.log(used.fitted))))
    alpha, beta = float(table.alpha.iloc[0]), float(table.beta.iloc[0])
    ok = float((table.status.iloc[0] == "ok") and 0.02 < min(alpha, beta) and max(alpha, beta) < 6)
    frontier = beta / (alpha + beta)
    return {
        "fit_ok": (ok, ok == 1.0),
        "median_abs_log_residual": (resid, resid < 0.25),
        "frontier_exponent": (frontier, 0.05 < frontier < 0.95),
    }


def joint_law_plot(table: pd.DataFrame) -> Any:
    """Draw the joint_law figure from its table: left, iso-error contours of the fitted law
    E + A n^-alpha + B m^-beta over the (n, m) grid with the points fitted and not fitted; right,
    the fit's residuals against n m; the title gives the fit and its compute-optimal frontier's
    exponent."""
    fig, axes = new_figure(ncols=2, width=5.0, height=4.3)
    e, a, b, alpha, beta = (float(table[k].iloc[0]) for k in FIT_COLUMNS)
    n_grid = np.geomspace(table.n.min(), table.n.max(), 200)
    m_grid = np.geomspace(table.m.min(), table.m.max(), 200)
    nn, mm = np.meshgrid(n_grid, m_grid)
    surface = joint_law(nn, mm, e, a, b, alpha, beta)
    ax = axes[0]
    levels = np.geomspace(surface.min() * 1.05, surface.max(), 9)
    contours = ax.contour(nn, mm, surface, levels=levels, cmap="viridis", norm="log")
    ax.clabel(contours, fmt="%.3g", fontsize="x-small")
    used = table[table.in_fit]
    ax.scatter(used.n, used.m, s=8, color="0.3", label="fitted points (m <= n/2)")
    skipped = table[~table.in_fit]
    ax.scatter(skipped.n, skipped.m, s=8, color="0.7", marker="x", label="not fitted")
    budgets = np.geomspace(table.n.min() * table.m.min(), table.n.max() * table.m.max(), 100)
    n_star, m_star = compute_optimal(budgets, a, b, alpha, beta)
    keep = (n_star >= n_grid[0]) & (n_star <= n_grid[-1]) & (m_star >= m_grid[0])
    keep &= m_star <= m_grid[-1]
    ax.plot(n_star[keep], m_star[keep], color="C3", lw=2, label="compute-optimal (n m = C)")
    ax.set(xscale="log", yscale="log", xlabel="samples n", ylabel="width m")
    ax.set_title("iso-error contours of the fitted law", fontsize="medium")
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize="small")
    ax = axes[1]
    with np.errstate(divide="ignore"):
        resid = np.log(used.total) - np.log(used.fitted)
    ax.scatter(used.n * used.m, resid, s=10, color="0.3")
    ax.axhline(0.0, color="0.5", lw=1)
    ax.set(xscale="log", xlabel="n m", ylabel="log theory - log fitted law")
    ax.set_title("residuals of the fit", fontsize="medium")
    fig.suptitle(
        f"E(n, m) = {e:.3g} + {a:.3g} n^-{alpha:.3g} + {b:.3g} m^-{beta:.3g} "
        f"(random projections, power-law spectrum, d = {int(table.d.iloc[0])}, "
        f"$\\lambda$ = {LAM:g}); frontier n* ~ C^{beta / (alpha + beta):.2f}",
        fontsize="medium",
    )
    return fig


JOINT_LAW = register(
    Figure(
        "joint_law",
        "Iso-error contours of the joint law E + A n^-alpha + B m^-beta fitted to the "
        "random-projection theory over an (n, m) grid (power-law spectrum 1.5, source 1.5, "
        "lam = 1e-2, sigma^2 = 0.01, p2 = 0; points with m <= n/2), with the compute-optimal "
        "frontier at budgets n m = C and the fit's log residuals.",
        joint_law_table,
        joint_law_plot,
        group="analysis",
        work=joint_law_work,
        claims=(
            Claim(
                "fit-ok",
                "The joint law's fit has status ok with both exponents inside (0.02, 6).",
                lambda t: joint_law_checks(t)["fit_ok"][0],
                "==",
                1.0,
            ),
            Claim(
                "law-within-25-percent",
                "The fitted law is within 25% of the theory at the median fitted point "
                "(median |log residual|; the surface is not exactly separable).",
                lambda t: joint_law_checks(t)["median_abs_log_residual"][0],
                "<",
                0.25,
            ),
            Claim(
                "frontier-grows-both",
                "Along the compute-optimal frontier both n and m grow: n* ~ C^e with e = "
                "beta/(alpha+beta) in (0.05, 0.95) (distance of e from the nearer end).",
                lambda t: 0.5 - abs(joint_law_checks(t)["frontier_exponent"][0] - 0.5),
                ">",
                0.05,
            ),
        ),
    )
)
