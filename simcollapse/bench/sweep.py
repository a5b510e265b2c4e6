"""Suite ``sweep``: an end-to-end sweep, from a ``Sweep`` spec to the stored table.

``run_sweep`` computes theory and simulation of ridge over (n, lam, p2) and writes its chunks to a
fresh store in each timed run.
"""

from __future__ import annotations

import tempfile
from typing import Any

import numpy as np

import simcollapse as sc
from simcollapse.bench import _harness as h


def sweep_call(spec: dict[str, Any], root: str) -> tuple[Any, str]:
    """A no-argument callable running one sweep (spec to stored table) into a fresh store."""
    counter = iter(range(1_000_000))
    sweep = sc.Sweep(
        d=spec["d"],
        c2=spec["c2"],
        reps=spec["reps"],
        seed=spec["seed"],
        method="both",
        axes={"n": spec["n"], "lam": spec["lam"], "p2": spec["p2"]},
    )

    def real() -> Any:
        return sc.run_sweep(sweep, f"{root}/{next(counter)}")

    return real, "simcollapse.run_sweep"


def settings(quick: bool) -> dict[str, Any]:
    """The suite's sizes: small at the quick level (CI), larger at the standard one."""
    if quick:
        return {
            "d": 32,
            "n": [64, 128],
            "lam": [1e-3, 1e-1],
            "p2": [0.0, 0.5],
            "reps": 2,
            "c2": 0.5,
            "seed": 0,
            "repeats": 5,
        }
    return {
        "d": 200,
        "n": [100, 400, 1600],
        "lam": list(np.geomspace(1e-4, 1, 8)),
        "p2": list(np.linspace(0, 1, 8)),
        "reps": 8,
        "c2": 0.5,
        "seed": 0,
        "repeats": 5,
    }


def run(quick: bool, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run the suite at the quick or standard level (``overrides`` replace sizes); returns its
    cases for the JSON report, each timed against its NumPy/SciPy baseline."""
    cfg = settings(quick) | (overrides or {})
    spec = {k: cfg[k] for k in ("d", "n", "lam", "p2", "reps", "c2", "seed")}
    points = len(spec["n"]) * len(spec["lam"]) * len(spec["p2"])
    with tempfile.TemporaryDirectory() as root:
        fn, runner = sweep_call(spec, root)
        timing = h.time_call(fn, cfg["repeats"])
    params = {"runner": runner, "points": points, "methods": ["theory", "simulate"]} | spec
    case = h.case(
        "sweep", "ridge_sweep", params, timing, work=float(points), work_unit="grid points"
    )
    return {"settings": cfg, "cases": [case]}
