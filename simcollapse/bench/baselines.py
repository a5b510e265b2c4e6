"""The plain NumPy/SciPy code a researcher would otherwise write: the benchmarks' baselines.

Each baseline computes the same numbers as the project at the benchmarked points (tested in
tests/test_bench.py), so a ratio compares equal work:

- theory: a Python loop over points, ``scipy.optimize.brentq`` for each fixed point, then the
  error terms of docs/theory.md in NumPy;
- simulation: a loop over draws with one X'X per draw and one ``np.linalg.solve`` per (lam, p2)
  point (labels rebuilt per point), test error ||w_hat - w1||^2_Sigma.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import brentq

from simcollapse import settings
from simcollapse._aliases import MODELS, seed_keyword
from simcollapse.keys import as_seed

XTOL = 1e-300  # absolute tolerance off: brentq stops on its relative tolerance (4 eps)


def _df(eigs: np.ndarray, t: float) -> tuple[float, float]:
    r = eigs / (eigs + t)
    return float(r.sum()), float((r * r).sum())


def ridge_point(prob: Any, n: float, lam: float, p2: float) -> tuple[float, float, float, float]:
    """(bias, variance, zeta, total) of Theorem 1 at one point, kappa by brentq.

    Example:
      >>> import numpy as np, simcollapse as sc
      >>> prob = sc.Problem.isotropic(50, c2=1.0, sigma2=1.0)
      >>> ref = ridge_point(prob, 100.0, 1e-2, 0.1)
      >>> bool(np.isclose(ref[3], sc.theory.ridge_error(prob, 100, 1e-2, 0.1).total, rtol=1e-10))
      True
    """
    s, w2, dl, sigma2 = (
        np.asarray(v, float) for v in (prob.eigs, prob.w1_sq, prob.delta_sq, prob.sigma2)
    )
    d = s.size
    if lam == 0 and n >= d:
        k = 0.0
    else:
        hi = lam + s.sum() / n
        k = brentq(lambda k: k * (1.0 - _df(s, k)[0] / n) - lam, 0.0, hi, xtol=XTOL)
    u = 1.0 / (s + k)
    f2 = float((s * s * u * u).sum())
    shrink = 1.0 - f2 / n
    g = np.inf if shrink == 0 else (f2 / n) / shrink  # not 1/shrink - 1: it cancels at huge n
    sw = k * k * float((s * w2 * u * u).sum())
    bias = 0.0 if sw == 0 else sw / shrink
    d3 = float((s**3 * dl * u * u).sum())
    d1 = k * k * float((s * dl * u * u).sum())
    c2 = float((s * dl).sum())
    zeta = p2 * p2 * (d3 + (0.0 if d1 == 0 else d1 * g)) + (
        0.0 if (1 - p2) * p2 * c2 == 0 else (1 - p2) * p2 * c2 * g
    )
    variance = float(sigma2) * g
    return bias, variance, zeta, bias + variance + zeta


def rp_point(
    prob: Any, n: float, m: float, lam: float, p2: float
) -> tuple[float, float, float, float]:
    """(bias, variance, zeta, total) of Theorem 2 at one point, theta_0 and theta by brentq.

    Example:
      >>> import numpy as np, simcollapse as sc
      >>> prob = sc.Problem.isotropic(50, c2=1.0, sigma2=1.0)
      >>> ref = rp_point(prob, 200.0, 30.0, 1e-3, 0.1)
      >>> bool(np.isclose(ref[3], sc.theory.rp_error(prob, 200, 30, 1e-3, 0.1).total, rtol=1e-10))
      True
    """
    s, w2, dl, sigma2 = (
        np.asarray(v, float) for v in (prob.eigs, prob.w1_sq, prob.delta_sq, prob.sigma2)
    )
    d = s.size
    q = min(m, n)
    trace = s.sum()
    t0 = 0.0 if q >= d else brentq(lambda t: q - _df(s, t)[0], 0.0, trace / q, xtol=XTOL)
    target = lam * d / m
    if lam == 0:
        t = t0
    else:

        def fn(t: float) -> float:
            f1 = _df(s, t)[0]
            return t * (1 - f1 / m) * (1 - f1 / n) - target

        t = brentq(fn, t0, t0 + max(4 * target, 2 * trace / q), xtol=XTOL)
    u = 1.0 / (s + t)
    f1 = float((s * u).sum())
    f2 = float((s * s * u * u).sum())
    c2 = float((s * dl).sum())
    df2c = (f2 + (f1 * f1 - 2 * f1 * f2) / m) / (1 - f2 / m)
    gam = df2c / n
    ratio = (f1 - f2) / (m - f2)

    def epop(v2: np.ndarray) -> float:
        return t * t * float((s * v2 * u * u).sum()) + t * float((s * s * v2 * u * u).sum()) * ratio

    amp = gam / (1 - gam)
    bias = epop(w2) / (1 - gam)
    resp = c2 - 2 * t * float((s * dl * u).sum()) + epop(dl) / (1 - gam)
    zeta = (1 - p2) * p2 * c2 * amp + p2 * p2 * resp
    variance = float(sigma2) * amp
    return bias, variance, zeta, bias + variance + zeta


def theory_loop(prob: Any, points: dict[str, np.ndarray], model: str = "ridge") -> np.ndarray:
    """The SciPy loop over flat points (keys n, lam, p2, and m for a setting with a width):
    (P, 4) float64. ``model`` names the setting (or its older spelling, "rp"); the reference
    follows its parameters: random projections when it has a width m, else ridge.

    Example:
      >>> import numpy as np, simcollapse as sc
      >>> prob = sc.Problem.isotropic(50, c2=1.0)
      >>> points = {"n": np.array([100.0, 400.0]), "lam": np.full(2, 1e-2), "p2": np.full(2, 0.1)}
      >>> table = theory_loop(prob, points)
      >>> th = sc.theory.ridge_error(prob, [100, 400], 1e-2, 0.1)
      >>> table.shape, bool(np.allclose(table[:, 3], th.total))
      ((2, 4), True)
    """
    setting = settings.get(MODELS.get(model, model))
    point = rp_point if "m" in setting.axes else ridge_point  # arguments: the setting's axes
    out = np.empty((points["n"].size, 4))
    for i in range(points["n"].size):
        out[i] = point(prob, *(points[k][i] for k in setting.axes))
    return out


def draw_numpy(prob: Any, n: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """X (n x d) ~ N(0, diag(eigs)), eps ~ N(0, sigma^2), delta ~ N(0, diag(delta_sq)).

    Example:
      >>> import numpy as np, simcollapse as sc
      >>> x, eps, delta = draw_numpy(sc.Problem.isotropic(5), 8, np.random.default_rng(0))
      >>> x.shape, eps.shape, delta.shape
      ((8, 5), (8,), (5,))
    """
    d = prob.eigs.shape[-1]
    x = rng.standard_normal((n, d)) * np.sqrt(prob.eigs)
    eps = rng.standard_normal(n) * np.sqrt(prob.sigma2)
    delta = rng.standard_normal(d) * np.sqrt(prob.delta_sq)
    return x, eps, delta


@seed_keyword
def simulate_loop(
    prob: Any,
    n: int,
    lam: np.ndarray,
    n2: np.ndarray,
    reps: int,
    key: Any = 0,
    data: list[tuple[np.ndarray, ...]] | None = None,
) -> np.ndarray:
    """Test error ||w_hat - w1||^2_Sigma per draw and point, (reps, P), the plain NumPy way.

    Per draw: X'X/n once; per point: labels y = X w1 + eps with the shift x.delta added to the
    last n2 rows, then ``np.linalg.solve(X'X/n + lam I, X'y/n)``. ``data`` replaces the draws
    (a list of (X, eps, delta)) to reproduce the project's numbers exactly; by default the
    draws come from ``np.random.default_rng(keys.as_seed(key))`` (``key`` an int or a
    ``jax.random`` key) inside the timed loop. Needs n >= d or
    lam > 0 (a solve, not the min-norm interpolator).

    Example:
      >>> import numpy as np, simcollapse as sc
      >>> prob = sc.Problem.isotropic(20, c2=1.0, sigma2=0.5)
      >>> errors = simulate_loop(prob, 100, np.array([1e-2]), np.array([20]), reps=200)
      >>> th = sc.theory.ridge_error(prob, 100, 1e-2, 0.2).total  # n2 = 20 of 100 rows: p2 = 0.2
      >>> stderr = errors.std(axis=0) / np.sqrt(200)
      >>> errors.shape, bool(abs(errors.mean(axis=0)[0] - th) < 4 * stderr[0])
      ((200, 1), True)
    """
    rng = np.random.default_rng(as_seed(key))
    s = np.asarray(prob.eigs, float)
    w1 = np.sqrt(np.asarray(prob.w1_sq, float))
    d = s.size
    out = np.empty((reps, lam.size))
    for r in range(reps):
        x, eps, delta = data[r] if data is not None else draw_numpy(prob, n, rng)
        gram = x.T @ x / n
        y_clean = x @ w1 + eps
        shift = x @ delta
        for i in range(lam.size):
            y = y_clean.copy()
            if n2[i] > 0:
                y[n - n2[i] :] += shift[n - n2[i] :]
            w = np.linalg.solve(gram + lam[i] * np.eye(d), x.T @ y / n)
            out[r, i] = float(np.sum(s * (w - w1) ** 2))
    return out
