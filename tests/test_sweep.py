"""Sweeps: specs, resumable chunked store, sharding over devices, shared factorisations."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import jax
import numpy as np
import pandas as pd
import pytest

import simcollapse as sc
from simcollapse.simulate import engine
from simcollapse.sweep import SpecError, Sweep, run_sweep
from simcollapse.sweep import run as sweep_run

SPEC_TOML = """
[problem]
family = "power_law"
d = 64
c2 = 0.5
sigma2 = 0.5

[model]
kind = "rp"

[run]
method = "both"
reps = 8
seed = 3

[axes]
n = [40, 100]
m = [30, 90]
lam = [0.0, 1e-2]
p2 = [0.0, 0.1, 0.5]
c2 = [0.2, 0.5]
"""


def small_spec(**kw) -> Sweep:
    base = dict(
        d=48,
        axes={"n": [30, 60, 120], "lam": [0.0, 1e-2], "p2": [0.0, 0.2], "sigma2": [0.5, 1.0]},
        method="both",
        reps=4,
    )
    base.update(kw)
    return Sweep(**base)


def test_toml_spec_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(SPEC_TOML)
    spec = Sweep.from_toml(path)
    assert spec.model == "rp" and spec.size == 2 * 2 * 2 * 2 * 1 * 3
    assert spec.hash == Sweep.from_toml(path).hash
    assert spec.hash != Sweep.from_toml_text(SPEC_TOML.replace("seed = 3", "seed = 4")).hash


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (("c2 = 0.5\n", "c2 = 0.5\nfoo = 1\n"), r":6: unknown key 'problem.foo'"),
        (("p2 = [0.0, 0.1, 0.5]", "p2 = []"), r":20: axis 'p2' is empty"),
        (("p2 = [0.0, 0.1, 0.5]", "p2 = [0.0, 1.5]"), r"axis 'p2' must hold values in \[0, 1\]"),
        (("n = [40, 100]", "n = [0, 100]"), r"axis 'n' must hold values in \[1, inf\)"),
        (("m = [30, 90]", "m = [0.2]"), r"axis 'm' must hold values in \[1, inf\)"),
        (("lam = [0.0, 1e-2]", "lam = [-1.0]"), r"axis 'lam' must hold values in \[0, inf\)"),
        (("[run]", "[runn]"), r"unknown section \[runn\]"),
        (('kind = "rp"', 'kind = "mlp"'), r"model must be 'ridge' or 'rp'"),
        (("d = 64", "d = 64\nd2 = 1"), r"unknown key 'problem.d2'"),
    ],
)
def test_bad_specs_fail_before_computing(tmp_path: Path, edit: tuple[str, str], match: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(SPEC_TOML.replace(*edit))
    with pytest.raises(SpecError, match=match):
        Sweep.from_toml(path)


def test_invalid_toml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[problem]\nd = = 3\n")
    with pytest.raises(SpecError, match=r"invalid TOML.*line 2"):
        Sweep.from_toml(path)


def test_theory_rows_equal_direct_calls() -> None:
    spec = small_spec(
        method="theory",
        axes={
            "n": [30, 60],
            "lam": [0.0, 0.1],
            "p2": [0, 0.3],
            "c2": [0.1, 0.4],
            "sigma2": [0.5, 2.0],
        },
    )
    table = run_sweep(spec)
    assert len(table) == spec.size
    for _, row in table.sample(6, random_state=0).iterrows():
        prob = spec.problem(c2=row.c2, sigma2=row.sigma2)
        direct = sc.settings.get("ridge").theory(prob, n=row.n, lam=row.lam, p2=row.p2)
        np.testing.assert_allclose(row.total, direct.total, rtol=1e-12)
        np.testing.assert_allclose(row.zeta, direct.zeta, rtol=1e-12, atol=1e-300)


def test_interrupted_sweep_resumes_to_the_same_table(tmp_path: Path, monkeypatch) -> None:
    spec = small_spec(
        axes={
            "n": [30, 60, 120],
            "lam": np.geomspace(1e-4, 1, 100),
            "p2": [0.0, 0.2],
            "sigma2": [0.5, 1.0],
        }
    )
    budget = 1 << 20  # small: two theory chunks, then three simulation chunks
    full = run_sweep(spec, memory_budget=budget)
    calls = {"n": 0}
    original = dict(sweep_run.COMPUTE)

    def dying(method):
        def fn(spec, chunk):
            calls["n"] += 1
            if calls["n"] == 3:
                raise KeyboardInterrupt
            return original[method](spec, chunk)

        return fn

    monkeypatch.setattr(sweep_run, "COMPUTE", {k: dying(k) for k in original})
    with pytest.raises(KeyboardInterrupt):
        run_sweep(spec, tmp_path, memory_budget=budget)
    stored = sorted((tmp_path / "sweeps" / spec.hash).glob("*.parquet"))
    assert len(stored) == 2
    monkeypatch.setattr(sweep_run, "COMPUTE", original)
    calls["n"] = 0
    counted = {"n": 0}

    def counting(method):
        def fn(spec, chunk):
            counted["n"] += 1
            return original[method](spec, chunk)

        return fn

    monkeypatch.setattr(sweep_run, "COMPUTE", {k: counting(k) for k in original})
    resumed = run_sweep(spec, tmp_path, memory_budget=budget)
    n_chunks = len(sweep_run.plan(spec, budget))
    assert n_chunks == 5
    assert counted["n"] == n_chunks - 2
    pd.testing.assert_frame_equal(resumed, full)
    counted["n"] = 0
    forced = run_sweep(spec, tmp_path, memory_budget=budget, force=True)
    assert counted["n"] == n_chunks
    pd.testing.assert_frame_equal(forced, full)


def test_changed_spec_gets_a_new_folder(tmp_path: Path) -> None:
    a = small_spec(method="theory")
    b = small_spec(method="theory", c2=0.2)
    assert a.hash != b.hash
    run_sweep(a, tmp_path)
    run_sweep(b, tmp_path)
    assert {p.name for p in (tmp_path / "sweeps").iterdir()} == {a.hash, b.hash}


def test_kill_9_then_rerun_gives_the_uninterrupted_table(tmp_path: Path) -> None:
    config = tmp_path / "k.toml"
    config.write_text(
        textwrap.dedent("""
        [problem]
        d = 100
        [run]
        method = "theory"
        [axes]
        n = {start = 50, stop = 5000, num = 30, scale = "log"}
        lam = {start = 1e-6, stop = 1, num = 10, scale = "log"}
        p2 = [0.0, 0.5]
    """)
    )
    cmd = [
        sys.executable,
        "-m",
        "simcollapse.cli",
        "sweep",
        str(config),
        "--out",
        str(tmp_path / "out"),
        "--memory-budget",
        "200KiB",
        "--no-progress",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    folder = tmp_path / "out" / "sweeps"
    deadline = time.time() + 120
    while time.time() < deadline and len(list(folder.rglob("theory-*.parquet"))) < 3:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(list(folder.rglob("theory-*.parquet")))
    assert done_before >= 3
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    resumed = pd.read_parquet(next((tmp_path / "out").glob("k-*.parquet")))
    spec = Sweep.from_toml(config)
    fresh = run_sweep(spec, memory_budget=200 << 10)
    pd.testing.assert_frame_equal(resumed, fresh)


@pytest.mark.slow
def test_four_devices_give_the_same_table(tmp_path: Path) -> None:
    """The same sweep on 4 (forced host) devices equals the one-device table."""
    config = tmp_path / "s.toml"
    config.write_text(SPEC_TOML)
    script = textwrap.dedent(f"""
        import jax, sys
        from simcollapse.sweep import Sweep, run_sweep
        spec = Sweep.from_toml({str(config)!r})
        table = run_sweep(spec, memory_budget=1 << 20)
        assert jax.device_count() == int(sys.argv[2]), jax.devices()
        table.to_parquet(sys.argv[1])
    """)
    tables = {}
    for ndev in (1, 4):
        env = dict(
            os.environ,
            XLA_FLAGS=f"--xla_force_host_platform_device_count={ndev}",
            JAX_PLATFORMS="cpu",
        )
        out = tmp_path / f"t{ndev}.parquet"
        subprocess.run([sys.executable, "-c", script, str(out), str(ndev)], check=True, env=env)
        tables[ndev] = pd.read_parquet(out)
    one, four = tables[1], tables[4]
    th1, th4 = one[one.method == "theory"], four[four.method == "theory"]
    np.testing.assert_allclose(th4.total, th1.total, rtol=1e-12)
    sim1, sim4 = one[one.method == "simulate"], four[four.method == "simulate"]
    # The same draws on every device count; the sums inside the BLAS may be split differently
    # when XLA hosts four devices, hence equality to rounding rather than to the bit.
    np.testing.assert_allclose(sim4.total, sim1.total, rtol=1e-12)
    np.testing.assert_allclose(sim4.stderr, sim1.stderr, rtol=1e-9)


@pytest.mark.parametrize(("n", "m"), [(80, None), (30, None), (80, 40), (30, 70)])
def test_shared_factorisation_equals_direct_solves(n: int, m: int | None) -> None:
    """One eigendecomposition for all (lam, p2) equals a direct solve per point, 1e-10."""
    prob = sc.Problem.power_law(50, c2=0.4, sigma2=0.3)
    lam = np.array([0.0, 1e-3, 1e-1, 1.0, 0.0, 1e-2])
    p2 = np.array([0.0, 0.1, 0.5, 1.0, 0.3, 0.7])
    n2 = engine.synthetic_rows(n, p2)
    key = jax.random.key(11)
    with jax.enable_x64(True):
        fast = np.asarray(engine.draws(prob, key, lam, n2, n=n, m=m, reps=2, dtype=np.float64))
        for rep in range(2):
            rkey = engine.draw_key(key, n, rep)
            x, eps, delta = (np.asarray(a) for a in engine.draw_data(prob, rkey, n, np.float64))
            proj = (
                None if m is None else np.asarray(engine.draw_projection(rkey, m, 50, np.float64))
            )
            feats = x if proj is None else x @ proj.T
            w1 = np.sqrt(prob.w1_sq)
            for i in range(lam.size):
                synth = np.arange(n) >= n - n2[i]
                y = x @ w1 + eps + synth * (x @ delta)
                if lam[i] == 0:
                    v = np.linalg.lstsq(feats, y, rcond=None)[0]
                else:
                    k = feats.shape[1]
                    v = np.linalg.solve(feats.T @ feats / n + lam[i] * np.eye(k), feats.T @ y / n)
                w = v if proj is None else proj.T @ v
                err = np.sum(prob.eigs * (w - w1) ** 2)
                np.testing.assert_allclose(fast[rep, i, 3], err, rtol=1e-10)
