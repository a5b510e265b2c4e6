"""A store that heals: unreadable chunks and cache entries are reported, moved aside, recomputed."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from simcollapse.cli import main
from simcollapse.store import ResultStore, StoreWarning, atomic_write_parquet
from simcollapse.sweep import Sweep, run_sweep

SPEC = dict(d=20, axes={"n": [30, 60], "lam": [0.0, 0.01], "p2": [0.0, 0.2]}, method="theory")


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _chunk(out: Path) -> Path:
    (path,) = out.glob("sweeps/*/theory-*.parquet")
    return path


def test_truncated_sweep_chunk_is_recomputed(tmp_path: Path) -> None:
    spec = Sweep(**SPEC)
    first = run_sweep(spec, tmp_path)
    chunk = _chunk(tmp_path)
    _truncate(chunk)
    with pytest.warns(StoreWarning, match="unusable") as record:
        again = run_sweep(spec, tmp_path)
    assert len(record) == 1
    pd.testing.assert_frame_equal(again, first)
    assert chunk.with_name(chunk.name + ".corrupt").exists()
    pd.testing.assert_frame_equal(pd.read_parquet(chunk), first)  # stored again, whole


def test_chunk_with_wrong_rows_is_recomputed(tmp_path: Path) -> None:
    spec = Sweep(**SPEC)
    first = run_sweep(spec, tmp_path)
    atomic_write_parquet(first.iloc[:3], _chunk(tmp_path))  # a readable but foreign table
    with pytest.warns(StoreWarning, match="another computation"):
        pd.testing.assert_frame_equal(run_sweep(spec, tmp_path), first)


def test_cli_reports_a_bad_chunk_in_one_line(tmp_path: Path, capsys) -> None:
    config = tmp_path / "s.toml"
    config.write_text(
        '[problem]\nd = 20\n[run]\nmethod = "theory"\n[axes]\nn = [30, 60]\np2 = [0.0, 0.2]\n'
    )
    out = tmp_path / "out"
    assert main(["sweep", str(config), "--out", str(out), "--no-progress"]) == 0
    _truncate(_chunk(out))
    capsys.readouterr()
    assert main(["sweep", str(config), "--out", str(out), "--no-progress"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("simcollapse sweep: warning: ")
    assert "recomputing" in err[0]


def test_truncated_cache_entry_is_recomputed(tmp_path: Path) -> None:
    store = ResultStore(tmp_path)
    calls = []

    def compute() -> pd.DataFrame:
        calls.append(1)
        return pd.DataFrame({"x": range(100), "y": [0.5] * 100})

    first = store.get_or_compute("mnist_random_features", {"n": 100}, compute)
    assert store.get_or_compute("mnist_random_features", {"n": 100}, compute).equals(first)
    assert len(calls) == 1
    _truncate(store.path("mnist_random_features", {"n": 100}))
    with pytest.warns(StoreWarning):
        again = store.get_or_compute("mnist_random_features", {"n": 100}, compute)
    assert len(calls) == 2
    pd.testing.assert_frame_equal(again, first)
    assert store.load("mnist_random_features", {"n": 100}) is not None


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_follow_the_umask(tmp_path: Path, mask: int, mode: int) -> None:
    old = os.umask(mask)
    try:
        path = atomic_write_parquet(pd.DataFrame({"x": [1]}), tmp_path / "t.parquet")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == mode


@pytest.mark.slow  # three command-line runs in fresh processes
def test_a_broken_compilation_cache_entry_is_removed_once(tmp_path: Path) -> None:
    import subprocess
    import sys

    config = tmp_path / "s.toml"
    config.write_text('[problem]\nd = 20\n[run]\nmethod = "theory"\n[axes]\nn = [30, 60]\n')
    env = dict(os.environ, SIMCOLLAPSE_XLA_CACHE=str(tmp_path / "xla"), JAX_PLATFORMS="cpu")
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    code = "import sys; from simcollapse.cli import console; console(sys.argv[1:])"
    args = [sys.executable, "-c", code, "sweep", str(config), "--no-progress", "--force"]

    def run() -> list[str]:
        done = subprocess.run(
            [*args, "--out", str(tmp_path / "out")], env=env, capture_output=True, text=True,
            timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return [line for line in done.stderr.splitlines() if "compilation" in line]

    assert run() == []
    entries = list((tmp_path / "xla").glob("*-cache"))
    assert entries
    for entry in entries:
        entry.write_bytes(entry.read_bytes()[:100])  # a kill in the middle of a write
    lines = run()
    assert len(lines) == len(entries) and all("removed, recompiling" in x for x in lines)
    assert run() == []  # healed: no warning on later runs
