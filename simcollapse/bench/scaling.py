"""Suite ``scaling``: time against grid size and against d, with fitted log-log slopes.

Theory (distinct fixed point per point) over grid sizes at fixed d, and over d at a fixed grid
size; Monte Carlo ridge over d (n = 4d, a fixed (lam, p2) slice). Each series gets the slope of
log(median time) against log(size): about 1 means linear cost; below 1 at small sizes means
fixed overheads still dominate.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

import simcollapse as sc
from simcollapse.bench import _harness as h
from simcollapse.bench import theory as th


def slope(x: list[float], y: list[float]) -> float | None:
    """Least-squares slope of log y against log x (None with fewer than two points)."""
    if len(x) < 2:
        return None
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def settings(quick: bool) -> dict[str, Any]:
    """The suite's sizes: small at the quick level (CI), larger at the standard one."""
    if quick:
        # Shapes shared with the quick theory and simulate suites: their compiles are reused.
        return {
            "theory_d": 50,
            "theory_sizes": [200, 400],
            "theory_points": 200,
            "theory_ds": [20, 50],
            "sim_ds": [16, 32],
            "sim_reps": 2,
            "repeats": 5,
        }
    return {
        "theory_d": 1000,
        "theory_sizes": [1000, 10_000, 100_000, 1_000_000],
        "theory_points": 10_000,
        "theory_ds": [100, 300, 1000, 3000, 10_000],
        "sim_ds": [64, 128, 256, 512],
        "sim_reps": 8,
        "repeats": 5,
    }


def run(quick: bool, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run the suite at the quick or standard level (``overrides`` replace sizes); returns its
    series for the JSON report, each with its fitted log-log slope."""
    cfg = settings(quick) | (overrides or {})
    cases: list[dict[str, Any]] = []
    series: dict[str, dict[str, Any]] = {}

    def theory_case(d: int, size: int, series_name: str) -> dict[str, Any]:
        prob = th.problem(d)
        fn = th.project_call(prob, th.points(d, size, "ridge"), "ridge")
        with jax.enable_x64(True):
            t = h.time_call(fn, cfg["repeats"])
        return h.case(
            "scaling",
            series_name,
            {"d": d, "points": size},
            t,
            work=float(size),
            work_unit="points",
        )

    for size in cfg["theory_sizes"]:
        cases.append(theory_case(cfg["theory_d"], size, "theory_vs_points"))
    for d in cfg["theory_ds"]:
        cases.append(theory_case(d, cfg["theory_points"], "theory_vs_d"))
    lam = np.geomspace(1e-4, 1, 4)[:, None]
    p2 = np.linspace(0, 1, 4)[None, :]
    reps = cfg["sim_reps"]
    for d in cfg["sim_ds"]:
        prob = sc.Problem.power_law(d, alpha=1.5, source=1.5, c2=0.5, sigma2=0.5)
        t = h.time_call(
            lambda prob=prob, d=d: (
                sc.simulate.ridge_error(prob, 4 * d, lam, p2, 0, reps, estimator="plain").total
            ),
            cfg["repeats"],
        )
        cases.append(
            h.case(
                "scaling",
                "simulate_vs_d",
                {"d": d, "n": 4 * d, "reps": reps, "points": 16},
                t,
                work=reps * 16.0,
                work_unit="draw-points",
            )
        )
    for name, key in (("theory_vs_points", "points"), ("theory_vs_d", "d"), ("simulate_vs_d", "d")):
        sel = [c for c in cases if c["name"] == name]
        xs = [float(c["params"][key]) for c in sel]
        ys = [c["median_s"] for c in sel]
        series[name] = {"x": key, "values": xs, "median_s": ys, "loglog_slope": slope(xs, ys)}
    return {"settings": cfg, "cases": cases, "series": series}
