"""Figures for the mixing strategies and multi-generation loops (Section 5 of the paper).

Registers three figures (group "mixing"), each a tidy table of theory lines and simulation
points (mean and standard error) computed by sweeps (``simcollapse.sweep``) kept in ``ctx.store``
when one is given. Sample sizes are integers from the start (``integer_grid``), so every theory
line against n is the deterministic equivalent at a realisable n (the isotropic closed form is a
function of phi = d/n):

* ``weighted_mixing``: test error against n for fixed synthetic loss shares alpha, the best alpha
  at each n and the clean curve (Corollary 2): every fixed alpha > 0 flattens at alpha^2 c^2.
* ``iterative_mixing``: test error against n after t = 1..T rounds (p2 = 1/2) with fresh and
  reused real rows, against the clean curves of the real half and of all n rows (Figure 10); and
  the isotropic fresh-rows recursion against the round for several phi = d/n, including the
  divergence for phi >= 3/4.
* ``generations``: test error against the generation for replace (exact OLS and ridge theory),
  accumulate (exact OLS theory in the fresh and the fixed design, the n >> d reference) and
  accumulate-subsample.

Table columns: figure, panel, curve, source ("theory", "simulation" or "reference"), n, alpha,
t (round or generation; 0 where none), phi, total, stderr.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from simcollapse.figures import mixing_claims
from simcollapse.figures.dry_run import figure_sweep
from simcollapse.figures.mixing_plots import plot_generations, plot_iterative, plot_weighted
from simcollapse.figures.registry import NEW, Figure, FigureContext, register
from simcollapse.problem import Problem
from simcollapse.sweep import Sweep
from simcollapse.theory.generations import accumulate_reference
from simcollapse.theory.iterative import isotropic_iterative_error, isotropic_iterative_limit

__all__ = [
    "CONFIGS",
    "generations_table",
    "integer_grid",
    "iterative_table",
    "weighted_table",
]

COLUMNS = ["figure", "panel", "curve", "source", "n", "alpha", "t", "phi", "total", "stderr"]

# Everything a table depends on, per mode (each sweep keys the store by its own spec). The
# iterative figure simulates at n1 = n/2 >= 3 d: the "reused rows stay above the real half" claim
# is a statement away from the real half's interpolation threshold (near it, the extra synthetic
# rows regularise the fit).
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
                        phis=[0.25, 0.5, 0.7, 0.75, 0.8], iso_sim_n=[400, 200, 125], iso_reps=64),
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


def _sweep(cfg: dict[str, Any], ctx: FigureContext | None, **spec: Any) -> pd.DataFrame:
    """One sweep of a figure at the config's seed, kept in the context's store (if any)."""
    spec.setdefault("seed", cfg["seed"])
    store, progress = (None, False) if ctx is None else (ctx.store, ctx.progress)
    return figure_sweep(Sweep(**spec), store, progress=progress)


def _where(table: pd.DataFrame, **where: Any) -> pd.DataFrame:
    """The rows of a sweep table whose columns equal ``where`` (floats compared with isclose)."""
    mask = np.ones(len(table), bool)
    for k, v in where.items():
        mask &= np.isclose(table[k].to_numpy(float), float(v))
    return table[mask]


def integer_grid(start: float, stop: float, num: int, step: int = 1) -> np.ndarray:
    """About ``num`` log-spaced sample sizes from start to stop, multiples of ``step``.

    Sample sizes are integers, so the theory lines are drawn at integer n (the honest value of
    the deterministic equivalent at a realisable n; a sweep would round a real n anyway).

    Example:
      >>> integer_grid(50, 2e5, 5).tolist()
      [50, 398, 3162, 25149, 200000]
      >>> integer_grid(150, 1e3, 3, step=2).tolist()
      [150, 388, 1000]
    """
    n = np.round(np.geomspace(start, stop, int(num)) / step) * step
    return np.unique(n).astype(np.int64)


def _figure(ctx: FigureContext, name: str, table: Any) -> pd.DataFrame:
    """The table of figure ``name`` at the context's level, with its "figure" column."""
    out = table(dict(CONFIGS[name][ctx.mode], seed=ctx.seed), ctx)
    out.insert(0, "figure", name)
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# weighted_mixing
# --------------------------------------------------------------------------------------------
def weighted_table(cfg: dict[str, Any], ctx: FigureContext | None = None) -> pd.DataFrame:
    """Tidy table of the weighted-mixing figure for one config (see ``CONFIGS``).

    Two sweeps of the ``weighted`` setting, each with (p2, alpha) zipped into explicit points:
    theory over the integer n grid at p2 with the fixed alphas and a fine alpha grid (the best
    alpha per n), plus p2 = alpha = 0 (the clean curve: all n rows real); simulation at the
    fixed alphas and at p2 = alpha = 0, on the same draws.

    Args:
      cfg: one level of ``CONFIGS["weighted_mixing"]`` with its seed.
      ctx: the figure context whose store keeps the sweeps (None: nothing stored).

    Returns:
      The figure's rows (columns ``COLUMNS`` without "figure").

    Example:
      A whole table runs Monte Carlo sweeps (``simcollapse figures --only
      weighted_mixing``); what its quick level simulates:

      >>> cfg = CONFIGS["weighted_mixing"]["quick"]
      >>> cfg["alphas"], cfg["n_sim"], cfg["reps"]
      ([0.0, 0.02, 0.1, 0.5, 1.0], [100, 400, 1600], 16)
    """
    prob = dict(d=cfg["d"], c2=cfg["c2"], sigma2=cfg["sigma2"], setting="weighted")
    p2, lam = cfg["p2"], cfg["lam"]
    alphas = np.asarray(cfg["alphas"], float)
    fine = np.unique(np.concatenate([np.geomspace(1e-5, 1.0, 120), np.linspace(0, 1, 101)]))
    grid = np.union1d(alphas, fine)
    th = _sweep(cfg, ctx, **prob, method="theory", zipped=[("p2", "alpha")],
                axes={"n": integer_grid(*cfg["n_theory"]), "lam": [lam],
                      "p2": [*np.full(grid.size, p2), 0.0], "alpha": [*grid, 0.0]})  # fmt: skip
    mixed = _where(th, p2=p2)
    blocks = []
    for a in alphas:
        t = _where(mixed, alpha=a)
        blocks.append(_rows(panel="n", curve=f"alpha={a:g}", source="theory", n=t.n, alpha=a,
                            total=t.total))  # fmt: skip
    best = mixed.loc[mixed.groupby("n").total.idxmin()].sort_values("n")
    blocks.append(_rows(panel="n", curve="best alpha", source="theory", n=best.n,
                        alpha=best.alpha, total=best.total))  # fmt: skip
    clean = _where(th, p2=0.0)
    blocks.append(_rows(panel="n", curve="clean (n real)", source="theory", n=clean.n,
                        total=clean.total))  # fmt: skip
    ms = _sweep(cfg, ctx, **prob, method="simulate", reps=cfg["reps"], zipped=[("p2", "alpha")],
                axes={"n": cfg["n_sim"], "lam": [lam], "p2": [*np.full(alphas.size, p2), 0.0],
                      "alpha": [*alphas, 0.0]})  # fmt: skip
    for a in alphas:
        s = _where(_where(ms, p2=p2), alpha=a)
        blocks.append(_rows(panel="n", curve=f"alpha={a:g}", source="simulation", n=s.n,
                            alpha=a, total=s.total, stderr=s.stderr))  # fmt: skip
    s = _where(ms, p2=0.0)
    blocks.append(_rows(panel="n", curve="clean (n real)", source="simulation", n=s.n,
                        total=s.total, stderr=s.stderr))  # fmt: skip
    floor = _rows(panel="n", curve="floor alpha^2 c^2", source="reference", n=clean.n.max(),
                  alpha=alphas, total=alphas**2 * cfg["c2"])  # fmt: skip
    return pd.concat([*blocks, floor], ignore_index=True)


# --------------------------------------------------------------------------------------------
# iterative_mixing
# --------------------------------------------------------------------------------------------
def iterative_table(cfg: dict[str, Any], ctx: FigureContext | None = None) -> pd.DataFrame:
    """Tidy table of the iterative-mixing figure for one config (see ``CONFIGS``).

    Sweeps: the ``iterative`` setting's theory (fresh rows) over an even integer n grid (so the
    real half n/2 is a whole number of rows) and the rounds, its simulation with fresh and with
    reused real rows, ``ridge`` theory at n and n/2 for the clean curves, and the isotropic
    ridgeless simulation; the isotropic closed form and its limit are evaluated directly.

    Args:
      cfg: one level of ``CONFIGS["iterative_mixing"]`` with its seed.
      ctx: the figure context whose store keeps the sweeps (None: nothing stored).

    Returns:
      The figure's rows (columns ``COLUMNS`` without "figure").

    Example:
      A whole table runs Monte Carlo sweeps (``simcollapse figures --only
      iterative_mixing``); what its quick level simulates:

      >>> cfg = CONFIGS["iterative_mixing"]["quick"]
      >>> cfg["rounds"], cfg["n_sim"], cfg["phis"]
      (8, [600, 2400], [0.25, 0.5, 0.7, 0.75, 0.8])
    """
    prob = dict(d=cfg["d"], c2=cfg["c2"], sigma2=cfg["sigma2"])
    n = np.union1d(integer_grid(*cfg["n_theory"], step=2), cfg["n_sim"])  # theory at sim n too
    fixed = {"lam": [cfg["lam"]], "p2": [0.5], "rounds": np.arange(1, cfg["rounds"] + 1)}
    th = _sweep(cfg, ctx, **prob, setting="iterative", method="theory", axes={"n": n, **fixed})
    blocks = _per_round(th, "fresh", "theory")
    ridge = _sweep(cfg, ctx, **prob, method="theory",
                   axes={"n": np.union1d(n, n // 2), "lam": fixed["lam"], "p2": [0.0]})  # fmt: skip
    clean = ridge.set_index("n").total
    for panel in ("fresh", "reused"):
        blocks.append(_rows(panel=panel, curve="clean (real half)", source="theory", n=n,
                            total=clean.loc[n // 2].to_numpy()))  # fmt: skip
        blocks.append(_rows(panel=panel, curve="clean (n real)", source="theory", n=n,
                            total=clean.loc[n].to_numpy()))  # fmt: skip
    for panel, reuse in (("fresh", False), ("reused", True)):
        ms = _sweep(cfg, ctx, **prob, setting="iterative", method="simulate", reps=cfg["reps"],
                    params={"reuse_real": reuse}, axes={"n": cfg["n_sim"], **fixed})  # fmt: skip
        blocks += _per_round(ms, panel, "simulation")
    return pd.concat([*blocks, *_isotropic_blocks(cfg, ctx)], ignore_index=True)


def _per_round(table: pd.DataFrame, panel: str, source: str) -> list[pd.DataFrame]:
    """One block per round t of an iterative sweep table: its curve against n."""
    blocks = []
    for t in np.unique(table.rounds):
        r = _where(table, rounds=t).sort_values("n")
        blocks.append(_rows(panel=panel, curve=f"t={t}", source=source, n=r.n, t=t,
                            total=r.total, stderr=r.stderr))  # fmt: skip
    return blocks


def _isotropic_blocks(cfg: dict[str, Any], ctx: FigureContext | None) -> list[pd.DataFrame]:
    """Isotropic, ridgeless, p2 = 1/2: the closed form against the round, for several phi."""
    d, rounds = cfg["iso_d"], cfg["rounds"]
    t_axis = np.arange(1, rounds + 1)
    phis = np.asarray(cfg["phis"], float)
    closed = isotropic_iterative_error(phis, 0.5, cfg["c2"], cfg["sigma2"], rounds)
    limit = isotropic_iterative_limit(phis, 0.5, cfg["sigma2"])
    blocks = []
    for i, phi in enumerate(phis):
        blocks.append(_rows(panel="isotropic", curve=f"phi={phi:g}", source="theory",
                            n=d / phi, t=t_axis, phi=phi, total=closed[i]))  # fmt: skip
        blocks.append(_rows(panel="isotropic", curve=f"phi={phi:g}", source="reference",
                            n=d / phi, t=0, phi=phi, total=limit[i]))  # fmt: skip
    mi = _sweep(
        cfg,
        ctx,
        d=d,
        family="isotropic",
        c2=cfg["c2"],
        sigma2=cfg["sigma2"],
        setting="iterative",
        method="simulate",
        reps=cfg["iso_reps"],
        axes={"n": cfg["iso_sim_n"], "lam": [0.0], "p2": [0.5], "rounds": t_axis},
    )
    for nj in cfg["iso_sim_n"]:
        r = _where(mi, n=nj).sort_values("rounds")
        blocks.append(_rows(panel="isotropic", curve=f"phi={d / nj:g}", source="simulation",
                            n=nj, t=r.rounds, phi=d / nj, total=r.total,
                            stderr=r.stderr))  # fmt: skip
    return blocks


# --------------------------------------------------------------------------------------------
# generations
# --------------------------------------------------------------------------------------------
FIXED = "accumulate, fixed X"  # the same n inputs relabelled every generation (OLS panel)


def generations_table(cfg: dict[str, Any], ctx: FigureContext | None = None) -> pd.DataFrame:
    """Tidy table of the generations figure for one config (see ``CONFIGS``).

    Sweeps: the ``replace`` setting's theory, and the ``replace``, ``accumulate`` and
    ``accumulate_subsample`` simulations (fresh inputs every generation), over the generations;
    in the OLS panel also the accumulate simulation in the fixed design (curve
    "accumulate, fixed X": generation 1's inputs relabelled, as the public code of Gerstgrasser
    et al. 2024 does), and the exact OLS accumulate values of both designs from the
    ``accumulate`` setting's theory (``accumulate_error``). The accumulate n >> d reference
    is evaluated directly.

    Args:
      cfg: one level of ``CONFIGS["generations"]`` with its seed.
      ctx: the figure context whose store keeps the sweeps (None: nothing stored).

    Returns:
      The figure's rows (columns ``COLUMNS`` without "figure").

    Example:
      A whole table runs Monte Carlo sweeps (``simcollapse figures --only
      generations``); what its quick level simulates:

      >>> cfg = CONFIGS["generations"]["quick"]
      >>> (cfg["ols_d"], cfg["ols_n"]), (cfg["ridge_d"], cfg["ridge_n"]), cfg["generations"]
      ((50, 400), (100, 100), 6)
    """
    g = cfg["generations"]
    k = np.arange(1, g + 1)
    blocks = []
    panels = (
        ("OLS, isotropic", "isotropic", cfg["ols_d"], cfg["ols_n"], 0.0),
        ("ridge, power law", "power_law", cfg["ridge_d"], cfg["ridge_n"], cfg["ridge_lam"]),
    )
    for panel, family, d, n, lam in panels:
        prob = dict(d=d, family=family, c2=cfg["c2"], sigma2=cfg["sigma2"])
        axes = {"n": [n], "lam": [lam], "generations": k}
        th = _sweep(
            cfg, ctx, **prob, setting="replace", method="theory", axes=axes, params={"ols": "exact"}
        )  # the finite-n value the Monte Carlo measures
        blocks.append(_rows(panel=panel, curve="replace", source="theory", n=n, t=k,
                            total=th.sort_values("generations").total))  # fmt: skip
        problem = Problem.from_family(family, d, c2=cfg["c2"], sigma2=cfg["sigma2"])
        blocks.append(_rows(panel=panel, curve="accumulate", source="reference", n=n, t=k,
                            total=accumulate_reference(problem, n, g)))  # fmt: skip
        curves = ["replace", "accumulate", "accumulate-subsample"]
        if lam == 0 and n > d + 1:  # exact finite-n OLS in both designs
            curves.append(FIXED)
            for curve, design in (("accumulate", "fresh"), (FIXED, "fixed")):
                ex = _sweep(cfg, ctx, **prob, setting="accumulate", method="theory", axes=axes,
                            params={"design": design, "ols": "exact"})  # fmt: skip
                ex = ex.sort_values("generations")
                blocks.append(_rows(panel=panel, curve=curve, source="theory", n=n, t=k,
                                    total=ex.total))  # fmt: skip
        for curve in curves:
            setting, params = curve.replace("-", "_"), {}
            if curve == FIXED:
                setting, params = "accumulate", {"design": "fixed"}
            ms = _sweep(cfg, ctx, **prob, setting=setting, method="simulate", reps=cfg["reps"],
                        axes=axes, params=params).sort_values("generations")  # fmt: skip
            blocks.append(_rows(panel=panel, curve=curve, source="simulation", n=n, t=k,
                                total=ms.total, stderr=ms.stderr))  # fmt: skip
    return pd.concat(blocks, ignore_index=True)


FIGURES = [
    register(Figure(name, caption, partial(_figure, name=name, table=table), plot,
                    group="mixing", paper=paper, claims=claims))
    for name, caption, table, plot, paper, claims in [
        ("weighted_mixing",
         "Weighted mixing (Corollary 2): test error vs n for fixed synthetic loss shares alpha, "
         "the best alpha per n and the clean curve; every fixed alpha > 0 flattens at alpha^2 c^2.",
         weighted_table, plot_weighted, "Figure 9", mixing_claims.WEIGHTED),
        ("iterative_mixing",
         "Iterative mixing (Figure 10): test error vs n after t rounds, fresh and reused real "
         "rows, against the real-half and all-real clean curves; isotropic divergence for "
         "phi >= 3/4.",
         iterative_table, plot_iterative, "Figure 10", mixing_claims.ITERATIVE),
        ("generations",
         "Multi-generation loops: test error vs generation for replace (grows), accumulate "
         "(bounded; for OLS exact at finite n, with fresh inputs and with the same inputs "
         "relabelled) and accumulate-subsample.",
         generations_table, plot_generations, NEW, mixing_claims.GENERATIONS),
    ]
]  # fmt: skip
