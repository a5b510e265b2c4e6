"""The claims of the mixing figures (weighted_mixing, iterative_mixing, generations).

Each is a ``Claim`` over the figure's table (columns figure, panel, curve, source, n, alpha, t,
phi, total, stderr); ``simcollapse.figures.mixing`` gives them to the figures it registers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simcollapse.figures.claims import Claim

__all__ = ["GENERATIONS", "ITERATIVE", "WEIGHTED"]


def _rows(table: pd.DataFrame, **where: object) -> pd.DataFrame:
    mask = np.ones(len(table), bool)
    for k, v in where.items():
        mask &= (table[k] == v).to_numpy()
    return table[mask]


# ------------------------------------------------------------------------------ weighted_mixing
def _at_largest_n(t: pd.DataFrame) -> pd.Series:
    th = t[t.source == "theory"]
    return th[th.n == th.n.max()].set_index("curve").total


def _floor_ratio(t: pd.DataFrame) -> float:
    """Smallest E_alpha / max(alpha^2 c^2, E_clean) at the largest n, over fixed alpha > 0."""
    at = _at_largest_n(t)
    floors = _rows(t, source="reference").set_index("alpha").total
    ratios = [
        at[f"alpha={a:g}"] / max(0.9 * floor, at["clean (n real)"])
        for a, floor in floors.items()
        if a > 0
    ]
    return float(min(ratios))


def _best_excess(t: pd.DataFrame) -> float:
    at = _at_largest_n(t)
    fixed = at.drop(["best alpha", "clean (n real)"])
    return float((at["best alpha"] - fixed).max())


def _gap_widens(t: pd.DataFrame) -> float:
    th = t[t.source == "theory"]
    clean = _rows(th, curve="clean (n real)").sort_values("n").total.to_numpy()
    out = []
    for a in sorted(_rows(t, source="reference").alpha):
        if a <= 0:
            continue
        ratio = _rows(th, curve=f"alpha={a:g}").sort_values("n").total.to_numpy() / clean
        out.append(ratio[-1] / ratio[len(ratio) // 2])
    return float(min(out))


WEIGHTED = (
    Claim(
        "fixed-alpha-keeps-a-floor",
        "At the largest n every fixed alpha > 0 is above the clean curve and at least 90% of "
        "its floor alpha^2 c^2 (smallest ratio to the larger of the two, > 1).",
        _floor_ratio,
        ">",
        1.0,
    ),
    Claim(
        "best-alpha-beats-every-fixed-alpha",
        "The best alpha per n is at least as good as every fixed alpha (largest excess, <= 0).",
        _best_excess,
        "<=",
        1e-12,
    ),
    Claim(
        "gap-to-clean-widens",
        "The ratio of every fixed-alpha curve to the clean curve keeps growing with n (its value "
        "at the largest n over that at the middle of the grid, > 1).",
        _gap_widens,
        ">",
        1.0,
    ),
)


# ----------------------------------------------------------------------------- iterative_mixing
def _reused_margins(t: pd.DataFrame) -> pd.DataFrame:
    """Reused-row simulation rows with (E - E_real half) / SE in column z."""
    reused = _rows(t, panel="reused", source="simulation")
    half = _rows(t, panel="reused", source="theory", curve="clean (real half)").set_index("n")
    return reused.assign(z=(reused.total - half.total.loc[reused.n].to_numpy()) / reused.stderr)


def _iso_limit_error(t: pd.DataFrame) -> float:
    """Largest |E_T - limit| / (3 SE + 0.1 limit) of the simulated last round, phi < 3/4."""
    iso = _rows(t, panel="isotropic")
    worst = 0.0
    for curve in iso.curve.unique():
        ref = _rows(iso, curve=curve, source="reference")
        phi, limit = float(ref.phi.iloc[0]), float(ref.total.iloc[0])
        sim = _rows(iso, curve=curve, source="simulation").sort_values("t")
        if len(sim) and phi < 0.75:
            last = sim.iloc[-1]
            worst = max(worst, abs(last.total - limit) / (3 * last.stderr + 0.1 * limit))
    return float(worst)


def _iso_divergence(t: pd.DataFrame) -> float:
    """Smallest E_T / E_1 of the simulated isotropic curves at phi >= 3/4 (inf if none)."""
    iso = _rows(t, panel="isotropic", source="simulation")
    out = [
        g.sort_values("t").total.iloc[-1] / g.sort_values("t").total.iloc[0]
        for _, g in iso[iso.phi >= 0.75].groupby("curve")
    ]
    return float(min(out)) if out else float("inf")


def _fresh_between(t: pd.DataFrame) -> float:
    fresh = _rows(t, panel="fresh", source="theory")
    n_max = fresh.n.max()
    e_last = _rows(fresh, n=n_max, t=fresh.t.max()).total.iloc[0]
    e_half = _rows(fresh, n=n_max, curve="clean (real half)").total.iloc[0]
    e_all = _rows(fresh, n=n_max, curve="clean (n real)").total.iloc[0]
    return float(min(e_last - e_all, e_half - e_last))


ITERATIVE = (
    Claim(
        "fresh-between-all-real-and-real-half",
        "With fresh real rows, the last round at the largest n is between the all-real curve and "
        "the real half alone (smallest of the two margins, > 0).",
        _fresh_between,
        ">",
        0.0,
    ),
    Claim(
        "isotropic-fresh-reaches-its-limit",
        "For phi < 3/4 the simulated isotropic recursion ends within 3 SE + 10% of its limit "
        "4 sigma^2 phi / (3 - 4 phi) (largest ratio of the miss to that band, <= 1).",
        _iso_limit_error,
        "<=",
        1.0,
    ),
    Claim(
        "isotropic-diverges-from-three-quarters",
        "For phi >= 3/4 the simulated isotropic recursion more than triples from the first round "
        "to the last (smallest ratio).",
        _iso_divergence,
        ">",
        3.0,
    ),
    Claim(
        "reused-last-round-above-real-half",
        "With reused real rows, the last round is above the real half alone at every simulated n "
        "(smallest margin in SE, > 2).",
        lambda t: float(_reused_margins(t).pipe(lambda r: r[r.t == r.t.max()]).z.min()),
        ">",
        2.0,
    ),
    Claim(
        "reused-every-round-above-real-half-at-larger-n",
        "With reused real rows, at every simulated n but the smallest (n/2 >= 12 d) every round "
        "is above the real half alone (smallest margin in SE, > 2).",
        lambda t: float(_reused_margins(t).pipe(lambda r: r[r.n > r.n.min()]).z.min()),
        ">",
        2.0,
    ),
    Claim(
        "reused-early-rounds-not-above-real-half-at-smallest-n",
        "With reused real rows at the smallest n (n/2 = 3 d) some round is not clearly above the "
        "real half alone (smallest margin in SE, < 2): reused mixing is not always above it.",
        lambda t: float(_reused_margins(t).pipe(lambda r: r[r.n == r.n.min()]).z.min()),
        "<",
        2.0,
    ),
)


# ---------------------------------------------------------------------------------- generations
def _replace_theory_step(t: pd.DataFrame) -> float:
    out = [
        np.diff(_rows(p, curve="replace", source="theory").sort_values("t").total).min()
        for _, p in t.groupby("panel")
    ]
    return float(min(out))


def _replace_growth(t: pd.DataFrame) -> float:
    """Smallest (E_G / E_1) / (needed growth): 0.6 G for OLS, 2 for ridge."""
    out = []
    for name, p in t.groupby("panel"):
        rep = _rows(p, curve="replace", source="simulation").sort_values("t").total.to_numpy()
        need = 0.6 * len(rep) if str(name).startswith("OLS") else 2.0
        out.append(rep[-1] / rep[0] / need)
    return float(min(out))


def _accumulate_growth(t: pd.DataFrame) -> float:
    out = []
    for _, p in t.groupby("panel"):
        acc = _rows(p, curve="accumulate", source="simulation").sort_values("t").total.to_numpy()
        out.append(acc[-1] / acc[0])
    return float(max(out))


def _accumulate_vs_replace(t: pd.DataFrame) -> float:
    out = []
    for _, p in t.groupby("panel"):
        acc = _rows(p, curve="accumulate", source="simulation").sort_values("t").total.iloc[-1]
        rep = _rows(p, curve="replace", source="simulation").sort_values("t").total.iloc[-1]
        out.append(acc / rep)
    return float(max(out))


def _ols_panel(t: pd.DataFrame) -> pd.DataFrame:
    return t[t.panel.astype(str).str.startswith("OLS")]


def _accumulate_exact_gap(t: pd.DataFrame, curve: str = "accumulate") -> float:
    """Largest |exact OLS accumulate - simulation| / stderr over the generations (OLS panel)."""
    p = _ols_panel(t)
    th = _rows(p, curve=curve, source="theory").sort_values("t")
    sim = _rows(p, curve=curve, source="simulation").sort_values("t")
    if th.empty:
        return float("nan")
    z = (sim.total.to_numpy() - th.total.to_numpy()) / sim.stderr.to_numpy()
    return float(np.max(np.abs(z)))


def _fixed_over_fresh(t: pd.DataFrame) -> float:
    """Exact fixed-design over exact fresh-design accumulate at the last generation, minus 1
    (OLS panel)."""
    p = _ols_panel(t)
    fixed = _rows(p, curve="accumulate, fixed X", source="theory").sort_values("t")
    fresh = _rows(p, curve="accumulate", source="theory").sort_values("t")
    if fixed.empty or fresh.empty:
        return float("nan")
    return float(fixed.total.iloc[-1] / fresh.total.iloc[-1] - 1.0)


def _accumulate_over_bound(t: pd.DataFrame) -> float:
    """Largest exact accumulate value (either design) over (pi^2/6) sigma^2 d/(n-d-1), the first
    generation's exact value (replace theory at t = 1) times pi^2/6 (OLS panel)."""
    p = _ols_panel(t)
    th = p[(p.source == "theory") & p.curve.astype(str).str.startswith("accumulate")]
    first = _rows(p, curve="replace", source="theory").sort_values("t").total.iloc[0]
    if th.empty:
        return float("nan")
    return float(th.total.max() / (np.pi**2 / 6 * first))


GENERATIONS = (
    Claim(
        "accumulate-exact-ols-matches-simulation",
        "For OLS the exact finite-n accumulate value sigma^2 d sum_i n_i/(N_i(N_i-d-1)) is within "
        "3 standard errors of the simulation at every generation (largest gap in SE).",
        _accumulate_exact_gap,
        "<",
        3.0,
    ),
    Claim(
        "fixed-design-accumulate-matches-exact-theory",
        "For OLS with the same n inputs relabelled every generation (the fixed design) the exact "
        "value sigma^2 d/(n-d-1) sum_{i<=k} 1/i^2 is within 3 standard errors of the "
        "fixed-design simulation at every generation (largest gap in SE).",
        lambda t: _accumulate_exact_gap(t, "accumulate, fixed X"),
        "<",
        3.0,
    ),
    Claim(
        "accumulate-under-pi2-6-bound",
        "For OLS the exact accumulate error, fresh or fixed inputs, stays below "
        "(pi^2/6) sigma^2 d/(n-d-1) at every generation (largest ratio to the bound).",
        _accumulate_over_bound,
        "<",
        1.0,
    ),
    Claim(
        "fixed-design-accumulate-above-fresh",
        "For OLS, relabelling the same inputs (fixed design) ends above drawing fresh inputs "
        "for the synthetic rows: exact fixed over exact fresh accumulate at the last "
        "generation, minus 1.",
        _fixed_over_fresh,
        ">",
        0.0,
    ),
    Claim(
        "replace-theory-grows",
        "Under replace the theory error grows with every generation (smallest step, > 0).",
        _replace_theory_step,
        ">",
        0.0,
    ),
    Claim(
        "replace-simulation-grows",
        "Under replace the simulated error grows at least 0.6 G-fold over G generations for OLS "
        "and more than doubles for ridge (smallest ratio to that, > 1).",
        _replace_growth,
        ">",
        1.0,
    ),
    Claim(
        "accumulate-stays-bounded",
        "Under accumulate the simulated error grows less than 1.3 pi^2/6 = 2.14-fold over all "
        "generations (largest ratio last/first).",
        _accumulate_growth,
        "<",
        1.3 * np.pi**2 / 6,
    ),
    Claim(
        "accumulate-below-half-of-replace",
        "At the last generation accumulate's error is less than half of replace's (largest ratio).",
        _accumulate_vs_replace,
        "<",
        0.5,
    ),
)
