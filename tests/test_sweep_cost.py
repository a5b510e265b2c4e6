"""Cost weights of sweep chunks (progress bar) and the --dry-run time estimate."""

from __future__ import annotations

import math
from pathlib import Path

from simcollapse.cli import main
from simcollapse.sweep import Sweep, plan
from simcollapse.sweep.cost import chunk_cost, estimate_seconds

SPEC = Sweep(d=20, axes={"n": [30, 60], "lam": [0.0, 0.1], "p2": [0.0, 0.2]}, method="both", reps=4)


def test_simulated_rows_weigh_more_than_theory_rows() -> None:
    chunks = plan(SPEC)
    theory = [chunk_cost(SPEC, c) / c.rows for c in chunks if c.method == "theory"]
    simulate = [chunk_cost(SPEC, c) / c.rows for c in chunks if c.method == "simulate"]
    assert min(simulate) > 10 * max(theory)
    # cost grows with the work: more draws, larger n
    more = Sweep(**{**SPEC.to_dict(), "reps": 8})
    assert chunk_cost(more, chunks[-1]) == 2 * chunk_cost(SPEC, chunks[-1])
    assert chunk_cost(SPEC, chunks[2]) > chunk_cost(SPEC, chunks[1])  # n = 60 after n = 30


def test_estimate_is_a_positive_time_with_its_calibration() -> None:
    seconds, how = estimate_seconds(SPEC)
    assert math.isfinite(seconds) and seconds > 0
    assert "theory" in how and "simulate" in how


def test_dry_run_prints_an_estimate_and_writes_nothing(tmp_path: Path, capsys) -> None:
    config = tmp_path / "s.toml"
    config.write_text('[problem]\nd = 20\n[run]\nmethod = "both"\nreps = 4\n[axes]\nn = [30]\n')
    assert main(["sweep", str(config), "--out", str(tmp_path / "o"), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "estimated time: " in out and "calibrated on this machine" in out
    assert not (tmp_path / "o").exists()
