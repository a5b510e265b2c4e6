"""Ctrl-C during a sweep ends in one line that says what is stored and how to resume; stored
tables record where they came from."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import pandas as pd
import pytest

import simcollapse
from simcollapse.sweep import Sweep, run_sweep

ROOT = Path(__file__).resolve().parents[1]
LONG = """[problem]
d = 40
[run]
method = "simulate"
reps = 32
[axes]
n = [50, 58, 66, 74, 82, 90, 98, 106]
p2 = [0.0, 0.2]
"""


def _sweep(config: Path, out: Path) -> subprocess.Popen:
    code = "import sys; from simcollapse.cli import console; console(sys.argv[1:])"
    env = dict(os.environ, PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu")
    args = [sys.executable, "-c", code, "sweep", str(config), "--out", str(out), "--no-progress"]
    pipe = subprocess.PIPE
    return subprocess.Popen(args, env=env, stdout=pipe, stderr=pipe, text=True)


@pytest.mark.slow
def test_ctrl_c_ends_in_one_line_and_the_same_command_resumes(tmp_path: Path) -> None:
    config = tmp_path / "long.toml"
    config.write_text(LONG)
    out = tmp_path / "out"
    proc = _sweep(config, out)
    deadline = time.monotonic() + 240
    while not list(out.glob("sweeps/*/simulate-*.parquet")) and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    lines = [line for line in err.splitlines() if line.strip()]
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert lines[-1].startswith("simcollapse sweep: interrupted: ")
    assert "of 8 chunk(s) stored under" in lines[-1] and "same command" in lines[-1]
    stored = int(lines[-1].split("interrupted: ")[1].split(" of ")[0])
    assert 1 <= stored < 8
    again = _sweep(config, out)
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err


def test_stored_tables_record_their_provenance(tmp_path: Path) -> None:
    table = run_sweep(Sweep(d=10, axes={"n": [20, 40]}, method="theory"), tmp_path)
    row = table.iloc[0]
    assert row["version"] == simcollapse.__version__
    assert row["jax_version"] == jax.__version__ and row["jaxlib_version"]
    assert row["device_kind"] and row["device_count"] == jax.device_count()
    assert isinstance(row["git_revision"], str)
    (chunk,) = tmp_path.glob("sweeps/*/theory-*.parquet")
    assert "jaxlib_version" in pd.read_parquet(chunk).columns
