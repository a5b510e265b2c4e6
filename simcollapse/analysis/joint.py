"""Joint scaling laws in two sizes, E(x1, x2) = E + A x1^(-alpha) + B x2^(-beta), and their
collapse form with a floor that grows with p2^2 c^2.

The law of Hoffmann et al. (2022) for (parameters, tokens), fitted the way Besiroglu et al.
(2024) refit it (Huber's loss on log errors, summed, from a full grid of starts), by variable
projection: for fixed exponents the law is linear in its coefficients, whose best non-negative
values are an exact small non-negative least squares; the exponents are searched on a grid,
a finer grid, and polished by Newton. Jitted and vmapped over curves and bootstrap resamples;
percentile intervals and a status per fit. See docs/analysis.md.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from simcollapse._aliases import seed_keyword
from simcollapse.analysis import _joint_core as core
from simcollapse.analysis._bootstrap import bootstrap_fits
from simcollapse.analysis._table import check_columns, check_positive
from simcollapse.analysis.powerlaw import (
    check_fit_options,
    parameter_columns,
    resample_seeds,
    status_column,
)
from simcollapse.keys import as_key

__all__ = [
    "JointLawFits",
    "compute_optimal",
    "fit_collapse_law",
    "fit_joint_law",
    "joint_law",
]

MIN_POINTS = 6
MIN_DISTINCT = 3


@dataclasses.dataclass(frozen=True)
class JointLawFits:
    """Result of ``fit_joint_law`` / ``fit_collapse_law``.

    Attributes:
      fits: one row per curve: the ``by`` columns, n_points, E, A, B, alpha, beta (and F for the
        collapse form), each with bootstrap ``*_lo``, ``*_hi`` (at ``level``) and ``*_se``,
        loss (the summed loss at the optimum), status (``FitStatus`` strings).
      points: one row per input row: the ``by`` columns, x1, x2, y, fitted, residual
        (log y - log fitted).
      x: the two size columns.  y: the error column.

    Example:
      >>> import pandas as pd
      >>> fits = JointLawFits(pd.DataFrame({"E": [0.1]}), pd.DataFrame(), ("n", "m"), "total")
      >>> fits.x, fits.y, float(fits.fits.E[0])
      (('n', 'm'), 'total', 0.1)
    """

    fits: pd.DataFrame
    points: pd.DataFrame
    x: tuple[str, str]
    y: str


def joint_law(x1: Any, x2: Any, e: Any, a: Any, b: Any, alpha: Any, beta: Any) -> np.ndarray:
    """E(x1, x2) = E + A x1^(-alpha) + B x2^(-beta), broadcasting NumPy evaluation.

    Example:
      >>> round(float(joint_law(100.0, 10.0, 0.1, 1.0, 1.0, 1.0, 1.0)), 12)
      0.21
    """
    x1, x2, e, a, b, alpha, beta = (
        np.asarray(v, dtype=np.float64) for v in (x1, x2, e, a, b, alpha, beta)
    )
    return e + a * x1 ** (-alpha) + b * x2 ** (-beta)


def compute_optimal(
    budget: Any, a: float, b: float, alpha: float, beta: float
) -> tuple[np.ndarray, np.ndarray]:
    """The sizes (x1*, x2*) minimising A x1^-alpha + B x2^-beta at a budget x1 x2 = C.

    Setting the derivative along x1 x2 = C to zero, alpha A x1^-alpha = beta B x2^-beta, gives
    x1* = G C^(beta/(alpha+beta)) with G = (alpha A / (beta B))^(1/(alpha+beta)) and
    x2* = C / x1* (Hoffmann et al. 2022, eq. 4, with compute proportional to x1 x2).

    Args:
      budget: C > 0 (array).  a, b, alpha, beta: the fitted law's A, B > 0 and exponents > 0.

    Returns:
      (x1*, x2*) arrays shaped like ``budget``.

    Example:
      >>> x1, x2 = compute_optimal(1e4, 1.0, 1.0, 0.5, 0.5)
      >>> float(x1), float(x2)
      (100.0, 100.0)
    """
    for name, value in (("a", a), ("b", b), ("alpha", alpha), ("beta", beta)):
        if not (np.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be finite and > 0, got {value!r}")
    c = np.asarray(budget, dtype=np.float64)
    if not np.all(np.isfinite(c) & (c > 0)):
        raise ValueError(f"budget must hold finite values > 0, got {budget!r}")
    g = (alpha * a / (beta * b)) ** (1.0 / (alpha + beta))
    x1 = g * c ** (beta / (alpha + beta))
    return x1, c / x1


@dataclasses.dataclass(frozen=True)
class _Padded:
    keys: pd.DataFrame
    data: core.Data  # (C, L) NumPy arrays
    unit: np.ndarray
    n_units: np.ndarray
    n_rows: np.ndarray
    distinct: np.ndarray  # (C,) min over x1, x2 of the distinct count
    x1_min: np.ndarray
    x2_min: np.ndarray
    rows: pd.DataFrame  # the sorted input rows with their curve and position

    def label(self, i: int) -> str:
        row = self.keys.iloc[i]
        return ", ".join(f"{k}={v}" for k, v in row.items()) or "(the whole table)"


def _pad(
    table: pd.DataFrame,
    x: tuple[str, str],
    y: str,
    by: list[str],
    stderr: str | None,
    seed: str | None,
    covariate: np.ndarray | None,
) -> _Padded:
    data = table.assign(_s=covariate if covariate is not None else 0.0)
    data = data.sort_values([*by, *([seed] if seed else []), *x], kind="stable")
    data = data.reset_index(drop=True)
    if by:
        grouped = data.groupby(by, sort=True, dropna=False)
        group, keys = grouped.ngroup().to_numpy(), grouped.size().reset_index()[by]
    else:
        group, keys = np.zeros(len(data), dtype=int), pd.DataFrame(index=[0])
    x1 = check_positive(data, x[0], group, keys)
    x2 = check_positive(data, x[1], group, keys)
    ys = check_positive(data, y, group, keys)
    sig = check_positive(data, stderr, group, keys) if stderr else ys
    n_curves = len(keys)
    pos = data.groupby(group, sort=False).cumcount().to_numpy()
    shape = (n_curves, int(pos.max()) + 1 if len(data) else 1)
    x1_min = pd.Series(x1).groupby(group).min().to_numpy()
    x2_min = pd.Series(x2).groupby(group).min().to_numpy()
    arrays = {name: np.zeros(shape) for name in core.Data._fields}
    arrays["lx1"][group, pos] = np.log(x1 / x1_min[group])
    arrays["lx2"][group, pos] = np.log(x2 / x2_min[group])
    arrays["s"][group, pos] = data["_s"].to_numpy(dtype=np.float64)
    arrays["y"][group, pos] = ys
    arrays["w"][group, pos] = 1.0 / sig
    arrays["counts"][group, pos] = 1.0
    if seed:
        pair = data.groupby([pd.Series(group), data[seed]], sort=True).ngroup().to_numpy()
        unit_of_row = pair - pd.Series(pair).groupby(group).transform("min").to_numpy()
        n_units = pd.Series(pair).groupby(group).nunique().to_numpy()
    else:
        unit_of_row, n_units = pos, np.bincount(group, minlength=n_curves)
    unit = np.zeros(shape, dtype=np.int32)
    unit[group, pos] = unit_of_row
    distinct = np.minimum(
        pd.Series(x1).groupby(group).nunique().to_numpy(),
        pd.Series(x2).groupby(group).nunique().to_numpy(),
    )
    rows = data.assign(_curve=group, _pos=pos)
    return _Padded(
        keys, core.Data(**arrays), unit, np.asarray(n_units, dtype=np.int32),
        np.bincount(group, minlength=n_curves), distinct, x1_min, x2_min, rows,
    )  # fmt: skip


@seed_keyword
def fit_joint_law(
    table: pd.DataFrame,
    x: Sequence[str] = ("n", "m"),
    y: str = "total",
    by: Sequence[str] = (),
    *,
    stderr: str | None = None,
    huber: float | None = None,
    bootstrap: int = 200,
    level: float = 0.95,
    seed_column: str = "seed",
    key: Any = 0,
    throw: bool = True,
) -> JointLawFits:
    """Fit E(x1, x2) = E + A x1^(-alpha) + B x2^(-beta) to every curve of a table.

    Loss: sum_i rho(w_i (y_i - E(x_i))), summed over rows (not averaged), w_i = 1/y_i (the log
    residual log y - log E to first order) or 1/stderr_i; rho is the halved square or Huber's
    function with threshold ``huber`` (Hoffmann et al. 2022 use 1e-3). For fixed exponents the
    best (E, A, B) >= 0 are an exact non-negative least squares (8 supports compared); the
    exponents in [0.02, 6] are searched on a 16 x 16 log grid, a 7 x 7 grid around its best
    point, then polished by damped Newton (majorize-minimize steps under Huber).

    Args:
      table: a pandas DataFrame.
      x: the two size columns (x1, x2), values > 0.
      y: the error column, values > 0.
      by: columns that identify a curve (empty: the whole table is one surface).
      stderr: optional column of standard errors of y (> 0).
      huber: Huber threshold (> 0) on the standardised log residual; None for least squares.
      bootstrap: B resamples for the percentile intervals (0: none); over rows, or over seeds
        when ``seed_column`` holds more than one value.
      level: two-sided level of the intervals, in (0, 1).
      seed_column: the seed column for the seed bootstrap.
      key: the bootstrap's randomness, an int or a ``jax.random`` key.
      throw: raise on a curve with fewer than 6 rows or 3 distinct values of either size; with
        False it comes back with status ``too_few_points`` and NaN parameters.

    Returns:
      JointLawFits.

    Raises:
      ValueError: a column missing, a non-positive or non-finite value, too few points
        (``throw=True``), bad ``huber``, ``bootstrap`` or ``level``, ``x`` not two columns.

    Computed in float64 (``jax.enable_x64`` for this call only).

    Example:
      >>> n, m = np.meshgrid(np.geomspace(1e2, 1e5, 8), np.geomspace(10, 1e4, 6))
      >>> df = pd.DataFrame({"n": n.ravel(), "m": m.ravel()})
      >>> df["total"] = 0.05 + 3.0 * df.n**-0.6 + 2.0 * df.m**-0.35
      >>> fit = fit_joint_law(df, bootstrap=0).fits.iloc[0]
      >>> [round(float(fit[k]), 4) for k in ("E", "A", "B", "alpha", "beta")], fit.status
      ([0.05, 3.0, 2.0, 0.6, 0.35], 'ok')
    """
    return _fit(table, x, y, by, None, stderr, huber, bootstrap, level, seed_column, key, throw)


@seed_keyword
def fit_collapse_law(
    table: pd.DataFrame,
    x: Sequence[str] = ("n", "m"),
    y: str = "total",
    by: Sequence[str] = (),
    *,
    p2: str = "p2",
    c2: str = "c2",
    stderr: str | None = None,
    huber: float | None = None,
    bootstrap: int = 200,
    level: float = 0.95,
    seed_column: str = "seed",
    key: Any = 0,
    throw: bool = True,
) -> JointLawFits:
    """Fit E = E + A x1^(-alpha) + B x2^(-beta) + F p2^2 c^2 across a whole mixing sweep.

    The clean law (p2 = 0) plus a floor that scales with p2^2 c^2, the leading synthetic term of
    the paper's Theorem 1 for small p2 (its zeta grows as p2^2 c^2 at fixed n), with one set of
    exponents shared by every (p2, c^2): one fit summarises an (n, m, p2, c^2) grid. Same loss,
    search and options as ``fit_joint_law``; (E, A, B, F) >= 0 by an exact 4-variable NNLS.
    The other arguments are those of ``fit_joint_law``.

    Args:
      p2, c2: the columns of the synthetic fraction (in [0, 1]) and quality (>= 0).

    Returns:
      JointLawFits whose ``fits`` also has F (with intervals).

    Example:
      >>> n, m, p = np.meshgrid(np.geomspace(1e2, 1e5, 6), np.geomspace(10, 1e4, 5), [0, .1, .3])
      >>> df = pd.DataFrame({"n": n.ravel(), "m": m.ravel(), "p2": p.ravel(), "c2": 0.5})
      >>> df["total"] = 0.05 + 3 * df.n**-0.6 + 2 * df.m**-0.35 + 0.8 * df.p2**2 * df.c2
      >>> fit = fit_collapse_law(df, bootstrap=0).fits.iloc[0]
      >>> [round(float(fit[k]), 4) for k in ("E", "F", "alpha", "beta")]
      [0.05, 0.8, 0.6, 0.35]
    """
    for name, column in (("p2", p2), ("c2", c2)):
        if column not in table.columns:
            raise ValueError(f"{name} column {column!r} is not in the table")
    p = pd.to_numeric(table[p2], errors="coerce").to_numpy(dtype=np.float64)
    q = pd.to_numeric(table[c2], errors="coerce").to_numpy(dtype=np.float64)
    if not np.all((p >= 0) & (p <= 1)):
        raise ValueError(f"column {p2!r} must hold p2 in [0, 1]")
    if not np.all(np.isfinite(q) & (q >= 0)):
        raise ValueError(f"column {c2!r} must hold c^2 >= 0")
    s = p * p * q
    return _fit(table, x, y, by, s, stderr, huber, bootstrap, level, seed_column, key, throw)


def _fit(
    table: pd.DataFrame,
    x: Sequence[str],
    y: str,
    by: Sequence[str],
    covariate: np.ndarray | None,
    stderr: str | None,
    huber: float | None,
    bootstrap: int,
    level: float,
    seed_column: str,
    key: Any,
    throw: bool,
) -> JointLawFits:
    x = tuple(x)
    if len(x) != 2 or x[0] == x[1]:
        raise ValueError(f"x must name two different size columns, got {x!r}")
    by = [by] if isinstance(by, str) else list(by)
    check_fit_options(huber, bootstrap, level)
    check_columns(table, x[0], y, by, stderr)
    check_columns(table, x[1], y, by, None)
    use_seeds = resample_seeds(table, seed_column, by, x[0]) and seed_column != x[1]
    padded = _pad(table, x, y, by, stderr, seed_column if use_seeds else None, covariate)
    few = (padded.n_rows < MIN_POINTS) | (padded.distinct < MIN_DISTINCT)
    if throw and few.any():
        i = int(np.argmax(few))
        raise ValueError(
            f"curve {padded.label(i)} has {padded.n_rows[i]} rows and {padded.distinct[i]} "
            f"distinct values of its sparser size; a joint law needs at least {MIN_POINTS} rows "
            f"and {MIN_DISTINCT} distinct values of each of {x[0]} and {x[1]}"
        )
    k = 3 if covariate is None else 4
    with jax.enable_x64(True):
        data = core.Data(*(jnp.asarray(v) for v in padded.data))
        delta = jnp.asarray(huber if huber is not None else 1.0, dtype=jnp.float64)
        use_huber = huber is not None
        params = core.fit_many(data, delta, use_huber, k)
        ok = np.asarray(core.identifiable(params))
        params = core.Params(*(np.asarray(v) for v in params))
        boot = None
        if bootstrap:
            boot = bootstrap_fits(
                data, jnp.asarray(padded.unit), jnp.asarray(padded.n_units),
                as_key(key), int(bootstrap), lambda flat: core.fit_many(flat, delta, use_huber, k),
            )  # fmt: skip
            boot = core.Params(*(np.asarray(v) for v in boot))
    return _assemble(padded, params, boot, ok, few, level, x, y, k)


def _named(
    params: core.Params, x1_min: np.ndarray, x2_min: np.ndarray, k: int
) -> dict[str, np.ndarray]:
    """Coefficients in the units of x (A x1^-alpha with x1 absolute), by name."""
    coef = params.coef
    shape = (-1,) + (1,) * (params.alpha.ndim - 1)  # (C,) or (C, 1) against bootstrap (C, B)
    x1m, x2m = x1_min.reshape(shape), x2_min.reshape(shape)
    out = {
        "E": coef[..., 0],
        "A": coef[..., 1] * x1m**params.alpha,
        "B": coef[..., 2] * x2m**params.beta,
        "alpha": params.alpha,
        "beta": params.beta,
    }
    if k == 4:
        out["F"] = coef[..., 3]
    return out


def _assemble(
    padded: _Padded,
    params: core.Params,
    boot: core.Params | None,
    ok: np.ndarray,
    few: np.ndarray,
    level: float,
    x: tuple[str, str],
    y: str,
    k: int,
) -> JointLawFits:
    fits = padded.keys.copy()
    fits["n_points"] = padded.n_rows
    values = _named(params, padded.x1_min, padded.x2_min, k)
    boots = _named(boot, padded.x1_min, padded.x2_min, k) if boot is not None else {}
    parameter_columns(fits, values, boots, few, level)
    fits["loss"] = np.where(few, np.nan, params.loss)
    fits["status"] = status_column(few, ok)
    rows = padded.rows
    g = rows["_curve"].to_numpy()
    fitted = joint_law(
        rows[x[0]], rows[x[1]], *(fits[c].to_numpy()[g] for c in ("E", "A", "B", "alpha", "beta"))
    )
    if k == 4:
        fitted = fitted + fits["F"].to_numpy()[g] * rows["_s"].to_numpy()
    points = padded.keys.iloc[g].reset_index(drop=True)
    points[x[0]], points[x[1]] = rows[x[0]].to_numpy(), rows[x[1]].to_numpy()
    points[y], points["fitted"] = rows[y].to_numpy(), fitted
    with np.errstate(divide="ignore", invalid="ignore"):
        points["residual"] = np.log(points[y]) - np.log(fitted)
    return JointLawFits(fits, points, x, y)
