"""Benchmarks: ``bench --quick`` writes schema-valid JSON; baselines do equal work."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import simcollapse as sc
from simcollapse.bench import _harness as h
from simcollapse.bench import baselines, report
from simcollapse.bench import simulate as sim_suite
from simcollapse.bench import theory as theory_suite
from simcollapse.bench.cli import run_suite
from simcollapse.simulate import engine

ROOT = Path(__file__).resolve().parents[1]


class _AnyPath(str):
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and other.endswith(".json")

    __hash__ = str.__hash__


ANY_PATH = _AnyPath()
MACHINE_FIELDS = (
    "cpu_model",
    "cpu_cores_logical",
    "memory_bytes",
    "backend",
    "device_kind",
    "device_count",
    "jax_version",
    "jaxlib_version",
    "blas",
    "openblas_env",
    "load_average",
)


@pytest.fixture(scope="module")
def quick_result(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One ``python -m simcollapse.bench --quick`` run (the command ``simcollapse bench`` wraps)."""
    out = tmp_path_factory.mktemp("bench") / "quick.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [sys.executable, "-m", "simcollapse.bench", "--quick", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text())


def test_quick_json_follows_schema(quick_result: dict) -> None:
    r = quick_result
    assert r["schema_version"] == h.SCHEMA_VERSION and r["level"] == "quick"
    assert r["command"] == ["python", "-m", "simcollapse.bench", "--quick", "--out", ANY_PATH]
    for field in MACHINE_FIELDS:
        assert field in r["machine"], field
    assert set(r["suites"]) == {"peak", "theory", "simulate", "sweep", "scaling"}
    assert all(s["status"] == "ok" for s in r["suites"].values())
    assert {c["suite"] for c in r["cases"]} == set(r["suites"])
    assert "float64" in r["peak_gflops"]
    for c in r["cases"]:
        assert set(h.CASE_FIELDS) <= set(c), set(h.CASE_FIELDS) - set(c)
        assert len(c["times_s"]) >= 5 and all(t > 0 for t in c["times_s"])
        assert c["min_s"] <= c["median_s"] <= c["max_s"]
        assert c["median_s"] == pytest.approx(float(np.median(c["times_s"])))
        assert c["compile_s"] > 0 and c["throughput"] > 0 and c["peak_memory_bytes"] > 0
        if c["baseline"] is not None:
            b = c["baseline"]
            assert all(t > 0 for t in b["times_s"])
            assert c["ratio"] == pytest.approx(b["median_s_same_work"] / c["median_s"])
            assert b["median_s_same_work"] == pytest.approx(b["median_s"] / b["work"] * c["work"])
        if c["flops"] is not None:
            assert c["gflops"] > 0 and c["fraction_of_peak"] > 0
    names = {(c["suite"], c["name"]) for c in r["cases"]}
    for need in [
        ("theory", "ridge_shared"),
        ("theory", "ridge_distinct"),
        ("theory", "rp_distinct"),
        ("simulate", "ridge_slice"),
        ("simulate", "factorise"),
        ("peak", "matmul"),
        ("peak", "eigh"),
        ("sweep", "ridge_sweep"),
    ]:
        assert need in names
    assert r["suites"]["scaling"]["series"]["theory_vs_points"]["loglog_slope"] is not None


def test_compare_table_and_plot(quick_result: dict, tmp_path: Path) -> None:
    table = report.compare_table(quick_result, quick_result)
    assert "B_speedup" in table and "ridge_slice" in table
    report.plot_throughput([quick_result], str(tmp_path / "t.png"))
    assert (tmp_path / "t.png").stat().st_size > 0


def test_missing_suite_module_is_skipped() -> None:
    from simcollapse.bench import SUITES

    SUITES["nope"] = "simcollapse.bench.does_not_exist"
    try:
        assert run_suite("nope", "quick")["status"] == "skipped"
    finally:
        del SUITES["nope"]


@pytest.mark.parametrize("kind", ["shared", "ridge", "rp"])
def test_theory_baseline_computes_the_same_numbers(kind: str) -> None:
    d = 80
    prob = theory_suite.problem(d)
    pts = theory_suite.subset(theory_suite.points(d, 400, kind), 25)
    model = "rp" if kind == "rp" else "ridge"
    base = baselines.theory_loop(prob, pts, model)
    if model == "ridge":
        ours = sc.theory.ridge_error(prob, pts["n"], pts["lam"], pts["p2"])
    else:
        ours = sc.theory.rp_error(prob, pts["n"], pts["m"], pts["lam"], pts["p2"])
    for j, f in enumerate(("bias", "variance", "zeta", "total")):
        np.testing.assert_allclose(base[:, j], getattr(ours, f), rtol=1e-10, atol=1e-15)


def test_simulate_baseline_computes_the_same_numbers() -> None:
    """The NumPy loop on the engine's own draws gives the engine's per-draw test errors."""
    d, n, reps = 24, 96, 2
    prob = sim_suite.problem(d)
    lam, p2 = sim_suite.slice_axes(4)
    lam_f = np.repeat(lam, p2.size)
    n2 = engine.synthetic_rows(n, np.tile(p2, lam.size))
    key = jax.random.key(0)
    with jax.enable_x64(True):
        ours = np.asarray(
            engine.draws(
                prob,
                key,
                jnp.asarray(lam_f),
                jnp.asarray(n2),
                n=n,
                m=None,
                reps=reps,
                dtype=np.float64,
            )
        )[..., 3]
        data = [
            tuple(
                np.asarray(a)
                for a in engine.draw_data(prob, engine.draw_key(key, n, r), n, np.float64)
            )
            for r in range(reps)
        ]
    base = baselines.simulate_loop(prob, n, lam_f, n2, reps, data=data)
    np.testing.assert_allclose(base, ours, rtol=1e-9)


@pytest.mark.slow
def test_latency_suite_times_fresh_processes() -> None:
    from simcollapse.bench import latency

    out = latency.run(True, {"repeats": 1})
    names = {c["name"] for c in out["cases"]}
    assert {"import", "readme", "theory_ridge_seen_size", "simulate_ridge_first"} <= names
    for c in out["cases"]:
        assert c["median_s"] > 0 and c["times_s"]
        if c["name"] not in ("import", "readme"):
            assert c["baseline"]["median_s"] > 0 and c["ratio"] > 0


def test_import_does_not_load_the_benchmarks() -> None:
    code = "import sys, simcollapse; print(any('simcollapse.bench' in m for m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.stdout.strip() == "False", proc.stderr[-2000:]


@pytest.mark.slow
def test_accelerator_suite_runs_at_reduced_sizes_on_cpu(tmp_path: Path) -> None:
    from simcollapse.bench import accelerator

    out = accelerator.run(True, {"lm_sizes": ["nano"], "mnist_widths": [64]})
    assert out["settings"]["reduced"]
    suites = {c["suite"] for c in out["cases"]}
    assert suites == {"peak", "theory", "simulate", "mnist", "lm"}
    dtypes = {c["params"].get("dtype") for c in out["cases"] if c["name"] == "factorise"}
    assert dtypes == {"float32", "float64"}
    result = {
        "cases": out["cases"],
        "created": "now",
        "command": ["x"],
        "machine": {
            "device_kind": "cpu",
            "backend": "cpu",
            "device_count": 1,
            "load_average": [0.5],
        },
    }
    table = report.markdown_table(result)
    assert table.count("\n| ") == len(out["cases"]) + 1  # header plus one row per case


def test_cli_version_names_the_cache_and_bench_parses_its_own_options(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT), SIMCOLLAPSE_XLA_CACHE=str(tmp_path / "xla"))
    run = [sys.executable, "-m", "simcollapse.cli"]
    version = subprocess.run([*run, "--version"], capture_output=True, text=True, env=env)
    assert str(tmp_path / "xla") in version.stdout
    helped = subprocess.run([*run, "bench", "--help"], capture_output=True, text=True, env=env)
    assert "--suite" in helped.stdout and "issue" not in helped.stdout
    bad = subprocess.run([*run, "theory", "--nope"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "--nope" in bad.stderr


def test_students_suite_runs_both_cases_and_their_students_agree() -> None:
    from simcollapse.bench import students

    tiny = {"students": 2, "lm_steps": 4, "lm_context": 32, "repeats": 1,
            "two_layer": {"n": 64, "width": 8, "epochs": 3}}  # fmt: skip
    out = students.run(True, tiny)
    cases = {c["name"]: c for c in out["cases"]}
    assert set(cases) == {"lm", "two_layer"}
    for c in cases.values():
        assert c["baseline"]["median_s"] > 0 and c["ratio"] > 0
        assert max(c["agreement"].values()) < 1e-3
        assert min(c["split"].values()) > 0
