"""Suite ``fits``: power laws with a floor fitted to many curves, against curve_fit in a loop.

Case ``power_law``: C curves of 50 points, E = E_inf + A n^-a with random true parameters
(E_inf in [1e-3, 0.1], A in [0.5, 5], a in [0.3, 1.5]) and 2% multiplicative noise, fitted by
``simcollapse.analysis.fit_power_law`` from the table (grouping, padding, the jitted variable
projection; no bootstrap). Baseline: ``scipy.optimize.curve_fit`` in a Python loop on a subset
of the same curves, with the same model, bounds (E_inf, A >= 0, a in [0.02, 6]) and the same
relative weights (sigma = y), scaled per curve. Agreement, on the curves where curve_fit
converged: the share with |a - a_curve_fit| < 0.01, and the share where our loss is at most
curve_fit's (we search the exponent globally, curve_fit locally from one start).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from simcollapse._aliases import seed_keyword
from simcollapse.analysis import fit_joint_law, fit_power_law
from simcollapse.bench import _harness as h
from simcollapse.keys import as_seed

POINTS = 50


@seed_keyword
def curves(count: int, key: Any = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """The benchmark table (columns c, n, total) and the true (E_inf, A, a) per curve.

    ``key``: an int or a ``jax.random`` key (NumPy draws, seeded by ``keys.as_seed(key)``).
    """
    rng = np.random.default_rng(as_seed(key))
    n = np.geomspace(10, 1e6, POINTS)
    truth = np.column_stack([rng.uniform(1e-3, 0.1, count), rng.uniform(0.5, 5, count),
                             rng.uniform(0.3, 1.5, count)])  # fmt: skip
    clean = truth[:, :1] + truth[:, 1:2] * n[None, :] ** -truth[:, 2:3]
    y = clean * np.exp(0.02 * rng.standard_normal((count, POINTS)))
    table = pd.DataFrame({"c": np.repeat(np.arange(count), POINTS), "n": np.tile(n, count),
                          "total": y.ravel()})  # fmt: skip
    return table, truth


def _model(n: np.ndarray, e_inf: float, amp: float, a: float) -> np.ndarray:
    return e_inf + amp * n**-a


def curve_fit_loop(table: pd.DataFrame) -> np.ndarray:
    """(E_inf, A, a, loss) per curve from scipy's curve_fit (NaN where it failed)."""
    from scipy.optimize import curve_fit  # noqa: PLC0415 - optional extra

    out = []
    for _, part in table.groupby("c", sort=True):
        n, y = part.n.to_numpy(), part.total.to_numpy()
        p0 = (y.min() / 2, y[0] * n[0], 0.5)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                p, _ = curve_fit(_model, n, y, p0=p0, sigma=y, bounds=([0, 0, 0.02], [np.inf,
                                 np.inf, 6.0]), maxfev=2000)  # fmt: skip
            r = (y - _model(n, *p)) / y
            out.append([*p, 0.5 * np.sum(r * r)])
        except RuntimeError:
            out.append([np.nan] * 4)
    return np.asarray(out)


def run_case(count: int, repeats: int, baseline_curves: int) -> dict[str, Any]:
    """One fitting case: fit_power_law on ``count`` curves against a SciPy curve_fit loop
    over ``baseline_curves`` of them (the ratio is per curve)."""
    table, _ = curves(count)
    timing = h.time_call(lambda: fit_power_law(table, "n", "total", ["c"], bootstrap=0).fits,
                         repeats)  # fmt: skip
    ours = timing["result"]
    sub = table[table.c < baseline_curves]
    base = h.time_call(h.with_blas_threads(lambda: curve_fit_loop(sub)), 1, warmup=False)
    theirs = base["result"]
    ok = np.isfinite(theirs[:, 2])
    mine = ours.iloc[:baseline_curves]
    same_a = np.abs(mine.a.to_numpy()[ok] - theirs[ok, 2]) < 0.01
    not_worse = mine.loss.to_numpy()[ok] <= theirs[ok, 3] * (1 + 1e-6)
    base |= {"what": f"scipy.optimize.curve_fit loop, {baseline_curves} curves",
             "work": float(baseline_curves), "blas_threads": h.BASELINE_BLAS_THREADS}  # fmt: skip
    rec = h.case("fits", "power_law", {"curves": count, "points": POINTS, "dtype": "float64",
                                       "bootstrap": 0}, timing, work=float(count),
                 work_unit="curves", baseline=base)  # fmt: skip
    rec["agreement"] = {
        "curve_fit_converged": int(ok.sum()),
        "of": int(baseline_curves),
        "share_same_exponent_0.01": float(same_a.mean()),
        "share_loss_not_worse": float(not_worse.mean()),
        "median_abs_exponent_diff": float(np.median(np.abs(mine.a.to_numpy()[ok] - theirs[ok, 2]))),
        "status_ok": int((ours.status == "ok").sum()),
    }
    return rec


def settings(quick: bool) -> dict[str, Any]:
    """The suite's sizes: small at the quick level (CI), larger at the standard one."""
    if quick:
        return {"curves": [500], "repeats": 5, "baseline_curves": 50}
    return {"curves": [10_000], "repeats": 5, "baseline_curves": 500}


def run(quick: bool, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run the suite; returns {"settings": ..., "cases": [...]}."""
    cfg = settings(quick) | (overrides or {})
    cases = [run_case(c, cfg["repeats"], min(cfg["baseline_curves"], c)) for c in cfg["curves"]]
    return {"settings": cfg, "cases": cases}


JOINT_TRUTH = (0.05, 3.0, 2.0, 0.6, 0.35)  # E, A, B, alpha, beta


@seed_keyword
def joint_table(key: Any = 0, noise: float = 0.02) -> pd.DataFrame:
    """A 200-point (20 x 10) table of E + A n^-alpha + B m^-beta with multiplicative noise.

    ``key``: an int or a ``jax.random`` key (NumPy draws, seeded by ``keys.as_seed(key)``).
    """
    rng = np.random.default_rng(as_seed(key))
    n, m = np.meshgrid(np.geomspace(1e2, 1e5, 20), np.geomspace(10, 1e4, 10))
    e, a, b, alpha, beta = JOINT_TRUTH
    clean = e + a * n.ravel() ** -alpha + b * m.ravel() ** -beta
    y = clean * np.exp(noise * rng.standard_normal(clean.shape))
    return pd.DataFrame({"n": n.ravel(), "m": m.ravel(), "total": y})


def scipy_joint_fit(x1: np.ndarray, x2: np.ndarray, y: np.ndarray, counts: np.ndarray,
                    huber: float | None = None, starts: int = 4) -> np.ndarray:  # fmt: skip
    """(E, A, B, alpha, beta, loss) by L-BFGS-B from a starts x starts grid of exponents.

    The same objective as ``fit_joint_law``: sum_i c_i rho((y_i - E(x_i)) / y_i) with x
    relative to its minimum, E, A, B >= 0 and exponents in [0.02, 6]; coefficients started at
    their least-squares values for each exponent start; analytic gradient.
    """
    from scipy.optimize import minimize  # noqa: PLC0415 - optional extra

    l1, l2 = np.log(x1 / x1.min()), np.log(x2 / x2.min())
    w = 1.0 / y

    def objective(p: np.ndarray) -> tuple[float, np.ndarray]:
        e, a, b, al, be = p
        z1, z2 = np.exp(-al * l1), np.exp(-be * l2)
        r = w * (y - e - a * z1 - b * z2)
        if huber is None:
            rho, dr = 0.5 * r * r, r
        else:
            small = np.abs(r) <= huber
            rho = np.where(small, 0.5 * r * r, huber * (np.abs(r) - 0.5 * huber))
            dr = np.where(small, r, huber * np.sign(r))
        g = counts * dr * -w
        grad = [g.sum(), (g * z1).sum(), (g * z2).sum(), (g * -a * l1 * z1).sum(),
                (g * -b * l2 * z2).sum()]  # fmt: skip
        return float(np.sum(counts * rho)), np.asarray(grad)

    best = None
    bounds = [(0, None), (0, None), (0, None), (0.02, 6.0), (0.02, 6.0)]
    for al in np.geomspace(0.05, 3.0, starts):
        for be in np.geomspace(0.05, 3.0, starts):
            z = np.column_stack([np.ones_like(y), np.exp(-al * l1), np.exp(-be * l2)])
            sw = np.sqrt(counts) * w
            coef = np.maximum(np.linalg.lstsq(z * sw[:, None], y * sw, rcond=None)[0], 0.0)
            options = {"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-12}
            res = minimize(objective, [*coef, al, be], jac=True, method="L-BFGS-B",
                           bounds=bounds, options=options)  # fmt: skip
            if best is None or res.fun < best.fun:
                best = res
    e, a, b, al, be = best.x
    return np.array([e, a * x1.min() ** al, b * x2.min() ** be, al, be, best.fun])


def run_joint_case(bootstrap: int = 1000, baseline: int = 50, huber: float | None = 1e-3) -> dict:
    """Bootstrap fits of the 200-point joint table: ``fit_joint_law`` against a SciPy loop.

    Ours: one call, ``bootstrap`` resamples fitted vmapped (compile excluded by a warm-up of the
    same shapes). Baseline: ``scipy_joint_fit`` on the first ``baseline`` of the same kind of
    resamples (rows drawn with replacement), time per fit compared.
    """

    table = joint_table()
    fit = lambda: fit_joint_law(table, ("n", "m"), "total", huber=huber, bootstrap=bootstrap)  # noqa: E731
    timing = h.time_call(fit, 1)
    rng = np.random.default_rng(1)
    x1, x2, y = (table[c].to_numpy() for c in ("n", "m", "total"))
    draws = [
        np.bincount(rng.integers(0, len(y), len(y)), minlength=len(y)) for _ in range(baseline)
    ]
    base = h.time_call(lambda: [scipy_joint_fit(x1, x2, y, c.astype(float), huber) for c in draws],
                       1, warmup=False)  # fmt: skip
    ours_per_fit = timing["median_s"] / (bootstrap + 1)
    theirs_per_fit = base["median_s"] / baseline
    row = timing["result"].fits.iloc[0]
    return {"bootstrap": bootstrap, "ours_seconds": timing["median_s"],
            "compile_s": timing["compile_s"],
            "scipy_seconds_per_fit": theirs_per_fit, "ours_seconds_per_fit": ours_per_fit,
            "speedup": theirs_per_fit / ours_per_fit,
            "fit": {k: float(row[k]) for k in ("E", "A", "B", "alpha", "beta")}}  # fmt: skip
