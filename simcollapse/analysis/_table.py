"""From a tidy table to padded per-curve arrays: column checks, grouping, masks."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import pandas as pd


@dataclasses.dataclass(frozen=True)
class Curves:
    """Curves padded to a common length L (C curves).

    Attributes:
      keys: (C rows) the ``by`` values of each curve.
      logx, y, w: (C, L) log(x / x_min), y, and the row weight 1/sigma (0 on padding).
      mask: (C, L) True on real rows.
      unit: (C, L) bootstrap unit of each row (its row index, or its seed's index).
      n_units, n_distinct: (C,) number of units and of distinct x values per curve.
      x_min, x_max: (C,) range of x per curve.
    """

    keys: pd.DataFrame
    logx: np.ndarray
    y: np.ndarray
    w: np.ndarray
    mask: np.ndarray
    unit: np.ndarray
    n_units: np.ndarray
    n_distinct: np.ndarray
    x_min: np.ndarray
    x_max: np.ndarray

    def label(self, i: int) -> str:
        """'p2=0.1, m=100' for curve i ('(the whole table)' without ``by`` columns)."""
        row = self.keys.iloc[i]
        return ", ".join(f"{k}={v}" for k, v in row.items()) or "(the whole table)"


def check_columns(
    table: pd.DataFrame, x: str, y: str, by: Sequence[str], stderr: str | None
) -> None:
    """Raise a ValueError naming any requested column the table lacks."""
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas DataFrame, got {type(table).__name__}")
    roles = [("x", x), ("y", y), *(("by", b) for b in by)]
    if stderr is not None:
        roles.append(("stderr", stderr))
    for role, name in roles:
        if name not in table.columns:
            raise ValueError(
                f"{role} column {name!r} is not in the table; its columns are "
                f"{', '.join(map(str, table.columns))}"
            )


def check_positive(
    table: pd.DataFrame, column: str, group: np.ndarray, keys: pd.DataFrame
) -> np.ndarray:
    values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~(np.isfinite(values) & (values > 0))
    if bad.any():
        i = int(np.argmax(bad))
        where = ", ".join(f"{k}={v}" for k, v in keys.iloc[group[i]].items())
        raise ValueError(
            f"column {column!r} must hold finite values > 0; got {table[column].iloc[i]!r} "
            f"({int(bad.sum())} bad rows, first in curve {where or '(the whole table)'})"
        )
    return values


def pad_curves(
    table: pd.DataFrame,
    x: str,
    y: str,
    by: Sequence[str],
    stderr: str | None,
    seed: str | None,
) -> Curves:
    """Group ``table`` into curves (by ``by``), sorted by x, padded to the longest curve."""
    by = list(by)
    order = [*by, *([seed] if seed else []), x]
    data = table.sort_values(order, kind="stable").reset_index(drop=True)
    if by:
        grouped = data.groupby(by, sort=True, dropna=False)
        group = grouped.ngroup().to_numpy()
        keys = grouped.size().reset_index()[by]
    else:
        group, keys = np.zeros(len(data), dtype=int), pd.DataFrame(index=[0])
    xs = check_positive(data, x, group, keys)
    ys = check_positive(data, y, group, keys)
    sig = check_positive(data, stderr, group, keys) if stderr else ys
    n_curves = len(keys)
    pos = data.groupby(group, sort=False).cumcount().to_numpy()
    length = int(pos.max()) + 1 if len(data) else 1
    shape = (n_curves, length)
    mask = np.zeros(shape, dtype=bool)
    mask[group, pos] = True
    if seed:
        pair = data.groupby([pd.Series(group), data[seed]], sort=True).ngroup().to_numpy()
        first = pd.Series(pair).groupby(group).transform("min").to_numpy()
        unit_of_row = pair - first
        n_units = pd.Series(pair).groupby(group).nunique().to_numpy()
    else:
        unit_of_row, n_units = pos, np.bincount(group, minlength=n_curves)
    x_min = np.full(n_curves, np.inf)
    np.minimum.at(x_min, group, xs)
    x_max = np.zeros(n_curves)
    np.maximum.at(x_max, group, xs)
    arrays = {name: np.zeros(shape) for name in ("logx", "y", "w")}
    arrays["logx"][group, pos] = np.log(xs / x_min[group])
    arrays["y"][group, pos] = ys
    arrays["w"][group, pos] = 1.0 / sig
    unit = np.zeros(shape, dtype=np.int32)
    unit[group, pos] = unit_of_row
    n_distinct = pd.Series(xs).groupby(group).nunique().to_numpy()
    return Curves(
        keys,
        arrays["logx"],
        arrays["y"],
        arrays["w"],
        mask,
        unit,
        np.asarray(n_units, dtype=np.int32),
        n_distinct,
        x_min,
        x_max,
    )
