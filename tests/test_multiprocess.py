"""Sweeps over several processes joined by jax.distributed (README's multi-host command).

Two local processes on a free port, CPU collectives over gloo: the table equals the one-process
table, and a process whose peer dies stops with a clear error within a bounded time; a rerun
then completes and matches.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEC = """
[problem]
d = 20
c2 = 0.5
[run]
method = "both"
reps = 6
seed = 3
[axes]
n = [30, 60]
lam = [0.0, 0.01]
p2 = [0.0, 0.2]
"""
# Long enough (one simulation chunk per n) to be killed in the middle.
LONG = SPEC.replace("reps = 6", "reps = 32").replace("[30, 60]", str(list(range(30, 94, 8))))
TIMEOUT_S = 20  # the processes' heartbeat timeout (--timeout)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(*args: str) -> list[str]:
    code = "import sys; from simcollapse.cli import console; console(sys.argv[1:])"
    return [sys.executable, "-c", code, *args]


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu")
    env.pop("XLA_FLAGS", None)  # one CPU device per process
    return env


def _start(config: Path, out: Path, port: int, pid: int, log: Path) -> subprocess.Popen:
    args = _cli(
        "sweep", str(config), "--out", str(out), "--no-progress",
        "--coordinator", f"127.0.0.1:{port}", "--num-processes", "2", "--process-id", str(pid),
        "--timeout", str(TIMEOUT_S),
    )  # fmt: skip
    return subprocess.Popen(args, env=_env(), stdout=log.open("w"), stderr=subprocess.STDOUT)


def _two_processes(config: Path, out: Path, tmp: Path) -> None:
    port = _free_port()
    procs = [_start(config, out, port, i, tmp / f"run{i}.log") for i in range(2)]
    codes = [p.wait(timeout=300) for p in procs]
    logs = [(tmp / f"run{i}.log").read_text() for i in range(2)]
    assert codes == [0, 0], logs


def _table(out: Path) -> pd.DataFrame:
    (path,) = out.glob("*.parquet")
    return pd.read_parquet(path)


def _one_process(config: Path, out: Path) -> pd.DataFrame:
    done = subprocess.run(
        _cli("sweep", str(config), "--out", str(out), "--no-progress"),
        env=_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return _table(out)


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    cols = ["bias", "variance", "zeta", "total", "stderr"]
    keys = ["method", "n", "lam", "p2"]
    a, b = (t.sort_values(keys).reset_index(drop=True) for t in (a, b))
    pd.testing.assert_frame_equal(a[keys], b[keys])
    np.testing.assert_allclose(a[cols].to_numpy(), b[cols].to_numpy(), rtol=1e-10, atol=1e-14)


def test_two_processes_give_the_one_process_table(tmp_path: Path) -> None:
    config = tmp_path / "sweep.toml"
    config.write_text(SPEC)
    _two_processes(config, tmp_path / "two", tmp_path)
    two = _table(tmp_path / "two")
    assert set(two["method"]) == {"theory", "simulate"}
    _same(two, _one_process(config, tmp_path / "one"))


@pytest.mark.slow
def test_a_dead_peer_stops_the_other_process_and_a_rerun_completes(tmp_path: Path) -> None:
    config = tmp_path / "long.toml"
    config.write_text(LONG)
    out = tmp_path / "two"
    port = _free_port()
    procs = [_start(config, out, port, i, tmp_path / f"p{i}.log") for i in range(2)]
    deadline = time.monotonic() + 240
    while not list(out.glob("sweeps/*/simulate-*.parquet")) and time.monotonic() < deadline:
        assert procs[0].poll() is None, (tmp_path / "p0.log").read_text()
        time.sleep(0.2)
    procs[1].send_signal(signal.SIGKILL)
    killed = time.monotonic()
    code = procs[0].wait(timeout=3 * TIMEOUT_S + 30)
    waited = time.monotonic() - killed
    log = (tmp_path / "p0.log").read_text()
    assert code != 0 and waited < 3 * TIMEOUT_S + 30
    assert "another process" in log, log
    _two_processes(config, out, tmp_path)
    _same(_table(out), _one_process(config, tmp_path / "one"))


def _pair(config: Path, outs: tuple[Path, Path], tmp: Path, extra: tuple[list, list] = ([], [])):
    """Start two processes (their --out and extra options may differ); (exit codes, stderr)."""
    port = _free_port()
    procs = []
    for i in range(2):
        args = _cli(
            "sweep", str(config), "--out", str(outs[i]), "--no-progress",
            "--coordinator", f"127.0.0.1:{port}", "--num-processes", "2", "--process-id", str(i),
            "--timeout", str(TIMEOUT_S), *extra[i],
        )  # fmt: skip
        err = (tmp / f"e{i}.log").open("w")
        procs.append(subprocess.Popen(args, env=_env(), stdout=subprocess.DEVNULL, stderr=err))
    start = time.monotonic()
    codes = [p.wait(timeout=3 * TIMEOUT_S + 60) for p in procs]
    return codes, [(tmp / f"e{i}.log").read_text() for i in range(2)], time.monotonic() - start


def _one_line(text: str) -> str:
    lines = [x for x in text.strip().splitlines() if x.startswith("simcollapse")]
    assert len(lines) == 1, text
    return lines[0]


@pytest.mark.slow  # two processes joined by jax.distributed
def test_processes_with_different_memory_budgets_refuse_to_start(tmp_path: Path) -> None:
    config = tmp_path / "sweep.toml"
    config.write_text(SPEC)
    out = tmp_path / "out"
    extra = (["--memory-budget", "64MiB"], ["--memory-budget", "32MiB"])
    codes, errs, _ = _pair(config, (out, out), tmp_path, extra)
    assert codes == [2, 2], errs
    for err in errs:
        assert "--memory-budget" in _one_line(err)
    assert not list(out.glob("sweeps/*/*.parquet"))  # nothing computed


@pytest.mark.slow  # two processes joined by jax.distributed
def test_an_early_failure_stops_the_other_process(tmp_path: Path) -> None:
    config = tmp_path / "sweep.toml"
    config.write_text(SPEC)
    out = tmp_path / "out"
    bad = tmp_path / "missing.toml"
    port = _free_port()
    procs = []
    for i, path in enumerate((config, bad)):
        args = _cli(
            "sweep", str(path), "--out", str(out), "--no-progress", "--coordinator",
            f"127.0.0.1:{port}", "--num-processes", "2", "--process-id", str(i), "--timeout", "5",
        )  # fmt: skip
        procs.append(subprocess.Popen(args, env=_env(), stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, text=True))  # fmt: skip
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [1, 2], results
    assert "process 1 stopped before the sweep started" in _one_line(results[0][1])
    assert "missing.toml" in _one_line(results[1][1])


@pytest.mark.slow  # two processes joined by jax.distributed
def test_processes_without_a_shared_folder_refuse_to_start(tmp_path: Path) -> None:
    config = tmp_path / "sweep.toml"
    config.write_text(SPEC)
    codes, errs, _ = _pair(config, (tmp_path / "a", tmp_path / "b"), tmp_path)
    assert codes == [2, 2], errs
    assert all("process 1 cannot see" in _one_line(e) for e in errs)


@pytest.mark.parametrize(
    "options, match",
    [(["--coordinator", "localhost"], "--coordinator must be host:port"),
     (["--coordinator", "localhost:0"], "--coordinator must be host:port"),
     (["--coordinator", "localhost:1234", "--timeout", "-1"], "--timeout must be at least 1")],
)  # fmt: skip
def test_bad_distributed_options_are_one_line(
    tmp_path: Path, capsys, options: list, match: str
) -> None:
    from simcollapse.cli import main

    config = tmp_path / "sweep.toml"
    config.write_text(SPEC)
    args = ["sweep", str(config), "--out", str(tmp_path), "--num-processes", "2", *options]
    assert main(args) == 2  # refused before jax.distributed is touched
    assert match in _one_line(capsys.readouterr().err)


@pytest.mark.slow
def test_a_peer_that_never_joins_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "sweep.toml"
    config.write_text(SPEC)
    args = _cli(
        "sweep", str(config), "--out", str(tmp_path), "--no-progress", "--coordinator",
        f"127.0.0.1:{_free_port()}", "--num-processes", "2", "--process-id", "0", "--timeout", "5",
    )  # fmt: skip
    done = subprocess.run(args, env=_env(), capture_output=True, text=True, timeout=180)
    assert done.returncode == 1 and "could not join" in _one_line(done.stderr), done.stderr


@pytest.mark.slow
def test_losing_process_0_is_one_line_and_a_rerun_completes(tmp_path: Path) -> None:
    config = tmp_path / "long.toml"
    config.write_text(LONG)
    out = tmp_path / "two"
    port = _free_port()
    procs = [_start(config, out, port, i, tmp_path / f"p{i}.log") for i in range(2)]
    deadline = time.monotonic() + 240
    while not list(out.glob("sweeps/*/simulate-*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.2)
    procs[0].send_signal(signal.SIGKILL)
    code = procs[1].wait(timeout=3 * TIMEOUT_S + 30)
    log = (tmp_path / "p1.log").read_text()
    assert code == 1 and "multi-process run was lost" in _one_line(log), log
    assert "Check failure" not in log and "0x" not in log
    _two_processes(config, out, tmp_path)
    _same(_table(out), _one_process(config, tmp_path / "one"))
