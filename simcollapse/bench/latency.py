"""Suite ``latency``: what a notebook user waits for, against the SciPy/NumPy loop.

Each repeat runs one fresh Python process (no persistent compilation cache), which times
``import simcollapse``, README's "ten lines" example (two 7-point ridge curves at d = 300), then
for theory (ridge and random projections) and simulation (ridge) a first call on a small grid,
a second call at a new grid size, and a call at a size already seen. The baseline is the plain
SciPy loop (theory, ``baselines.theory_loop``) or NumPy loop (simulation,
``baselines.simulate_loop``) on the same small grids, timed in this process. The simulation
uses the plain estimator, the work the NumPy loop does.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from typing import Any

import numpy as np

from simcollapse.bench import _harness as h
from simcollapse.bench import baselines

PROBE = r"""
import json, sys, time
t0 = time.perf_counter()
import numpy as np
import simcollapse as sc
out = {"import": time.perf_counter() - t0}
cfg = json.loads(sys.argv[1])

def timed(fn):
    t = time.perf_counter(); fn(); return time.perf_counter() - t

def readme():
    problem = sc.Problem.power_law(d=300, alpha=1.5, source=1.5, c2=0.5, sigma2=1.0)
    n = np.geomspace(1e3, 1e9, 7)
    sc.theory.ridge_error(problem, n, lam=0.0, p2=0.0)
    sc.theory.ridge_error(problem, n, lam=0.0, p2=0.01)

out["readme"] = timed(readme)
d, sizes = cfg["d"], cfg["sizes"]
prob = sc.Problem.power_law(d, alpha=1.5, source=1.5, c2=0.5, sigma2=0.5)
calls = {
    "ridge": lambda n: sc.theory.ridge_error(prob, n, 1e-3, 0.2),
    "rp": lambda n: sc.theory.rp_error(prob, n, d / 2, 1e-3, 0.2),
}
for name, theory_call in calls.items():
    for tag, size in zip(("first", "new_size", "seen_size"), (sizes[0], sizes[1], sizes[0])):
        n = np.geomspace(d / 2, 20 * d, size)
        out[f"theory_{name}_{tag}"] = timed(lambda: theory_call(n))
sd, sn, reps = cfg["sim_d"], cfg["sim_n"], cfg["reps"]
sprob = sc.Problem.power_law(sd, alpha=1.5, source=1.5, c2=0.5, sigma2=0.5)
for tag, size in zip(("first", "new_size", "seen_size"), cfg["sim_lams"]):
    lam = np.geomspace(1e-3, 1e-1, size)
    out[f"simulate_ridge_{tag}"] = timed(
        lambda: sc.simulate.ridge_error(sprob, sn, lam, 0.2, key=0, reps=reps,
                                        estimator="plain"))
print(json.dumps(out))
"""


# The standard level's sizes; the quick level (CI) shrinks the problem and the repetitions.
STANDARD = {
    "d": 300,
    "sizes": [7, 13],
    "sim_d": 100,
    "sim_n": 400,
    "sim_lams": [1, 3, 1],
    "reps": 16,
    "repeats": 5,
}
QUICK = STANDARD | {"d": 50, "sim_d": 20, "sim_n": 80, "reps": 4, "repeats": 3}


def settings(quick: bool) -> dict[str, Any]:
    """The suite's sizes: small at the quick level (CI), larger at the standard one."""
    return dict(QUICK if quick else STANDARD)


def probe(cfg: dict[str, Any]) -> dict[str, float]:
    """One fresh process's timings (seconds), without a persistent compilation cache."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_COMPILATION_CACHE")}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(cfg)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"latency probe failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def stats(times: list[float]) -> dict[str, Any]:
    """Median, minimum and maximum of repeated wall times (``times_s`` kept)."""
    return {
        "compile_s": None,
        "times_s": times,
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
    }


def theory_baseline(cfg: dict[str, Any], model: str, size: int) -> dict[str, Any]:
    """The SciPy baseline of the theory latency: a brentq loop over ``size`` points."""
    from simcollapse.bench.theory import problem  # noqa: PLC0415 - each suite loads when it runs

    d = cfg["d"]
    n = np.geomspace(d / 2, 20 * d, size)
    pts = {"n": n, "lam": np.full(size, 1e-3), "p2": np.full(size, 0.2), "m": np.full(size, d / 2)}
    fn = h.with_blas_threads(lambda: baselines.theory_loop(problem(d), pts, model))
    what = f"scipy.optimize.brentq loop, {model}, {size} points"
    return h.time_call(fn, cfg["repeats"], warmup=False) | {"what": what, "work": 1.0}


def simulate_baseline(cfg: dict[str, Any], size: int) -> dict[str, Any]:
    """The NumPy baseline of the simulation latency: a loop of draws over ``size`` points."""
    from simcollapse.bench.simulate import problem  # noqa: PLC0415 - each suite loads when it runs

    lam = np.geomspace(1e-3, 1e-1, size)
    n2 = np.full(size, int(np.floor(0.2 * cfg["sim_n"] + 0.5)))
    fn = h.with_blas_threads(
        lambda: baselines.simulate_loop(problem(cfg["sim_d"]), cfg["sim_n"], lam, n2, cfg["reps"])
    )
    what = f"numpy loop, {cfg['reps']} draws x {size} points"
    return h.time_call(fn, cfg["repeats"], warmup=False) | {"what": what, "work": 1.0}


def run(quick: bool, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run the suite at the quick or standard level (``overrides`` replace sizes); returns its
    cases for the JSON report, each timed against its NumPy/SciPy baseline."""
    cfg = settings(quick) | (overrides or {})
    runs = [probe(cfg) for _ in range(cfg["repeats"])]
    cases = []
    for key in ("import", "readme"):
        timing = stats([r[key] for r in runs])
        cases.append(
            h.case("latency", key, {"process": "fresh"}, timing, work=1.0, work_unit="calls")
        )
    tags = ("first", "new_size", "seen_size")
    sizes = dict(zip(tags, (*cfg["sizes"], cfg["sizes"][0]), strict=True))
    sim_sizes = dict(zip(tags, cfg["sim_lams"], strict=True))
    for name in ("theory_ridge", "theory_rp", "simulate_ridge"):
        for tag in ("first", "new_size", "seen_size"):
            timing = stats([r[f"{name}_{tag}"] for r in runs])
            if name == "simulate_ridge":
                base = simulate_baseline(cfg, sim_sizes[tag])
                params = {
                    "d": cfg["sim_d"],
                    "n": cfg["sim_n"],
                    "points": sim_sizes[tag],
                    "reps": cfg["reps"],
                }
            else:
                base = theory_baseline(cfg, name.split("_")[1], sizes[tag])
                params = {"d": cfg["d"], "points": sizes[tag]}
            cases.append(
                h.case(
                    "latency",
                    f"{name}_{tag}",
                    params,
                    timing,
                    work=1.0,
                    work_unit="calls",
                    baseline=base,
                )
            )
    return {"settings": cfg, "cases": cases}
