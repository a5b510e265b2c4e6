"""Suite ``simulate``: Monte Carlo ridge and random projections over a (lam, p2) slice.

Cases per d in ``d`` (n = 4d): ``ridge_slice`` (16 x 16 lam x p2, ``reps`` draws) against the
plain NumPy loop of ``simcollapse.bench.baselines`` (one X'X per draw, one solve per point; run
on a subset of draws/points at large d and scaled per (draw, point), which its ``what`` says),
``rp_slice`` (width m = d/2, no baseline), and ``factorise``: the Gram and its
eigendecomposition alone for the same draws, with flops counted (2 n d^2 + 9 d^3 per draw) for
the fraction of the matmul peak, against NumPy's own draw + X'X + ``numpy.linalg.eigh`` per
draw (its ``ratio``: NumPy time / ours; the goal at d = 4096 is ours at most 1.1 times NumPy's,
a ratio >= 0.91). ``sim_over_factorise`` in the ridge case's params is the
simulation's time over that of its factorisations. At each d in ``factorise_d`` (the full
level: d = 4096, n = 16384) only ``factorise`` runs; its fraction of the matmul peak refers to
the peak measured in the same run (the ``peak`` suite, else one matmul measured apart). Then
the cases of ``montecarlo`` (few points per draw; time to a 1% relative standard error per
estimator) unless ``few_points`` is False. The slices use the plain estimator, the work the
NumPy loop does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import numpy as np

import simcollapse as sc
from simcollapse.bench import _harness as h
from simcollapse.bench import baselines, montecarlo
from simcollapse.simulate import engine
from simcollapse.simulate.lapack_threads import lapack_threads


def problem(d: int) -> sc.Problem:
    """The benchmark problem: power-law spectrum (alpha 1.5, source 1.5), c^2 = 0.5."""
    return sc.Problem.power_law(d, alpha=1.5, source=1.5, c2=0.5, sigma2=0.5)


def slice_axes(side: int) -> tuple[np.ndarray, np.ndarray]:
    """lam in [1e-4, 1] (log) and p2 in [0, 1]: ``side`` values each."""
    return np.geomspace(1e-4, 1.0, side), np.linspace(0.0, 1.0, side)


def settings(quick: bool) -> dict[str, Any]:
    """The suite's sizes: small at the quick level (CI), larger at the standard one."""
    if quick:
        return {
            "d": [32],
            "side": 4,
            "reps": 2,
            "repeats": 5,
            "dtype": "float64",
            "baseline_max_solves": 64,
        }
    return {
        "d": [256, 1024],
        "factorise_d": [4096],
        "numpy_factorise_reps": 2,
        "side": 16,
        "reps": 8,
        "repeats": 5,
        "dtype": "float64",
        "baseline_max_solves": 2048,
    }


def factorise_call(prob: sc.Problem, n: int, reps: int, dtype: Any) -> Any:
    """Draws and the engine's factorisation alone (``engine.factorise``: the Gram and its
    eigendecomposition) for ``reps`` draws, with the simulation's LAPACK thread rule
    (``simulate.lapack_threads``)."""
    scale = np.sqrt(prob.eigs).astype(dtype)
    d = scale.size

    @jax.jit
    def fact(key: jax.Array) -> Any:
        def one(k: jax.Array) -> Any:
            x = jax.random.normal(k, (n, d), dtype) * scale
            return engine.factorise(x)[:2]

        return jax.lax.map(one, jax.random.split(key, reps))

    key = jax.random.key(0)

    def call() -> Any:
        with lapack_threads(d):
            return jax.block_until_ready(fact(key))

    return call


def run(quick: bool, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run the suite at the quick or standard level (``overrides`` replace sizes); returns its
    cases for the JSON report, each timed against its NumPy/SciPy baseline."""
    cfg = settings(quick) | (overrides or {})
    cases: list[dict[str, Any]] = []
    for d in cfg["d"]:
        cases.extend(run_d(d, cfg))
    for d in cfg.get("factorise_d", []):
        cases.append(factorise_case(d, cfg))
    if cfg.get("few_points", True):
        cases.extend(montecarlo.run_cases(quick))
    return {"settings": cfg, "cases": cases}


def common_params(d: int, cfg: dict[str, Any]) -> dict[str, Any]:
    """The parameters every simulation case reports: d, n = 4 d, reps, the lam x p2 slice, dtype."""
    lam, p2 = slice_axes(cfg["side"])
    return {
        "d": d,
        "n": 4 * d,
        "reps": cfg["reps"],
        "lam x p2": [lam.size, p2.size],
        "dtype": cfg["dtype"],
    }


def factorise_case(d: int, cfg: dict[str, Any]) -> dict[str, Any]:
    """Draws, Gram and eigendecomposition alone at d (n = 4d), flops counted for the peak."""
    dtype = np.float64 if cfg["dtype"] == "float64" else np.float32
    n, reps = 4 * d, cfg["reps"]
    with jax.enable_x64(cfg["dtype"] == "float64"):
        fact = h.time_call(factorise_call(problem(d), n, reps, dtype), cfg["repeats"])
    flops = reps * (2.0 * n * d * d + 9.0 * d**3)
    base_reps = max(1, min(reps, cfg.get("numpy_factorise_reps", reps)))
    base = h.time_call(numpy_factorise_call(problem(d), n, base_reps, dtype), 1)
    base |= {"what": f"NumPy draw + X'X + numpy.linalg.eigh, {base_reps} draw(s), its own BLAS "
             "threads", "work": float(base_reps), "blas_threads": None}  # fmt: skip
    return h.case(
        "simulate", "factorise", common_params(d, cfg), fact, work=float(reps),
        work_unit="draws", flops=flops, baseline=base,
    )  # fmt: skip


def numpy_factorise_call(prob: sc.Problem, n: int, reps: int, dtype: Any) -> Any:
    """NumPy's own draw + Gram + eigendecomposition for ``reps`` draws: the time per draw the
    simulation's factorisation is held to (goal: at most 1.1 times it, ``ratio`` >= 0.91)."""
    scale = np.sqrt(prob.eigs).astype(dtype)
    d = scale.size

    def call() -> Any:
        rng = np.random.default_rng(0)
        out = None
        for _ in range(reps):
            x = rng.standard_normal((n, d), dtype=dtype) * scale
            out = np.linalg.eigh(x.T @ x / n)
        return out

    return call


def slice_call(
    prob: sc.Problem,
    n: int,
    lam: np.ndarray,
    p2: np.ndarray,
    reps: int,
    dtype: str,
    m: int | None = None,
) -> Callable[[], Any]:
    """The Monte Carlo slice, ``reps`` draws at every (lam, p2), plain estimator: ridge, or
    random projections of width ``m``."""
    if m is None:
        return lambda: (
            sc.simulate.ridge_error(
                prob, n, lam[:, None], p2[None, :], 0, reps, dtype=dtype, estimator="plain"
            ).total
        )
    return lambda: (
        sc.simulate.rp_error(
            prob, n, m, lam[:, None], p2[None, :], 0, reps, dtype=dtype, estimator="plain"
        ).total
    )


def baseline_timing(
    prob: sc.Problem, n: int, lam: np.ndarray, p2: np.ndarray, cfg: dict[str, Any]
) -> dict[str, Any]:
    """The NumPy loop's timing of the ridge slice: all draws and points when the solves fit
    ``baseline_max_solves``, else a subset (its ``what`` says so; scaled per (draw, point))."""
    reps = cfg["reps"]
    points = lam.size * p2.size
    base_reps = max(1, min(reps, cfg["baseline_max_solves"] // points))
    base_pts = min(points, max(1, cfg["baseline_max_solves"] // base_reps))
    lam_f = np.repeat(lam, p2.size)[:: max(1, points // base_pts)][:base_pts]
    n2_all = np.floor(np.tile(p2, lam.size) * n + 0.5).astype(int)  # round(p2 n), halves up
    n2_f = n2_all[:: max(1, points // base_pts)][:base_pts]
    base = h.time_call(
        h.with_blas_threads(
            lambda: baselines.simulate_loop(prob, n, lam_f, n2_f, base_reps, key=0)
        ),
        max(3, cfg["repeats"] // 2 + 1),
        warmup=False,
    )
    subset = (
        ""
        if (base_reps, lam_f.size) == (reps, points)
        else (f", on {base_reps} draws x {lam_f.size} points, scaled per (draw, point)")
    )
    base |= {
        "what": "numpy loop: one X'X per draw, one np.linalg.solve per point" + subset,
        "blas_threads": h.BASELINE_BLAS_THREADS,
        "work": float(base_reps * lam_f.size),
    }
    return base


def run_d(d: int, cfg: dict[str, Any]) -> list[dict[str, Any]]:
    """The cases at one d (n = 4d)."""
    n = 4 * d
    prob = problem(d)
    lam, p2 = slice_axes(cfg["side"])
    reps = cfg["reps"]
    points = lam.size * p2.size
    common = common_params(d, cfg)
    fact_case = factorise_case(d, cfg)
    timing = h.time_call(slice_call(prob, n, lam, p2, reps, cfg["dtype"]), cfg["repeats"])
    base = baseline_timing(prob, n, lam, p2, cfg)
    params = common | {"sim_over_factorise": timing["median_s"] / fact_case["median_s"]}
    ridge_case = h.case(
        "simulate", "ridge_slice", params, timing, work=float(reps * points),
        work_unit="draw-points", baseline=base,
    )  # fmt: skip
    m = d // 2
    timing = h.time_call(slice_call(prob, n, lam, p2, reps, cfg["dtype"], m), cfg["repeats"])
    rp_case = h.case(
        "simulate", "rp_slice", common | {"m": m}, timing, work=float(reps * points),
        work_unit="draw-points",
    )  # fmt: skip
    return [fact_case, ridge_case, rp_case]
