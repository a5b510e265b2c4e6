"""Summaries over seeds: the one mean +- standard error of the library's tables."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["mean_se"]


def mean_se(table: pd.DataFrame, by: Sequence[str], col: str) -> pd.DataFrame:
    """Per group of ``by``: the mean of ``col`` over its rows (seeds), their count, and the
    standard error se = std(ddof=1) / sqrt(count), 0 for a group of one row.

    Args:
      table: a tidy table, one row per seed and group.  by: the group columns.  col: the value.

    Returns:
      One row per group: the ``by`` columns, ``mean``, ``count`` and ``se``.

    Example:
      >>> import pandas as pd
      >>> t = pd.DataFrame({"n": [100, 100, 200], "mse": [0.40, 0.44, 0.30]})
      >>> mean_se(t, ["n"], "mse").round(3).to_dict("list")
      {'n': [100, 200], 'mean': [0.42, 0.3], 'count': [2, 1], 'se': [0.02, 0.0]}
    """
    g = table.groupby(list(by))[col]
    out = g.agg(["mean", "count"]).reset_index()
    out["se"] = g.std(ddof=1).fillna(0.0).to_numpy() / np.sqrt(out["count"].to_numpy())
    return out
