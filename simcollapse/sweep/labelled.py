"""A sweep table as an ``xarray.Dataset``: the grid axes as coordinates, one variable per term."""

from __future__ import annotations

from typing import Any

import pandas as pd

from simcollapse.results import import_xarray

TERMS = ("bias", "variance", "zeta", "total", "stderr", "status")


def to_xarray(table: pd.DataFrame, axes: list[str] | None = None) -> Any:
    """The table of ``run_sweep`` as an N-dimensional ``xarray.Dataset``.

    Args:
      table: a sweep table (one row per grid point and method).
      axes: the coordinate columns (default: "method" and every column the grid varies, among
        the columns before the terms).

    Returns:
      A Dataset with dimensions ``axes`` and variables bias, variance, zeta, total, stderr,
      status (NaN where a combination is missing).

    Raises:
      ImportError: xarray is not installed (``pip install simcollapse[xarray]``).
      ValueError: the axes do not identify the rows (a grid point appears twice).

    Example:
      >>> from simcollapse.sweep import Sweep, run_sweep
      >>> table = run_sweep(Sweep(d=50, axes={"n": [100, 200], "lam": [0.0, 0.1]}))
      >>> to_xarray(table).total.dims
      ('method', 'n', 'lam')
    """
    import_xarray()
    if axes is None:
        front = list(table.columns[: list(table.columns).index("bias")])
        axes = [c for c in front if c == "method" or table[c].nunique() > 1]
    frame = table.set_index(axes)[list(TERMS)]
    if not frame.index.is_unique:
        raise ValueError(f"axes {axes} do not identify the rows: some grid point appears twice")
    return frame.to_xarray()
