"""A stored sweep read out of core: exported to zarr chunk by chunk, and queried by DuckDB."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simcollapse.cli import main
from simcollapse.sweep import Sweep, run_sweep, sweep_dataset, sweep_files, to_xarray
from simcollapse.sweep.export import export_zarr

xr = pytest.importorskip("xarray")
pytest.importorskip("zarr")

SPEC = """
[problem]
d = 20
[run]
method = "theory"
[axes]
n = [10, 20, 40, 80]
lam = [0.0, 1e-2]
p2 = [0.0, 0.1, 0.5]
"""


def test_cli_zarr_equals_the_in_memory_table(tmp_path: Path) -> None:
    config = tmp_path / "grid.toml"
    config.write_text(SPEC)
    out, grid = tmp_path / "out", tmp_path / "grid.zarr"
    command = ["sweep", str(config), "--out", str(out), "--zarr", str(grid), "--no-progress"]
    assert main(command) == 0
    spec = Sweep.from_toml(config)
    want = to_xarray(run_sweep(spec, out))
    got = xr.open_zarr(grid).load()
    assert got.total.dims == ("method", "n", "lam", "p2")
    for term in ("bias", "variance", "zeta", "total", "status"):
        np.testing.assert_array_equal(got[term].values, want[term].values, err_msg=term)
    assert np.isinf(got.total.sel({"n": 20, "lam": 0.0})).all()  # the threshold kept as inf
    # a rerun replaces its own export; a folder that is not a zarr store is never replaced
    assert main(command) == 0
    other = tmp_path / "notes"
    other.mkdir()
    fresh = tmp_path / "fresh"
    assert main(["sweep", str(config), "--out", str(fresh), "--zarr", str(other)]) == 2
    assert not fresh.exists()  # refused before any work


def test_a_setting_with_a_length_axis_exports_every_generation(tmp_path: Path) -> None:
    spec = Sweep(d=20, setting="replace", method="theory",
                 axes={"n": [40, 80], "lam": [0.0, 0.1], "generations": [1, 2, 3]})  # fmt: skip
    run_sweep(spec, tmp_path)
    got = xr.open_zarr(export_zarr(tmp_path, spec, tmp_path / "g.zarr")).load()
    want = to_xarray(run_sweep(spec, tmp_path))
    assert dict(got.sizes) == {"method": 1, "n": 2, "lam": 2, "generations": 3}
    np.testing.assert_array_equal(got.total.values, want.total.values)
    assert not np.isnan(got.total.values).any()


def test_zipped_axes_are_refused_in_one_line(tmp_path: Path) -> None:
    spec = Sweep(d=20, setting="weighted", method="theory",
                 axes={"n": [40], "p2": [0.5, 0.0], "alpha": [0.1, 0.0]},
                 zipped=[("p2", "alpha")])  # fmt: skip
    run_sweep(spec, tmp_path)
    with pytest.raises(ValueError, match="zipped"):
        export_zarr(tmp_path, spec, tmp_path / "g.zarr")


def test_duckdb_queries_the_stored_chunks_without_loading_them(tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    config = tmp_path / "grid.toml"
    config.write_text(SPEC)
    spec = Sweep.from_toml(config)
    table = run_sweep(spec, tmp_path)
    files = [str(p) for p in sweep_files(tmp_path, spec)]
    rows, worst = duckdb.sql(
        f"SELECT count(*), max(total) FILTER (WHERE isfinite(total)) FROM read_parquet({files})"
    ).fetchall()[0]
    finite = table.total[np.isfinite(table.total)]
    assert rows == len(table) and worst == finite.max()
    assert sweep_dataset(tmp_path, spec).count_rows() == len(table)
