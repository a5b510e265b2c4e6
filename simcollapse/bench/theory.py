"""Suite ``theory``: ridge and random-projection theory over point grids, against a SciPy loop.

Cases per d: (a) ``ridge_shared``: an (n, lam, p2) grid with 10 p2 values, so the fixed points
are shared across p2; (b) ``ridge_distinct`` and (c) ``rp_distinct``: a different (n, lam)
(and m) at every point, one fixed point each. Throughput in points per second; the baseline is
the SciPy brentq loop of ``simcollapse.bench.baselines`` on a subset of the same points, reported
per point and scaled to the same number of points for the ratio.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import simcollapse as sc
from simcollapse._aliases import seed_keyword
from simcollapse.bench import _harness as h
from simcollapse.bench import baselines
from simcollapse.keys import as_seed

P2_VALUES = 10


def problem(d: int) -> sc.Problem:
    """The benchmark problem: power-law spectrum (alpha 1.5, source 1.5), c^2 = 0.5."""
    return sc.Problem.power_law(d, alpha=1.5, source=1.5, c2=0.5, sigma2=0.5)


@seed_keyword
def points(d: int, size: int, kind: str, key: Any = 0) -> dict[str, np.ndarray]:
    """Flat points: n in [d/10, 10 d], lam in [1e-4, 1] (log-uniform), p2, m in [d/10, 10 d].

    ``key``: an int or a ``jax.random`` key (NumPy draws, seeded by ``keys.as_seed(key)``).
    """
    rng = np.random.default_rng(as_seed(key))
    if kind == "shared":
        side = max(2, int(round(np.sqrt(size / P2_VALUES))))
        n = np.geomspace(d / 10, 10 * d, side)
        lam = np.geomspace(1e-4, 1.0, side)
        p2 = np.linspace(0.0, 1.0, P2_VALUES)
        grid = np.meshgrid(n, lam, p2, indexing="ij")
        return {
            "n": grid[0].ravel(),
            "lam": grid[1].ravel(),
            "p2": grid[2].ravel(),
            "shape": (side, side, P2_VALUES),
        }
    return {
        "n": rng.uniform(d / 10, 10 * d, size),
        "m": rng.uniform(d / 10, 10 * d, size),
        "lam": 10 ** rng.uniform(-4, 0, size),
        "p2": rng.uniform(0, 1, size),
    }


# Each case: its name in the report, the setting it times and its public theory function
# (called with the setting's axes, in declared order).
CASES = {
    "shared": ("ridge_shared", "ridge", sc.theory.ridge_error),
    "ridge": ("ridge_distinct", "ridge", sc.theory.ridge_error),
    "rp": ("rp_distinct", "random_projection", sc.theory.rp_error),
}


def case_setting(kind: str) -> sc.settings.Setting:
    """The setting a case times."""
    return sc.settings.get(CASES[kind][1])


def project_call(prob: sc.Problem, pts: dict[str, np.ndarray], kind: str) -> Any:
    """A no-argument callable running the public theory function on ``pts`` (float64)."""
    fn = CASES[kind][2]
    if "shape" in pts:  # the shared grid: the (n, lam) plane against every p2
        n = pts["n"].reshape(pts["shape"])[:, :, :1]
        lam = pts["lam"].reshape(pts["shape"])[:, :, :1]
        p2 = pts["p2"].reshape(pts["shape"])[0, 0, :]
        return lambda: fn(prob, n, lam, p2, throw=False)
    args = [pts[k] for k in case_setting(kind).axes]
    return lambda: fn(prob, *args, throw=False)


def subset(pts: dict[str, np.ndarray], size: int) -> dict[str, np.ndarray]:
    """An evenly spaced subset of ``size`` points (the baseline's share)."""
    total = pts["n"].size
    idx = np.linspace(0, total - 1, min(size, total)).astype(int)
    return {k: v[idx] for k, v in pts.items() if k != "shape"}


def run_case(d: int, size: int, kind: str, repeats: int, baseline_points: int) -> dict[str, Any]:
    """One theory case: ``size`` points of ``kind`` against the SciPy brentq loop over
    ``baseline_points`` of them (the ratio is per point)."""
    prob = problem(d)
    pts = points(d, size, kind)
    work = float(pts["n"].size)
    fn = project_call(prob, pts, kind)
    timing = h.time_call(fn, repeats)
    model = case_setting(kind).name
    sub = subset(pts, baseline_points)
    base = h.time_call(
        h.with_blas_threads(lambda: baselines.theory_loop(prob, sub, model)),
        max(1, repeats // 2 + 1),
        warmup=False,
    )
    base |= {
        "what": f"scipy.optimize.brentq loop, {model}, {sub['n'].size} points",
        "work": float(sub["n"].size),
        "blas_threads": h.BASELINE_BLAS_THREADS,
    }
    name = CASES[kind][0]
    return h.case(
        "theory",
        name,
        {
            "d": d,
            "points": int(work),
            "fixed_points": int(work / P2_VALUES) if kind == "shared" else int(work),
            "dtype": "float64",
        },
        timing,
        work=work,
        work_unit="points",
        baseline=base,
    )


def settings(quick: bool) -> dict[str, Any]:
    """The suite's sizes: small at the quick level (CI), larger at the standard one."""
    if quick:
        return {
            "d": [50],
            "sizes": [200],
            "repeats": 5,
            "baseline_points": 20,
            "kinds": ["shared", "ridge", "rp"],
        }
    return {
        "d": [100, 1000, 10000],
        "sizes": [1000, 10_000, 100_000, 1_000_000],
        "max_elements": 2e9,
        "repeats": 5,
        "baseline_points": 200,
        "kinds": ["shared", "ridge", "rp"],
    }


def run(quick: bool, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run the suite; returns {"settings": ..., "cases": [...]}."""
    cfg = settings(quick) | (overrides or {})
    cases = []
    for d in cfg["d"]:
        for size in cfg["sizes"]:
            if size * d > cfg.get("max_elements", np.inf):
                continue
            for kind in cfg["kinds"]:
                wide = "m" in case_setting(kind).axes  # a width m: four times the memory
                if wide and size * d > cfg.get("max_elements", np.inf) / 4:
                    continue
                bp = max(5, min(cfg["baseline_points"], int(2e7 / d)))
                cases.append(run_case(d, size, kind, cfg["repeats"], bp))
    return {"settings": cfg, "cases": cases}
