"""Sweeps with zipped axes: explicit points instead of a product, from Python and TOML, stored
and resumed like any sweep."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from simcollapse.sweep import SpecError, Sweep, run_sweep
from simcollapse.theory.ridge import ridge_error
from simcollapse.theory.weighted import weighted_error

WEIGHTED = dict(d=30, c2=0.5, sigma2=1.0, setting="weighted", method="theory")
POINTS = {"p2": [0.5, 0.5, 0.0], "alpha": [0.1, 1.0, 0.0]}


def test_zipped_points_equal_direct_theory() -> None:
    spec = Sweep(**WEIGHTED, axes={"n": [40, 90], "lam": [1e-3], **POINTS},
                 zipped=[("p2", "alpha")])  # fmt: skip
    assert spec.size == 6  # 2 n x 3 points, not 2 x 2 x 3
    table = run_sweep(spec)
    assert len(table) == 6
    prob = spec.problem()
    for row in table.itertuples():
        expect = weighted_error(prob, row.n, 1e-3, row.p2, row.alpha).total
        assert row.total == pytest.approx(float(expect), rel=1e-10)
    # p2 = alpha = 0 is the clean ridge fit on all n rows
    clean = table[table.p2 == 0.0].sort_values("n")
    direct = ridge_error(prob, np.array([40.0, 90.0]), 1e-3, 0.0).total
    np.testing.assert_allclose(clean.total, direct, rtol=1e-10)


def test_zipped_ridge_equals_the_product_sweep_at_the_same_points() -> None:
    zipped = run_sweep(Sweep(d=30, axes={"n": [50], "lam": [1e-3, 1e-1], "p2": [0.0, 0.2]},
                             zipped=[["lam", "p2"]]))  # fmt: skip
    full = run_sweep(Sweep(d=30, axes={"n": [50], "lam": [1e-3, 1e-1], "p2": [0.0, 0.2]}))
    assert len(zipped) == 2 and len(full) == 4
    for row in zipped.itertuples():
        match = full[(full.lam == row.lam) & (full.p2 == row.p2)]
        assert row.total == pytest.approx(float(match.total.iloc[0]), rel=1e-9)


def test_zipped_toml_matches_python_and_resumes(tmp_path: Path) -> None:
    toml = tmp_path / "spec.toml"
    toml.write_text(
        '[problem]\nd = 30\nc2 = 0.5\n[setting]\nkind = "weighted"\n[run]\nmethod = "simulate"\n'
        "reps = 2\n[axes]\nn = [40]\nlam = [0.001]\np2 = [0.5, 0.5, 0.0]\n"
        'alpha = [0.1, 1.0, 0.0]\nzipped = [["p2", "alpha"]]\n'
    )
    spec = Sweep.from_toml(toml)
    same = Sweep(d=30, c2=0.5, setting="weighted", method="simulate", reps=2,
                 axes={"n": [40], "lam": [0.001], **POINTS}, zipped=[("p2", "alpha")])  # fmt: skip
    assert spec.hash == same.hash
    assert "zipped" not in Sweep(d=30, axes={"n": [40]}).to_dict()  # other hashes unchanged
    first = run_sweep(spec, tmp_path / "store")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the stored chunk is reused, not quarantined
        again = run_sweep(spec, tmp_path / "store")
    np.testing.assert_array_equal(first.total, again.total)
    assert list(first.alpha) == [0.1, 1.0, 0.0]


@pytest.mark.parametrize(
    ("zipped", "axes", "match"),
    [
        ([("p2", "alpha")], {"p2": [0.5, 0.0], "alpha": [0.1]}, "equal lengths"),
        ([("n", "alpha")], {"alpha": [0.1]}, "'n' cannot be zipped"),
        ([("p2", "lam")], {"p2": [0.5]}, "'lam' is not an axis"),
        ([("p2",)], {"p2": [0.5]}, "two or more axes"),
        ("p2", {"p2": [0.5]}, "list of axis-name lists"),
        (
            [("p2", "alpha"), ("alpha", "lam")],
            {"p2": [0.5], "alpha": [0.1], "lam": [0.0]},
            "in two groups",
        ),
    ],
)
def test_bad_zipped_axes_name_the_problem(zipped: object, axes: dict, match: str) -> None:
    with pytest.raises(SpecError, match=match):
        Sweep(**WEIGHTED, axes={"n": [40], **axes}, zipped=zipped)


def test_zipped_integer_axes_keep_their_order() -> None:
    spec = Sweep(d=30, setting="random_projection", axes={"n": [50], "m": [20, 10, 20],
                 "p2": [0.0, 0.1, 0.2]}, zipped=[("m", "p2")])  # fmt: skip
    assert spec.values("m").tolist() == [20.0, 10.0, 20.0]
    assert spec.size == 3


def test_zipped_random_projections_with_a_fixed_width_equal_the_product_sweep() -> None:
    """m given as a setting (not an axis) is the width of every zipped point."""
    common = dict(d=30, setting="random_projection", m=20)
    zipped = run_sweep(Sweep(**common, axes={"n": [50], "lam": [1e-3, 1e-1], "p2": [0.0, 0.2]},
                             zipped=[["lam", "p2"]]))  # fmt: skip
    full = run_sweep(Sweep(**common, axes={"n": [50], "lam": [1e-3, 1e-1], "p2": [0.0, 0.2]}))
    assert len(zipped) == 2 and set(zipped.m) == {20.0}
    for row in zipped.itertuples():
        match = full[(full.lam == row.lam) & (full.p2 == row.p2)]
        assert row.total == pytest.approx(float(match.total.iloc[0]), rel=1e-9)
