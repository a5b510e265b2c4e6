"""The golden_ratio figure on a tiny configuration: its table, its claims and a readable plot.

The table (theory optima, two sweeps) takes about a minute on a loaded 2-core CPU: the tests
that read it are marked slow."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from figure_layout import legends_over_data, overlapping_texts  # noqa: E402

from simcollapse.figures import get  # noqa: E402
from simcollapse.figures import golden as fg  # noqa: E402
from simcollapse.figures.registry import NEW  # noqa: E402

TINY = dict(d=10, sigma2=1.0, n=40, n_large=5_000, lams=[0.1, 1.0], generations=4,
            w_sim=[0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], reps=64, seed=0)  # fmt: skip


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return fg.golden_table(TINY)


@pytest.mark.slow
def test_table_has_both_panels_and_sources(table: pd.DataFrame) -> None:
    assert list(table.columns) == fg.COLUMNS[1:]
    opt = table[table.panel == "optimum"]
    assert set(opt.curve) == {"1/phi", "OLS, n >> d", "OLS", "ridge lam=0.1", "ridge lam=1"}
    assert set(table.source) == {"theory", "simulation", "reference"}
    err = table[(table.panel == "error") & (table.source == "simulation")]
    assert len(err) == 3 * len(TINY["w_sim"]) and np.all(err.stderr > 0)
    assert np.all((opt.weight >= 0) & (opt.weight <= 1))


@pytest.mark.slow
def test_claims_measure_the_table(table: pd.DataFrame) -> None:
    """Large-n OLS tends to 1/phi, ridge stays >= 1/2, theory meets the simulation (T = 4)."""
    results = {c.id: c.check(table) for c in get("golden_ratio").claims}
    assert all(np.isfinite(v) for v, _ in results.values())
    for name in (
        "ols-optimum-tends-to-inverse-phi",
        "ridge-optimum-at-least-half",
        "ridge-raises-the-optimum",
        "theory-matches-simulation",
    ):
        assert results[name][1], (name, results[name][0])


@pytest.mark.slow
def test_plot_is_readable(table: pd.DataFrame) -> None:
    fig = fg.plot_golden(table)
    try:
        assert not legends_over_data(fig) + overlapping_texts(fig)
    finally:
        plt.close(fig)


def test_registered_as_a_new_figure_citing_the_paper() -> None:
    fig = get("golden_ratio")
    assert fig.paper == NEW and "2502.18049" in fig.caption and len(fig.claims) == 5
