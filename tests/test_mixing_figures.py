"""The paper's claims, read from the mixing figures' own tables; the figures draw and cache.

The claim checks run on small configurations of the same table functions (not slow) and on the
registered quick figures themselves (slow: a few minutes on a loaded 2-core CPU).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from simcollapse.figures import FigureContext, get  # noqa: E402
from simcollapse.figures import mixing as fm  # noqa: E402
from simcollapse.store import ResultStore  # noqa: E402

TINY = {
    "weighted_mixing": dict(d=40, c2=1.0, sigma2=1.0, p2=0.5, lam=1e-3,
                            alphas=[0.0, 0.05, 0.5, 1.0], n_theory=(20, 1e5, 20), n_sim=[160],
                            reps=8, seed=0),
    "iterative_mixing": dict(d=40, c2=1.0, sigma2=1.0, lam=1e-3, rounds=8,
                             n_theory=(60, 1e4, 10), n_sim=[400], reps=16, iso_d=40,
                             phis=[0.25, 0.5, 0.8], iso_sim_n=[80], iso_reps=16, seed=0),
    "generations": dict(ols_d=20, ols_n=160, ridge_d=40, ridge_n=40, ridge_lam=1e-2, c2=0.0,
                        sigma2=1.0, generations=5, reps=16, seed=0),
}  # fmt: skip
TABLES = {
    "weighted_mixing": fm.weighted_table,
    "iterative_mixing": fm.iterative_table,
    "generations": fm.generations_table,
}


def _curve(table: pd.DataFrame, **where: object) -> pd.DataFrame:
    mask = np.ones(len(table), bool)
    for k, v in where.items():
        mask &= (table[k] == v).to_numpy()
    return table[mask]


def check_weighted(table: pd.DataFrame) -> None:
    """Every fixed alpha in (0, 1] leaves a floor above the clean error at the largest n."""
    th = table[table.source == "theory"]
    n_max = th.n.max()
    at_max = th[th.n == n_max].set_index("curve").total
    clean = at_max["clean (n real)"]
    floors = _curve(table, source="reference").set_index("alpha").total
    for alpha, floor in floors.items():
        if alpha == 0:
            continue
        err = at_max[f"alpha={alpha:g}"]
        assert err > clean and err >= 0.9 * floor, (alpha, err, clean, floor)
    # the best alpha is at least as good as every fixed one, and the fixed curves flatten:
    fixed = at_max.drop(["best alpha", "clean (n real)"])
    assert np.all(at_max["best alpha"] <= fixed + 1e-12)
    for alpha in floors.index[floors.index > 0]:
        curve = _curve(th, curve=f"alpha={alpha:g}").sort_values("n")
        ratio = curve.total.to_numpy() / _curve(th, curve="clean (n real)").sort_values("n").total
        assert ratio.iloc[-1] > ratio.iloc[len(ratio) // 2]  # the gap to clean keeps widening
    # simulation agrees with the theory's ordering at the simulated n: alpha = 1 worst
    sim = table[table.source == "simulation"]
    n_sim = sim.n.max()
    worst = _curve(sim, n=n_sim, curve="alpha=1").total.iloc[0]
    assert worst > _curve(sim, n=n_sim, curve="clean (n real)").total.iloc[0]


def check_iterative(table: pd.DataFrame) -> None:
    """Fresh rows approach 4 sigma^2 phi/(3 - 4 phi); reused rows stay above the real half.

    The simulated n have n1 = n/2 >= 3 d (see ``CONFIGS``): near the real half's interpolation
    threshold (n1 = 1.5 d) reused mixing was measured below the real-half curve.
    """
    iso = _curve(table, panel="isotropic")
    for curve in iso.curve.unique():
        ref = _curve(iso, curve=curve, source="reference")
        phi, limit = float(ref.phi.iloc[0]), float(ref.total.iloc[0])
        th = _curve(iso, curve=curve, source="theory").sort_values("t")
        if phi < 0.75:
            assert limit == pytest.approx(4 * phi / (3 - 4 * phi))  # sigma^2 = 1
            gaps = np.abs(th.total.to_numpy() - limit)
            assert np.all(np.diff(gaps) < 0)  # geometric approach, rate r = 1/(4 (1 - phi))
            if (1 / (4 * (1 - phi))) ** len(th) < 0.01:
                assert th.total.iloc[-1] == pytest.approx(limit, rel=0.01)
        else:
            assert np.isinf(limit) and np.all(np.diff(th.total) > 0)
        sim = _curve(iso, curve=curve, source="simulation").sort_values("t")
        if len(sim) and phi < 0.75:
            last = sim.iloc[-1]
            assert abs(last.total - limit) <= 3 * last.stderr + 0.1 * limit, (phi, last.total)
        if len(sim) and phi >= 0.75:
            assert sim.total.iloc[-1] > 3 * sim.total.iloc[0]  # the simulation diverges too
    reused = _curve(table, panel="reused", source="simulation")
    half = _curve(table, panel="reused", source="theory", curve="clean (real half)")
    for n, grp in reused.groupby("n"):
        last = grp[grp.t == grp.t.max()].iloc[0]
        clean_half = _curve(half, n=n).total.iloc[0]
        assert last.total - 2 * last.stderr > clean_half, (n, last.total, clean_half)
    fresh = _curve(table, panel="fresh", source="theory")
    n_max = fresh.n.max()
    last_t = fresh.t.max()
    e_last = _curve(fresh, n=n_max, t=last_t).total.iloc[0]
    e_half = _curve(fresh, n=n_max, curve="clean (real half)").total.iloc[0]
    e_all = _curve(fresh, n=n_max, curve="clean (n real)").total.iloc[0]
    assert e_all < e_last < e_half  # between all-real and the real half alone


def check_generations(table: pd.DataFrame) -> None:
    """Replace grows with the generations while accumulate stays bounded."""
    for name, panel in table.groupby("panel"):
        rep_th = _curve(panel, curve="replace", source="theory").sort_values("t").total
        assert np.all(np.diff(rep_th) > 0)
        rep = _curve(panel, curve="replace", source="simulation").sort_values("t")
        acc = _curve(panel, curve="accumulate", source="simulation").sort_values("t")
        k = len(rep)
        # OLS: linear in the generations; ridge: the penalty damps it, still more than doubling
        growth = 0.6 * k if str(name).startswith("OLS") else 2.0
        assert rep.total.iloc[-1] > growth * rep.total.iloc[0], name
        assert acc.total.iloc[-1] < (np.pi**2 / 6) * 1.3 * acc.total.iloc[0]  # bounded
        assert acc.total.iloc[-1] < rep.total.iloc[-1] / 2


CHECKS = {
    "weighted_mixing": check_weighted,
    "iterative_mixing": check_iterative,
    "generations": check_generations,
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TINY))
def test_claims_on_small_tables(name: str) -> None:
    table = TABLES[name](TINY[name])
    assert list(table.columns) == fm.COLUMNS[1:]
    assert np.all(np.isfinite(table.total[table.source == "simulation"]))
    CHECKS[name](table)


def test_plots_draw_from_small_tables(tmp_path) -> None:
    for name, plot in (
        ("weighted_mixing", fm.plot_weighted),
        ("generations", fm.plot_generations),
    ):
        table = TABLES[name](TINY[name] | {"reps": 2})  # a drawing needs no precision
        fig = plot(table)
        fig.savefig(tmp_path / f"{name}.png")
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TINY))
def test_quick_figures_claims_plot_and_cache(name: str, tmp_path) -> None:
    ctx = FigureContext(mode="quick", store=ResultStore(tmp_path / "store"))
    fig = get(name)
    assert fig.group == "mixing"
    table = fig.compute(ctx)
    CHECKS[name](table.drop(columns="figure"))
    for claim in fig.claims:  # the figure's own claims, as simcollapse figures evaluates them
        measured, holds = claim.check(table)
        assert holds, (claim.id, measured, claim.comparison, claim.threshold)
    fig.plot(table).savefig(tmp_path / f"{name}.png")
    assert (tmp_path / f"{name}.png").stat().st_size > 10_000
    again = fig.compute(ctx)  # from the store
    pd.testing.assert_frame_equal(table, again)


@pytest.mark.parametrize("level", ["quick", "default", "full"])
def test_every_simulated_isotropic_phi_has_a_theory_curve(level: str) -> None:
    cfg = fm.CONFIGS["iterative_mixing"][level]
    phis = {float(f"{p:g}") for p in cfg["phis"]}
    simulated = {float(f"{cfg['iso_d'] / n:g}") for n in cfg["iso_sim_n"]}
    assert simulated <= phis, f"{level}: simulated phi {sorted(simulated - phis)} has no theory"


@pytest.mark.parametrize("name", sorted(TINY))
def test_committed_default_tables_show_the_claims(name: str) -> None:
    """figures/ holds the default level's tables: each shows its figure's claims."""
    table = pd.read_csv(Path(__file__).resolve().parents[1] / "figures" / f"{name}.csv")
    CHECKS[name](table.drop(columns="figure", errors="ignore"))
