"""Monte Carlo cases beyond the (lam, p2) slice: few points per draw, and precision per second.

``few_points``: what a figure or a single user curve runs: one (n, m), a few lam and p2 values,
16 draws. The factorisation is not amortised over many points here, so the baseline is NumPy's
own draw + features + Gram + eigendecomposition for the same shapes (no solve at all): a ratio
near 1 means the simulation costs what its factorisations cost.

``precision``: the time each estimator needs for a 1% relative standard error of the total,
(sd of one draw / mean / 0.01)^2 draws times the time per draw, for the plain estimator (X,
eps and delta sampled) and the conditional one (X sampled, eps and delta integrated out).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import simcollapse as sc
from simcollapse.bench import _harness as h

TARGET_RSE = 0.01


def problem(d: int) -> sc.Problem:
    """Power-law spectrum (alpha 1.5, source 1.5), c^2 = 0.5: the shift term is heavy-tailed."""
    return sc.Problem.power_law(d, alpha=1.5, source=1.5, c2=0.5, sigma2=0.5)


def numpy_factorisations(prob: sc.Problem, n: int, m: int | None, reps: int) -> None:
    """Per draw: X, features X S' (random projections), their smaller Gram and its eigh."""
    rng = np.random.default_rng(0)
    d = prob.eigs.size
    for _ in range(reps):
        x = rng.standard_normal((n, d)) * np.sqrt(prob.eigs)
        f = x if m is None else x @ (rng.standard_normal((m, d)) / np.sqrt(d)).T
        np.linalg.eigh(f.T @ f / n if n >= f.shape[1] else f @ f.T / n)


def simulate_call(prob: sc.Problem, cfg: dict[str, Any], m: int | None, estimator: str) -> Any:
    """A no-argument call of simulate.ridge_error (``m`` None) or rp_error at ``cfg``'s sizes."""
    lam, p2 = np.asarray(cfg["lam"]), np.asarray(cfg["p2"])
    args = dict(key=0, reps=cfg["reps"], estimator=estimator)
    if m is None:
        return lambda: sc.simulate.ridge_error(prob, cfg["n"], lam, p2, **args)
    return lambda: sc.simulate.rp_error(prob, cfg["n"], m, lam, p2, **args)


def few_points_case(cfg: dict[str, Any], m: int | None) -> dict[str, Any]:
    """Few points, many draws: our simulation against NumPy's own draw, features, Gram
    and eigh per draw (no solve), in the same run."""
    prob = problem(cfg["d"])
    timing = h.time_call(simulate_call(prob, cfg, m, "plain"), cfg["repeats"])
    base = h.time_call(
        lambda: numpy_factorisations(prob, cfg["n"], m, cfg["reps"]), cfg["repeats"], warmup=False
    )
    base |= {
        "what": "numpy draw + features + Gram + eigh per draw (no solve)",
        "work": float(cfg["reps"]),
        "blas_threads": None,
    }
    params = {k: cfg[k] for k in ("d", "n", "reps", "lam", "p2")} | {"m": m, "estimator": "plain"}
    name = "few_points_ridge" if m is None else "few_points_rp"
    return h.case(
        "simulate", name, params, timing, work=float(cfg["reps"]), work_unit="draws", baseline=base
    )


def precision_case(cfg: dict[str, Any], m: int | None, estimator: str) -> dict[str, Any]:
    """Time to a 1% relative standard error of each point's total, for one estimator."""
    prob = problem(cfg["d"])
    timing = h.time_call(simulate_call(prob, cfg, m, estimator), cfg["repeats"])
    out = timing["result"]
    rel_sd = np.ravel(out.stderr * np.sqrt(cfg["reps"]) / out.total)
    per_draw = timing["median_s"] / cfg["reps"]
    seconds = (rel_sd / TARGET_RSE) ** 2 * per_draw
    params = {k: cfg[k] for k in ("d", "n", "reps", "lam", "p2")} | {
        "m": m,
        "estimator": estimator,
        "relative_sd_per_draw": rel_sd.tolist(),
        "seconds_to_1pct_rse": seconds.tolist(),
    }
    model = "ridge" if m is None else "rp"
    return h.case(
        "simulate",
        f"precision_{model}_{estimator}",
        params,
        timing,
        work=float(cfg["reps"]),
        work_unit="draws",
    )


# The standard level's sizes; the quick level (CI) shrinks the problem and the repetitions.
STANDARD = {
    "d": 200,
    "n": 3000,
    "ms": [None, 100, 400],
    "lam": [1e-3],
    "p2": [0.0, 0.1, 1.0],
    "reps": 16,
    "repeats": 5,
}
QUICK = STANDARD | {"d": 24, "n": 120, "ms": [None, 12, 48], "p2": [0.0, 0.5, 1.0], "reps": 4}


def settings(quick: bool) -> dict[str, Any]:
    """The suite's sizes: small at the quick level (CI), larger at the standard one."""
    return dict(QUICK if quick else STANDARD)


def run_cases(quick: bool, overrides: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The suite's cases: few points for each width in ``cfg['ms']``, then the float32
    precision of the plain and conditional estimators for the first two."""
    cfg = settings(quick) | (overrides or {})
    cases = [few_points_case(cfg, m) for m in cfg["ms"]]
    for m in cfg["ms"][:2]:
        cases += [precision_case(cfg, m, est) for est in ("plain", "conditional")]
    return cases
