"""Problem families (isotropic, power_law, file) in Python, sweeps and the CLI; labelled results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import simcollapse as sc
from simcollapse.cli import main
from simcollapse.sweep import Sweep, problem_of_row, run_sweep, to_xarray


def _save(path: Path, prob: sc.Problem) -> Path:
    np.savez(path, eigs=prob.eigs, w1_sq=prob.w1_sq, delta_sq=prob.delta_sq, sigma2=prob.sigma2)
    return path


def test_from_family_equals_the_constructors(tmp_path: Path) -> None:
    ref = sc.Problem.power_law(40, alpha=1.2, source=1.1, c2=0.3, sigma2=0.7)
    got = sc.Problem.from_family("power_law", 40, alpha=1.2, source=1.1, c2=0.3, sigma2=0.7)
    np.testing.assert_array_equal(got.eigs, ref.eigs)
    loaded = sc.Problem.from_family("file", None, path=_save(tmp_path / "p.npz", ref))
    for k in ("eigs", "w1_sq", "delta_sq"):
        np.testing.assert_array_equal(getattr(loaded, k), getattr(ref, k))
    scaled = sc.Problem.from_family("file", 40, path=tmp_path / "p.npz", c2=0.6, sigma2=2.0)
    assert np.isclose(float(scaled.c2), 0.6) and scaled.sigma2 == 2.0


def test_bad_family_input_names_it(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="family must be one of isotropic, power_law, file"):
        sc.Problem.from_family("zipf", 10)
    with pytest.raises(ValueError, match="d must match"):
        sc.Problem.from_family("file", 7, path=_save(tmp_path / "p.npz", sc.Problem.isotropic(5)))
    np.savez(tmp_path / "bad.npz", eigs=np.ones(3))
    with pytest.raises(ValueError, match="lacks"):
        sc.Problem.from_family("file", None, path=tmp_path / "bad.npz")
    with pytest.raises(ValueError, match="path"):
        Sweep(d=5, family="file", axes={"n": [10]})


def test_file_family_sweep_and_cli_equal_the_problem(tmp_path: Path, capsys) -> None:
    prob = sc.Problem.power_law(30, alpha=1.3, c2=0.4, sigma2=0.6)
    path = _save(tmp_path / "p.npz", prob)
    spec = Sweep(d=30, family="file", path=str(path), axes={"n": [50, 100], "p2": [0.0, 0.2]})
    table = run_sweep(spec)
    direct = sc.theory.ridge_error(prob, table.n.to_numpy(), 0.0, table.p2.to_numpy())
    np.testing.assert_allclose(table.total, direct.total, rtol=1e-12)
    row = next(table.itertuples())
    np.testing.assert_array_equal(problem_of_row(row).eigs, prob.eigs)
    assert main(["theory", "--family", "file", "--problem-file", str(path), "--n", "50",
                 "--p2", "0.2", "--json"]) == 0  # fmt: skip
    assert '"total"' in capsys.readouterr().out
    before = spec.hash
    _save(path, prob.with_c2(0.5))
    assert spec.hash != before  # an edited file is a new sweep


def test_error_terms_and_tables_to_xarray() -> None:
    prob = sc.Problem.isotropic(40, c2=0.2)
    n, lam = np.array([60, 120]), np.array([0.0, 0.1, 1.0])
    out = sc.theory.ridge_error(prob, n[:, None], lam[None, :], 0.3)
    ds = out.to_xarray({"n": n, "lam": lam})
    assert ds.total.dims == ("n", "lam")
    assert ds.total.sel(n=120, lam=0.1).item() == out.total[1, 1]
    with pytest.raises(ValueError, match="one 1-D axis per dimension"):
        out.to_xarray({"n": n})
    spec = Sweep(d=40, setting="iterative", axes={"n": [60, 120], "rounds": [1, 3]},
                 params={"p2": 0.5, "lam": 0.1})  # fmt: skip
    ds = to_xarray(run_sweep(spec))
    assert ds.total.dims == ("method", "n", "rounds") and ds.total.shape == (1, 2, 2)
