"""Power law with a floor, E(x) = E_inf + A x^(-a), fitted to one curve or to many at once.

Variable projection (the exponent a on a grid refined by golden section; E_inf >= 0 and A >= 0
from a closed-form two-variable non-negative least squares at each a), in log space, optionally
with Huber's loss, weighted by standard errors when the table has them, jitted and vmapped over
all curves padded to a common length. Confidence intervals come from a bootstrap over the rows
of each curve, or over its seeds when the table has a seed column. See docs/analysis.md.
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
from simcollapse.analysis import _powerlaw_core as core
from simcollapse.analysis._bootstrap import bootstrap_fits
from simcollapse.analysis._table import Curves, check_columns, pad_curves
from simcollapse.keys import as_key

__all__ = ["FitStatus", "PowerLawFits", "fit_curve", "fit_power_law", "power_law"]

MIN_POINTS = 4


class FitStatus:
    """Status of a fit, stored per curve as a string.

    * ``ok``: the three parameters are identified.
    * ``too_few_points``: fewer than 4 distinct x values (only with ``throw=False``).
    * ``not_identifiable``: no decaying part (A = 0: the curve is flat within its noise) or the
      exponent ran to an end of its range [0.02, 6] (no curvature to separate a from E_inf).

    Example:
      >>> import numpy as np, pandas as pd
      >>> n = np.geomspace(10, 1e5, 12)
      >>> flat = pd.DataFrame({"n": n, "total": np.full(12, 0.5)})
      >>> status = fit_power_law(flat, bootstrap=0).fits.status.iloc[0]
      >>> FitStatus.OK, status == FitStatus.NOT_IDENTIFIABLE
      ('ok', True)
    """

    OK = "ok"
    TOO_FEW_POINTS = "too_few_points"
    NOT_IDENTIFIABLE = "not_identifiable"


@dataclasses.dataclass(frozen=True)
class PowerLawFits:
    """Result of ``fit_power_law``.

    Attributes:
      fits: one row per curve: the ``by`` columns, n_points, E_inf, A, a (A in the units of x:
        E = E_inf + A x^-a), their bootstrap intervals (``*_lo``, ``*_hi``, at ``level``) and
        standard errors (``*_se``), loss, status, x_min, x_max.
      points: one row per input row: the ``by`` columns, x, y, fitted, and residual
        (log y - log fitted).
      x, y: the names of the columns that were fitted.

    Example:
      >>> import numpy as np, pandas as pd
      >>> n = np.geomspace(10, 1e5, 12)
      >>> fits = fit_power_law(pd.DataFrame({"n": n, "total": 0.01 + 2.0 * n**-0.7}), bootstrap=0)
      >>> fits.x, fits.y, len(fits.fits), len(fits.points)
      ('n', 'total', 1, 12)
    """

    fits: pd.DataFrame
    points: pd.DataFrame
    x: str
    y: str


def power_law(x: Any, e_inf: Any, amp: Any, a: Any) -> np.ndarray:
    """E(x) = E_inf + A x^(-a), broadcasting NumPy evaluation.

    Example:
      >>> float(power_law(100.0, 0.01, 1.0, 1.0))
      0.02
    """
    x, e_inf, amp, a = (np.asarray(v, dtype=np.float64) for v in (x, e_inf, amp, a))
    return e_inf + amp * x ** (-a)


def resample_seeds(table: pd.DataFrame, seed_column: str, by: list[str], x: str) -> bool:
    """Whether the bootstrap resamples seeds (a seed column with several seeds) or rows."""
    use_seeds = seed_column in table.columns and seed_column not in by and seed_column != x
    # One seed (a sweep table's single seed) leaves nothing to resample: rows are resampled.
    return bool(use_seeds and table[seed_column].nunique() > 1)


def _raise_too_few_points(curves, few: np.ndarray, x: str) -> None:
    """The ValueError for the first curve with fewer than ``MIN_POINTS`` distinct x values."""
    i = int(np.argmax(few))
    raise ValueError(
        f"curve {curves.label(i)} has {curves.n_distinct[i]} distinct {x} values; fitting "
        f"E_inf, A and a needs at least {MIN_POINTS}"
    )


@seed_keyword
def fit_power_law(
    table: pd.DataFrame,
    x: str = "n",
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
) -> PowerLawFits:
    """Fit E(x) = E_inf + A x^(-a) to every curve of a table (a curve: one value of ``by``).

    Loss: sum_i rho(w_i (y_i - E(x_i))) with w_i = 1/y_i (log space: log y - log E to first
    order) or w_i = 1/stderr_i when ``stderr`` is given (the log residual over the log-scale
    error stderr/y); rho is the square, or Huber's function with threshold ``huber`` in those
    units. For each exponent a, (E_inf, A) >= 0 solve a weighted linear least squares in closed
    form; a is picked on a grid in [0.02, 6] and refined by golden section.

    Args:
      table: a pandas DataFrame (a sweep's output or any user table).
      x, y: the columns of the size (n, > 0) and of the error (> 0).
      by: columns that identify a curve (empty: the whole table is one curve).
      stderr: optional column of standard errors of y (> 0); rows are weighted by 1/stderr.
      huber: Huber threshold (> 0) on the standardised log residual; None for least squares.
      bootstrap: B resamples for the intervals (0: no intervals); over the rows of each curve,
        or over its seeds when the table's ``seed_column`` holds more than one value.
      level: two-sided level of the percentile intervals, in (0, 1).
      seed_column: name of the seed column used for the seed bootstrap when present.
      key: the bootstrap's randomness, an int or a ``jax.random`` key.
      throw: raise on a curve with fewer than 4 distinct x values; with False it is returned
        with status ``too_few_points`` and NaN parameters.

    Returns:
      PowerLawFits (per-curve table ``fits`` and per-row table ``points``).

    Raises:
      ValueError: a named column missing, non-positive or non-finite x, y or stderr (naming the
        column and the curve), fewer than 4 distinct x values on a curve (``throw=True``), bad
        ``huber``, ``bootstrap`` or ``level``.

    Computed in float64 (``jax.enable_x64`` for this call only).

    Example:
      >>> n = np.geomspace(10, 1e5, 12)
      >>> df = pd.DataFrame({"n": n, "total": 0.01 + 2.0 * n**-0.7})
      >>> fit = fit_power_law(df, bootstrap=0).fits.iloc[0]
      >>> [round(float(fit[k]), 4) for k in ("E_inf", "A", "a")], fit.status
      ([0.01, 2.0, 0.7], 'ok')
    """
    by = [by] if isinstance(by, str) else list(by)
    check_fit_options(huber, bootstrap, level)
    use_seeds = resample_seeds(table, seed_column, by, x)
    check_columns(table, x, y, by, stderr)
    curves = pad_curves(table, x, y, by, stderr, seed_column if use_seeds else None)
    few = curves.n_distinct < MIN_POINTS
    if throw and few.any():
        _raise_too_few_points(curves, few, x)
    with jax.enable_x64(True):
        params, boot = _fit_arrays(curves, huber, bootstrap, key)
    return _assemble(curves, params, boot, level, few, x, y)


@seed_keyword
def fit_curve(x: Any, y: Any, stderr: Any = None, **options: Any) -> pd.Series:
    """``fit_power_law`` on one curve given as arrays; returns its row of ``fits``.

    Example:
      >>> n = np.geomspace(10, 1e4, 10)
      >>> row = fit_curve(n, 0.5 * n**-1.0, bootstrap=0)
      >>> round(float(row.a), 6), round(float(row.E_inf), 9)
      (1.0, 0.0)
    """
    data = {"x": np.ravel(x), "y": np.ravel(y)}
    if stderr is not None:
        data["stderr"] = np.ravel(stderr)
    table = pd.DataFrame(data)
    opts = dict(x="x", y="y", stderr="stderr" if stderr is not None else None)
    return fit_power_law(table, **opts, **options).fits.iloc[0]


def check_fit_options(huber: float | None, bootstrap: int, level: float) -> None:
    if huber is not None and not (np.isfinite(huber) and huber > 0):
        raise ValueError(f"huber must be a threshold > 0 (or None), got {huber!r}")
    if int(bootstrap) != bootstrap or bootstrap < 0:
        raise ValueError(f"bootstrap must be an integer >= 0, got {bootstrap!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")


def _fit_arrays(
    curves: Curves, huber: float | None, bootstrap: int, key: Any
) -> tuple[core.Params, core.Params | None]:
    batch = core.Curve(
        *(jnp.asarray(v) for v in (curves.logx, curves.y, curves.w)),
        jnp.asarray(curves.mask, dtype=jnp.float64),
    )
    delta = jnp.asarray(huber if huber is not None else 1.0, dtype=jnp.float64)
    params = core.Params(*(np.asarray(v) for v in core.fit_many(batch, delta, huber is not None)))
    if bootstrap == 0:
        return params, None
    boot = bootstrap_fits(
        batch,
        jnp.asarray(curves.unit),
        jnp.asarray(curves.n_units),
        as_key(key),
        int(bootstrap),
        lambda flat: core.fit_many(flat, delta, huber is not None),
    )
    return params, core.Params(*(np.asarray(v) for v in boot))


def _assemble(
    curves: Curves,
    params: core.Params,
    boot: core.Params | None,
    level: float,
    few: np.ndarray,
    x: str,
    y: str,
) -> PowerLawFits:
    ok = np.asarray(core.identifiable(params))
    scale = np.exp(params.a * np.log(curves.x_min))  # A in units of x: A_rel x_min^a
    values = {"E_inf": params.e_inf, "A": params.amp * scale, "a": params.a}
    boots = {}
    if boot is not None:
        boot_scale = np.exp(boot.a * np.log(curves.x_min[:, None]))
        boots = {"E_inf": boot.e_inf, "A": boot.amp * boot_scale, "a": boot.a}
    fits = curves.keys.copy()
    fits["n_points"] = curves.mask.sum(axis=1)
    parameter_columns(fits, values, boots, few, level)
    fits["loss"] = np.where(few, np.nan, params.loss)
    fits["status"] = status_column(few, ok)
    fits["x_min"], fits["x_max"] = curves.x_min, curves.x_max
    return PowerLawFits(fits, _points(curves, fits, x, y), x, y)


def parameter_columns(
    fits: pd.DataFrame,
    values: dict[str, np.ndarray],
    boots: dict[str, np.ndarray],
    few: np.ndarray,
    level: float,
) -> None:
    """Write each fitted parameter's column into ``fits``, and its bootstrap columns.

    Per name in ``values`` ((C,) estimates): the column itself; for a name also in ``boots``
    ((C, B) resamples) the percentile interval ``*_lo``, ``*_hi`` at ``level`` (the (1 - level)/2
    and (1 + level)/2 quantiles) and the bootstrap standard error ``*_se`` (ddof 1). Every column
    is NaN on the curves flagged ``few``.

    Example:
      >>> fits = pd.DataFrame(index=[0, 1])
      >>> boots = {"a": np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])}
      >>> parameter_columns(fits, {"a": np.array([2.0, 5.0])}, boots, np.array([False, True]), 0.5)
      >>> fits.round(3).to_dict("list")
      {'a': [2.0, nan], 'a_lo': [1.5, nan], 'a_hi': [2.5, nan], 'a_se': [1.0, nan]}
    """
    tail = (1 - level) / 2
    for name, value in values.items():
        fits[name] = np.where(few, np.nan, value)
        if name in boots:
            lo, hi = np.nanquantile(boots[name], [tail, 1 - tail], axis=1)
            fits[f"{name}_lo"], fits[f"{name}_hi"] = np.where(few, np.nan, [lo, hi])
            fits[f"{name}_se"] = np.where(few, np.nan, np.nanstd(boots[name], axis=1, ddof=1))


def status_column(few: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Each curve's ``FitStatus``: too few points, else ok where identifiable, else not.

    Example:
      >>> status_column(np.array([True, False, False]), np.array([True, True, False])).tolist()
      ['too_few_points', 'ok', 'not_identifiable']
    """
    return np.where(
        few, FitStatus.TOO_FEW_POINTS, np.where(ok, FitStatus.OK, FitStatus.NOT_IDENTIFIABLE)
    )


def _points(curves: Curves, fits: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    rows, cols = np.nonzero(curves.mask)
    xs = curves.x_min[rows] * np.exp(curves.logx[rows, cols])
    ys = curves.y[rows, cols]
    fitted = power_law(
        xs, fits["E_inf"].to_numpy()[rows], fits["A"].to_numpy()[rows], fits["a"].to_numpy()[rows]
    )
    out = curves.keys.iloc[rows].reset_index(drop=True)
    out[x], out[y], out["fitted"] = xs, ys, fitted
    with np.errstate(divide="ignore", invalid="ignore"):
        out["residual"] = np.log(ys) - np.log(fitted)
    return out
