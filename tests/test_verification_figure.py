"""The verification figure: registered as a new figure citing its paper, its table's columns and
sources, its claims measured from the table (a small configuration and the committed table)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from simcollapse.figures import get  # noqa: E402
from simcollapse.figures import verification as fv  # noqa: E402
from simcollapse.figures.registry import NEW  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "figures" / "verification.csv"
TINY = dict(d=5, c2=1.0, sigma2=1.0, p2=0.5, lam=1e-3, keep=0.2, good=1e-3, fair=0.05, poor=4.0,
            limit_draws=64, n_sim=[60, 240], reps=4, seed=0)  # fmt: skip


def _model_table(n: np.ndarray, fair_floor: float = 0.0125, poor: float = 0.25) -> pd.DataFrame:
    """A table of the figure's shape, the picture its claims describe: the clean law d/n, the
    unverified floor p2^2 c^2 = 0.25, oracle and good verifiers on the law, a fair one at its
    floor."""
    law = 20.0 / n
    curves = {fv.CLEAN: law, fv.UNVERIFIED: 0.25 + law, fv.ORACLE: 0.5 * law,
              fv.GOOD: 2.5e-4 + 0.5 * law, fv.FAIR: fair_floor + 0.5 * law,
              fv.POOR: poor + law}  # fmt: skip
    rows = [dict(curve=c, source="simulation", n=k, p2=0.5, keep=0.1, verifier_c2=0.0, total=e,
                 stderr=0.01 * e)
            for c, v in curves.items() for k, e in zip(n, v, strict=True)]  # fmt: skip
    limits = {fv.ORACLE: 1e-5, fv.GOOD: 2.5e-4, fv.FAIR: fair_floor, fv.POOR: poor}
    rows += [dict(curve=c, source="limit", n=n.max(), p2=0.5, keep=0.1, verifier_c2=0.0,
                  total=e, stderr=0.0) for c, e in limits.items()]  # fmt: skip
    rows.append(dict(curve="floor p2^2 c^2", source="reference", n=n.max(), p2=0.5, keep=1.0,
                     verifier_c2=0.0, total=0.25, stderr=0.0))  # fmt: skip
    return pd.DataFrame(rows)[fv.COLUMNS]


def test_registered_as_new_with_its_paper_and_claims() -> None:
    fig = get("verification")
    assert fig.paper == NEW
    assert "Feng" in fig.caption and "2406.07515" in fig.caption
    ids = {c.id for c in fig.claims}
    assert {"unverified-sits-at-the-floor", "good-verifier-keeps-scaling",
            "poor-verifier-no-better-than-none",
            "fair-verifier-flattens-at-its-floor"} <= ids  # fmt: skip
    assert set(fv.CONFIGS) == {"quick", "default", "full"}


def test_claims_are_measured_from_the_table() -> None:
    n = np.array([100.0, 1000.0, 3200.0, 12800.0])  # the default level's range
    table = _model_table(n)
    got = {c.id: c.check(table) for c in fv.CLAIMS}
    assert all(holds for _, holds in got.values()), got
    # each claim reads the table: a poor verifier as good as the oracle, a fair verifier 3 times
    # its floor, a floor above its curve each fail their claim
    edits = {
        "poor-verifier-no-better-than-none": lambda t: (t.curve == fv.POOR) & (t.source != "limit"),
        "fair-verifier-flattens-at-its-floor": lambda t: (
            (t.curve == fv.FAIR) & (t.source != "limit")
        ),
        "no-curve-below-its-floor": lambda t: (t.curve == fv.FAIR) & (t.source == "limit"),
    }
    factor = {"poor-verifier-no-better-than-none": 1e-4}
    for claim, where in edits.items():
        bad = table.copy()
        bad.loc[where(bad), "total"] *= factor.get(claim, 3.0)
        check = next(c for c in fv.CLAIMS if c.id == claim).check(bad)
        assert not check[1], (claim, check)


def test_committed_table_columns_claims_and_plot() -> None:
    table = pd.read_csv(COMMITTED)
    assert list(table.columns) == ["figure", *fv.COLUMNS]
    assert set(table.source) == {"simulation", "limit", "reference"}
    assert set(table[table.source == "simulation"].curve) == set(fv.CURVES)
    for claim in fv.CLAIMS:
        measured, holds = claim.check(table)
        assert holds, (claim.id, measured)
    fig = fv.plot_verification(table)
    try:
        assert fig.axes[0].get_xscale() == "log" and fig.axes[0].get_yscale() == "log"
    finally:
        plt.close(fig)


@pytest.mark.slow
def test_small_table_columns_sources_and_curves() -> None:
    # slow: two compilations of the selection kernel, about 40 s on a loaded 2-core CPU
    tiny = fv.verification_table(TINY)
    assert list(tiny.columns) == fv.COLUMNS
    sim = tiny[tiny.source == "simulation"]
    assert set(sim.curve) == set(fv.CURVES) and len(sim) == len(fv.CURVES) * 2
    assert set(tiny[tiny.source == "limit"].curve) == set(fv.VERIFIED)
    ref = tiny[tiny.source == "reference"]
    assert len(ref) == 1 and ref.total.iloc[0] == pytest.approx(0.25)  # p2^2 c^2
    assert np.all(np.isfinite(tiny.total)) and np.all(tiny.stderr >= 0)
    # the clean curve has no synthetic rows, the unverified one keeps every candidate
    assert set(sim[sim.curve == fv.CLEAN].p2) == {0.0}
    assert set(sim[sim.curve == fv.UNVERIFIED].keep) == {1.0}
    assert all(np.isfinite(c.check(tiny)[0]) for c in fv.CLAIMS)
