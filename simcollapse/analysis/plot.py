"""Data with fitted power-law curves, one colour per curve, log-log axes."""

from __future__ import annotations

from typing import Any

import numpy as np

from simcollapse.analysis.powerlaw import PowerLawFits, power_law
from simcollapse.style import new_figure, palette

__all__ = ["plot_fits"]

MAX_CURVES = 12


def plot_fits(result: PowerLawFits, max_curves: int = MAX_CURVES) -> Any:
    """Points of each curve and its fit E_inf + A x^-a (dashed: the floor E_inf).

    At most ``max_curves`` curves are drawn (the first ones of ``result.fits``); the title says so.

    Args:
      result: the fits of ``fit_power_law`` (its points and one row per curve).
      max_curves: the most curves drawn.

    Returns:
      matplotlib Figure.

    Example:
      >>> import pandas as pd
      >>> from simcollapse.analysis.powerlaw import fit_power_law
      >>> n = np.geomspace(10, 1e4, 10)
      >>> table = pd.DataFrame({"n": n, "p2": 0.1, "total": 0.01 + 2.0 * n**-0.7})
      >>> fig = plot_fits(fit_power_law(table, by=["p2"], bootstrap=0))
      >>> ax = fig.axes[0]
      >>> ax.get_xlabel(), ax.get_ylabel(), ax.get_title()
      ('n', 'total', 'total = E_inf + A n^-a')
      >>> [t.get_text() for t in ax.get_legend().get_texts()]
      ['p2=0.1 (data)', 'fit: 0.01 + 2 n^-0.7 (ok)', 'floor p2=0.1']
      >>> import matplotlib.pyplot as plt
      >>> plt.close(fig)
    """
    fits = result.fits
    keys = [c for c in result.points.columns if c not in (result.x, result.y, "fitted",
                                                          "residual")]  # fmt: skip
    fig, ax = new_figure(width=6.0, height=4.2)
    shown = fits.head(max_curves)
    colours = palette(max(len(shown), 1))
    for i, (_, row) in enumerate(shown.iterrows()):
        label = ", ".join(f"{k}={row[k]:g}" if isinstance(row[k], float) else f"{k}={row[k]}"
                          for k in keys) or "data"  # fmt: skip
        mask = np.ones(len(result.points), dtype=bool)
        for k in keys:
            mask &= (result.points[k] == row[k]).to_numpy()
        pts = result.points[mask]
        ax.scatter(pts[result.x], pts[result.y], s=14, color=colours[i], label=f"{label} (data)")
        if row["status"] == "too_few_points":
            continue
        grid = np.geomspace(row["x_min"], row["x_max"], 200)
        fit_label = (
            f"fit: {row['E_inf']:.3g} + {row['A']:.3g} {result.x}^-{row['a']:.3g} ({row['status']})"
        )
        ax.plot(grid, power_law(grid, row["E_inf"], row["A"], row["a"]), color=colours[i],
                label=fit_label)  # fmt: skip
        if row["E_inf"] > 0:
            ax.axhline(row["E_inf"], color=colours[i], ls=":", lw=1, label=f"floor {label}")
    ax.set(xscale="log", yscale="log", xlabel=result.x, ylabel=result.y)
    more = f" (first {len(shown)} of {len(fits)} curves)" if len(fits) > len(shown) else ""
    ax.set_title(f"{result.y} = E_inf + A {result.x}^-a{more}")
    ax.legend(fontsize="x-small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig
