"""Ridge and random projections over a broadcast (n, m, lam, p2) grid, through the driver."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from simcollapse._validate import check_common, check_range
from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms, Status
from simcollapse.simulate import conditional, driver, engine


def check_axes(problem: Problem, n: Any, m: Any, lam: Any, p2: Any) -> dict[str, Any]:
    """Validate a ridge (m None) or random-projection grid; return its axes by name."""
    axes = {"n": n, "lam": lam, "p2": p2} if m is None else {"n": n, "m": m, "lam": lam, "p2": p2}
    check_common(problem, **axes)
    check_range("n", n, 1, integer=True)
    if m is not None:
        check_range("m", m, 1, integer=True)
    return axes


ESTIMATORS = ("plain", "conditional")


def run_grid(
    problem: Problem,
    n: Any,
    m: Any,
    lam: Any,
    p2: Any,
    mc: driver.MonteCarlo,
    estimator: str = "plain",
) -> ErrorTerms:
    """Monte Carlo over a broadcast grid; ``m=None`` is ridge on the raw inputs.

    ``estimator`` "plain" samples X, the label noise and the shift; "conditional" samples X only
    and integrates the noise and the shift out in closed form (``simulate.conditional``).
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
    axes = check_axes(problem, n, m, lam, p2)
    dt = mc.np_dtype

    def prepare(shape: Mapping[str, int], f: Mapping[str, np.ndarray], dt: Any) -> tuple:
        n_g, m_g = shape["n"], shape.get("m")
        n2 = engine.synthetic_rows(n_g, f["p2"])
        batch = mc.batch or engine.pick_batch(problem, n_g, m_g, f["lam"].size, mc.reps, dt)
        return engine.ridge_arrays(f["lam"].astype(dt), n2, dt), {"m": m_g, "batch": batch}

    static = {"dtype": dt, "prng": engine.check_prng(None)}
    group_by = ("n",) if m is None else ("n", "m")
    kernel = conditional.kernel if estimator == "conditional" else engine.ridge_kernel
    out = driver.run(kernel, problem, axes, mc, group_by=group_by, prepare=prepare, static=static)
    return flag_threshold(out, problem.d, n, lam, m)


def on_threshold(d: int, n: Any, lam: Any, m: Any = None) -> np.ndarray:
    """Where a ridgeless fit has a square design: lam = 0 and n = min(m, d) (m None: n = d).

    Example:
      >>> on_threshold(10, [9, 10, 10], [0.0, 0.0, 0.1]).tolist()
      [False, True, False]
    """
    rank = d if m is None else np.minimum(np.asarray(m, np.float64), d)
    return (np.asarray(lam, np.float64) == 0) & (np.asarray(n, np.float64) == rank)


def threshold_status(d: int, coords: Mapping[str, np.ndarray]) -> np.ndarray:
    """Status per point of a ridge or random-projection draw table: THRESHOLD on the threshold
    (``on_threshold`` at the coordinates n, lam and m if present), else CONVERGED.

    Example:
      >>> threshold_status(10, {"n": np.array([10.0, 10.0]), "lam": np.array([0.0, 0.1])})
      array([4, 0], dtype=int32)
    """
    on = on_threshold(d, coords["n"], coords["lam"], coords.get("m"))
    return np.where(on, Status.THRESHOLD, Status.CONVERGED).astype(np.int32)


def flag_threshold(
    out: ErrorTerms, d: int, n: Any, lam: Any, m: Any = None, trailing: int = 0
) -> ErrorTerms:
    """``out`` with Status.THRESHOLD where the theory's lam -> 0+ limit diverges.

    A ridgeless fit (lam = 0) with n = min(m, d) rows has a square design whose smallest singular
    value goes to zero: the expected error is infinite, so the sample mean of a few draws
    estimates nothing finite. The simulated value is kept (it is what the draws gave); the
    status says it is not an estimate of a finite error. ``trailing``: axes of the status past
    the grid's (rounds, generations).
    """
    on = on_threshold(d, n, lam, m)
    status = np.asarray(out.status)
    on = np.reshape(on, on.shape + (1,) * trailing)
    if not np.any(on):
        return out
    flagged = np.where(np.broadcast_to(on, status.shape), Status.THRESHOLD, status)
    return out._replace(status=flagged.astype(np.int32))
