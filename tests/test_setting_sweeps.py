"""Sweeps over the mixing settings from TOML and the CLI: kill -9 and resume, theory = Monte Carlo.

Each must-show sweep runs ``simcollapse sweep`` in a subprocess, kills it (SIGKILL) once the first
chunk is stored, reruns it to completion and compares the table with an uninterrupted run (the
same rows, bit for bit); then theory and simulation agree within 3 SE + 3% at every point.
d = 40, two sample sizes (one chunk per n and method), 64 repetitions.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simcollapse.sweep import Sweep, plan, run_sweep

ROOT = Path(__file__).resolve().parents[1]

WEIGHTED = """
[problem]
family = "power_law"
d = 40
c2 = 0.5
sigma2 = 0.5

[setting]
kind = "weighted"
p2 = 0.5
lam = 0.01

[run]
method = "both"
reps = 64
seed = 3

[axes]
n = [120, 240]
alpha = [0.1, 0.5, 0.8]
"""

ITERATIVE = """
[problem]
d = 40
c2 = 0.5
sigma2 = 0.5

[setting]
kind = "iterative"
p2 = 0.5
lam = 0.01

[run]
method = "both"
reps = 64
seed = 4

[axes]
n = [120, 240]
rounds = [1, 2, 4]
"""

GOLDEN = """
[problem]
family = "isotropic"
d = 20
sigma2 = 1.0
teacher_n0 = 80

[setting]
kind = "golden_weighted"
lam = 0.0
ratio = 1.0

[run]
method = "both"
reps = 64
seed = 5

[axes]
n = [80]
real_weight = [0.5, 0.618, 0.9]
generations = [1, 3, 5]
"""


def _cli(spec: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "simcollapse.cli", "sweep", str(spec), "--out", str(out)]
    return subprocess.Popen([*cmd, "--no-progress"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)  # fmt: skip


def _kill_after_first_chunk(spec: Path, out: Path, folder: Path) -> int:
    proc = _cli(spec, out)
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None:
        if list(folder.glob("*.parquet")):
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.05)
    proc.wait()
    return len(list(folder.glob("*.parquet")))


def _agree(table: pd.DataFrame, keys: list[str]) -> None:
    th = table[table.method == "theory"].set_index(keys).sort_index()
    mc = table[table.method == "simulate"].set_index(keys).sort_index()
    assert len(th) == len(mc) > 0
    gap = np.abs(th.total - mc.total)
    tol = 3.0 * mc.stderr + 0.03 * th.total.abs()
    assert np.all(gap <= tol), pd.DataFrame({"theory": th.total, "sim": mc.total, "se": mc.stderr})


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "keys"),
    [
        (WEIGHTED, ["n", "alpha"]),
        (ITERATIVE, ["n", "rounds"]),
        (GOLDEN, ["n", "real_weight", "generations"]),
    ],
    ids=["weighted", "iterative", "golden_weighted"],
)
def test_setting_sweep_survives_kill_and_matches_theory(
    tmp_path: Path, text: str, keys: list[str]
) -> None:
    path = tmp_path / "spec.toml"
    path.write_text(text)
    spec = Sweep.from_toml(path)
    folder = tmp_path / "out" / "sweeps" / spec.hash
    stored = _kill_after_first_chunk(path, tmp_path / "out", folder)
    assert 1 <= stored <= len(plan(spec))
    done = _cli(path, tmp_path / "out")
    _, err = done.communicate(timeout=900)
    assert done.returncode == 0, err.decode()
    resumed = pd.read_parquet(tmp_path / "out" / f"spec-{spec.hash[:8]}.parquet")
    fresh = run_sweep(spec)
    pd.testing.assert_frame_equal(resumed, fresh)
    assert len(fresh) == 2 * spec.size
    _agree(fresh, keys)


def test_golden_weighted_toml_sweep_matches_theory() -> None:
    """golden_weighted from TOML: OLS generation 0 (teacher_n0 = n), 3 weights x 3 generations."""
    table = run_sweep(Sweep.from_toml_text(GOLDEN))
    assert len(table) == 2 * 9
    _agree(table, ["n", "real_weight", "generations"])


def test_setting_sweep_spec_errors_name_the_key() -> None:
    bad = WEIGHTED.replace("alpha = [0.1, 0.5, 0.8]", "alpha = [0.1, 1.5]")
    with pytest.raises(ValueError, match=r"<toml>:\d+: axis 'alpha'"):
        Sweep.from_toml_text(bad)
    with pytest.raises(ValueError, match="unknown axis 'rounds' for setting 'weighted'"):
        Sweep.from_toml_text(WEIGHTED + "rounds = [1, 2]\n")
    with pytest.raises(ValueError, match="simulation only"):
        Sweep(d=20, setting="accumulate_subsample", axes={"n": [50]}, method="both")
    with pytest.raises(ValueError, match="simulation only.*ridge"):  # theory at lam = 0 only
        Sweep(d=20, setting="accumulate", axes={"n": [50], "lam": [0.0, 0.1]}, method="both")
    with pytest.raises(ValueError, match="model must be 'ridge' or 'rp'.*setting = NAME"):
        Sweep(d=20, model="weighted", axes={"n": [50]})
    for name in ("ridge", "weighted"):  # a fast-path setting is checked as strictly
        with pytest.raises(ValueError, match=f"m only applies to .*not to setting '{name}'"):
            Sweep(d=20, setting=name, m=10, axes={"n": [50]})


def test_model_alias_is_the_same_sweep_as_its_setting() -> None:
    old = Sweep(d=20, model="rp", m=10, axes={"n": [50]})
    new = Sweep(d=20, setting="random_projection", params={"m": 10}, axes={"n": [50]})
    assert old.hash == new.hash and new.model == "rp"
    assert old.to_dict()["setting"] == "random_projection"  # named like any other setting


def test_dry_run_plans_one_chunk_per_n_and_method(tmp_path: Path, capsys) -> None:
    from simcollapse.cli import main

    path = tmp_path / "spec.toml"
    path.write_text(ITERATIVE)
    assert main(["sweep", str(path), "--out", str(tmp_path), "--dry-run"]) == 0
    text = capsys.readouterr().out
    assert "iterative, method both" in text and "theory: 2 chunk(s)" in text
    assert not (tmp_path / "sweeps").exists()


SMALL_ITERATIVE = ITERATIVE.replace("reps = 64", "reps = 6").replace("d = 40", "d = 16")


@pytest.mark.slow
def test_setting_sweep_on_three_devices_equals_one(tmp_path: Path) -> None:
    """Theory points and Monte Carlo repetitions split over 3 forced host devices: same table."""
    config = tmp_path / "s.toml"
    config.write_text(SMALL_ITERATIVE.replace("n = [120, 240]", "n = [40, 60]"))
    script = (
        "import jax, sys\n"
        "from simcollapse.sweep import Sweep, run_sweep\n"
        f"table = run_sweep(Sweep.from_toml({str(config)!r}))\n"
        "assert jax.device_count() == int(sys.argv[2])\n"
        "table.to_parquet(sys.argv[1])\n"
    )
    tables = []
    for ndev in (1, 3):
        env = {**os.environ, "PYTHONPATH": str(ROOT), "JAX_PLATFORMS": "cpu",
               "XLA_FLAGS": f"--xla_force_host_platform_device_count={ndev}"}  # fmt: skip
        out = tmp_path / f"t{ndev}.parquet"
        subprocess.run([sys.executable, "-c", script, str(out), str(ndev)], check=True, env=env)
        tables.append(pd.read_parquet(out))
    np.testing.assert_allclose(tables[1].total, tables[0].total, rtol=1e-10)
    np.testing.assert_allclose(tables[1].stderr, tables[0].stderr, rtol=1e-8)


@pytest.mark.slow
def test_weighted_sweep_over_two_processes_equals_one(tmp_path: Path) -> None:
    """jax.distributed with two local processes: the same table as one process."""
    import test_multiprocess as mp

    config = tmp_path / "sweep.toml"
    text = WEIGHTED.replace("reps = 64", "reps = 6").replace("d = 40", "d = 16")
    config.write_text(text.replace("n = [120, 240]", "n = [40, 60]"))
    mp._two_processes(config, tmp_path / "two", tmp_path)
    two, one = mp._table(tmp_path / "two"), mp._one_process(config, tmp_path / "one")
    cols = ["bias", "variance", "zeta", "total", "stderr"]
    keys = ["method", "n", "alpha"]
    two, one = (t.sort_values(keys).reset_index(drop=True) for t in (two, one))
    pd.testing.assert_frame_equal(two[keys], one[keys])
    np.testing.assert_allclose(two[cols].to_numpy(), one[cols].to_numpy(), rtol=1e-10, atol=1e-14)
