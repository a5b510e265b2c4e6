"""The check of every simulated point of the Gaussian figures against the theory at that point.

theory_vs_simulation holds every simulated point that has a finite-n theory value, with the
figure it came from in the ``figure`` column: the sweep figures (scaling_plateau ...
synthetic_fraction, rp_width), pareto (its all-real and mix points), weighted_mixing,
iterative_mixing (fresh rows and the isotropic recursion) and generations (replace). Reused-row
iterative mixing, accumulate and accumulate-subsample have no finite-n formula and are left out.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from simcollapse import settings, theory
from simcollapse._aliases import MODELS
from simcollapse.figures import mixing as fm
from simcollapse.figures.dry_run import THEORY_POINTS, Task, Work, recorded_sweeps
from simcollapse.figures.registry import FigureContext, get
from simcollapse.figures.style import new_figure, palette
from simcollapse.problem import Problem
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
# Gaussian figures whose tables are not sweep tables: their own rule pairs points with theory.
PAIRED = ("pareto", "weighted_mixing", "iterative_mixing", "generations")


def _source_tables(ctx: FigureContext) -> dict[str, pd.DataFrame]:
    """The tables of the Gaussian figures this figure reads (name -> table)."""
    # At call time, so that the registry keeps its order (paper's figures, then pareto, width).
    import simcollapse.figures.pareto  # noqa: F401, PLC0415 - registers a figure this table reads
    import simcollapse.figures.width  # noqa: F401, PLC0415 - registers a figure this table reads

    names = (*MAIN_FIGURES, *OTHER_SIMULATED, *PAIRED)
    return {name: get(name).compute(ctx) for name in names}


def theory_vs_simulation_table(ctx: FigureContext) -> pd.DataFrame:
    """Every simulated point of the Gaussian figures, beside the theory at the same point."""
    return points_against_theory(_source_tables(ctx), ctx)


def theory_vs_simulation_work(ctx: FigureContext) -> Work:
    """The work of theory_vs_simulation: the sweeps of the figures it reads (free when they ran
    before it in the same run: the store holds them) and the theory at each of their simulated
    points, one call per point (``dry_run.THEORY_POINTS``), one compile per setting and d.

    Example:
      >>> import simcollapse.figures.runner as runner
      >>> runner.load_builtin_figures()
      >>> work = theory_vs_simulation_work(FigureContext(mode="quick"))
      >>> work.note  # doctest: +ELLIPSIS
      'theory at ... simulated points of 10 figures'
    """
    ctx = dataclasses.replace(ctx, store=None, progress=False)
    tables: dict[str, pd.DataFrame] = {}

    def sources() -> None:
        tables.update(_source_tables(ctx))
        _weighted_points(tables["weighted_mixing"], ctx)  # its theory sweep

    specs = recorded_sweeps(sources)
    sim = pd.concat(
        [tables[n][tables[n].method == "simulate"] for n in (*MAIN_FIGURES, *OTHER_SIMULATED)]
    )
    pareto = tables["pareto"]
    calls = len(sim) + 2 * int((pareto.method == "simulate").sum())
    programs = {(MODELS.get(m, m), d) for m, d in zip(sim.model, sim.d, strict=True)}
    programs |= {("random_projection", d) for d in pareto.d}
    task = Task(THEORY_POINTS, calls, calls, len(programs))
    note = f"theory at {calls} simulated points of {len(tables)} figures"
    return Work(sweeps=specs, tasks=(task,), note=note)


def points_against_theory(tables: dict[str, pd.DataFrame], ctx: FigureContext) -> pd.DataFrame:
    """The theory_vs_simulation table from the tables of the Gaussian figures (name -> table).

    ``ctx`` gives the level and seed (weighted_mixing's theory at its simulated n is a theory
    sweep of that level's config) and the store. The tables may be read back from their CSV
    files: nothing else is recomputed.
    """

    rows = []
    for name in (*MAIN_FIGURES, *OTHER_SIMULATED):
        table = tables[name]
        sim = table[table.method == "simulate"].copy()
        sim["figure"] = name
        rows.append(sim)
    sim = pd.concat(rows, ignore_index=True)
    values = np.empty(len(sim))
    for i, r in enumerate(sim.itertuples()):
        # the row's setting, and its parameters read off the row by the setting's declaration
        setting = settings.get(MODELS.get(r.model, r.model))
        params = {a: getattr(r, a) for a in setting.axes}
        values[i] = setting.theory(problem_of_row(r), **params).total
    sim["theory"] = values
    paired = [_PAIRS[name](tables[name], ctx) for name in PAIRED]
    sim = pd.concat([sim, *paired], ignore_index=True)
    sim["relative_difference"] = (sim["total"] - sim["theory"]) / sim["theory"]
    return sim


def _pareto_points(table: pd.DataFrame, ctx: FigureContext) -> pd.DataFrame:
    """Each simulated pareto row gives two points: all-real (p2 = 0) and the mix (p2)."""

    sim = table[table.method == "simulate"]
    rows = []
    for r in sim.itertuples():
        prob = Problem.isotropic(int(r.d), c2=r.c2, sigma2=r.sigma2)
        for p2, total, se in (
            (0.0, r.real_error, r.real_stderr),
            (r.p2, r.mix_error, r.mix_stderr),
        ):
            value = theory.rp_error(prob, r.n, r.m, r.lam, p2).total
            rows.append(dict(method="simulate", model="rp", family="isotropic", n=r.n, m=r.m,
                             lam=r.lam, p2=p2, c2=r.c2, sigma2=r.sigma2, d=r.d, psi=r.psi,
                             total=total, stderr=se, theory=float(value)))  # fmt: skip
    return pd.DataFrame(rows).assign(figure="pareto")


def _mixing_points(table: pd.DataFrame, panels: tuple[str, ...]) -> pd.DataFrame:
    """Simulation rows of a mixing table beside the theory row of the same panel, curve, n, t."""
    keys = ["panel", "curve", "n", "t"]
    sim = table[(table.source == "simulation") & table.panel.isin(panels)]
    th = table[table.source == "theory"][[*keys, "total"]].rename(columns={"total": "theory"})
    out = sim.merge(th, on=keys, how="inner", validate="one_to_one")
    return out.assign(method="simulate")


def _weighted_points(table: pd.DataFrame, ctx: FigureContext) -> pd.DataFrame:
    """weighted_mixing's simulated points; the theory evaluated by the weighted setting's sweep
    at the same n, alpha (p2 = 1/2) and at p2 = alpha = 0 (the clean curve)."""

    cfg = dict(fm.CONFIGS["weighted_mixing"][ctx.mode], seed=ctx.seed)
    alphas = np.asarray(cfg["alphas"], float)
    th = fm._sweep(cfg, ctx, d=cfg["d"], c2=cfg["c2"], sigma2=cfg["sigma2"], setting="weighted",
                   method="theory", zipped=[("p2", "alpha")],
                   axes={"n": cfg["n_sim"], "lam": [cfg["lam"]],
                         "p2": [*np.full(alphas.size, cfg["p2"]), 0.0],
                         "alpha": [*alphas, 0.0]})  # fmt: skip
    sim = table[table.source == "simulation"].copy()
    p2 = np.where(sim.curve.str.startswith("clean"), 0.0, cfg["p2"])
    alpha = np.where(sim.curve.str.startswith("clean"), 0.0, sim.alpha.to_numpy(float))
    values = []
    for n, a, q in zip(sim.n.to_numpy(), alpha, p2, strict=True):
        match = th[(th.n == n) & np.isclose(th.alpha, a) & np.isclose(th.p2, q)]
        values.append(float(match.total.iloc[0]))
    return sim.assign(method="simulate", p2=p2, alpha=alpha, theory=values)


_PAIRS = {
    "pareto": _pareto_points,
    "weighted_mixing": _weighted_points,
    "iterative_mixing": lambda t, ctx: _mixing_points(t, ("fresh", "isotropic")),
    "generations": lambda t, ctx: _mixing_points(t[t.curve == "replace"], tuple(t.panel.unique())),
}


def theory_vs_simulation_plot(table: pd.DataFrame) -> Any:
    """Draw the theory_vs_simulation figure: every simulated point of the theory figures
    against its theory value (log-log, the diagonal y = x), coloured by figure, with its
    standard error."""
    fig, ax = new_figure(width=6.4, height=5.0)
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
    z = (table["total"] - table["theory"]) / table["stderr"]
    within = float(np.mean(np.abs(z) <= 3))
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="theory (log axis)",
        ylabel="simulation (±1 SE, log axis)",
        title=f"{len(table)} simulated points of {len(names)} figures: {100 * within:.0f}% "
        f"within 3 SE,\nmedian |relative difference| {100 * med:.1f}%",
    )
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    return fig
