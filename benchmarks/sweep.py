"""Suite ``sweep``: an end-to-end sweep, from a spec to the stored table, timed.

HOOK(run_sweep): the lead is building ``simcollapse.run_sweep(spec, store)``. Until it exists
this suite runs ``local_sweep``, a small stand-in with the same shape of work (theory and
simulation over a grid, a tidy DataFrame, one parquet file in a ``ResultStore``). When
``simcollapse.run_sweep`` and ``simcollapse.Sweep`` are importable, ``sweep_call`` uses them
instead; the case's ``params["runner"]`` records which one ran.
"""

from __future__ import annotations

import tempfile
from typing import Any

import numpy as np
import pandas as pd

import simcollapse as sc
from benchmarks import _harness as h
from simcollapse.store import ResultStore


def local_sweep(spec: dict[str, Any], store: ResultStore) -> pd.DataFrame:
    """Stand-in for ``run_sweep``: theory and simulation of ridge over (n, lam, p2), stored."""
    prob = sc.Problem.power_law(spec["d"], alpha=1.5, source=1.5, c2=spec["c2"], sigma2=0.5)
    n = np.asarray(spec["n"], float)[:, None, None]
    lam = np.asarray(spec["lam"], float)[None, :, None]
    p2 = np.asarray(spec["p2"], float)[None, None, :]
    grid = np.broadcast_arrays(n, lam, p2)
    axes = {"n": grid[0].ravel(), "lam": grid[1].ravel(), "p2": grid[2].ravel()}
    tables = []
    theory = sc.theory.ridge_error(prob, n, lam, p2, throw=False)
    tables.append(pd.DataFrame(axes | theory.to_dict() | {"method": "theory"}))
    sim = sc.simulate.ridge_error(prob, n.astype(int), lam, p2, spec["seed"], spec["reps"])
    tables.append(pd.DataFrame(axes | sim.to_dict() | {"method": "simulate"}))
    table = pd.concat(tables, ignore_index=True)
    store.save("bench-sweep", spec, table)
    return table


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
