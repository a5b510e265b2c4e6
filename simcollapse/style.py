"""One visual style for every plot (the figures and the analysis fits): seaborn theme,
colour-blind palette, readable at half size.

Example:
  >>> fig, ax = new_figure(ncols=2)
  >>> len(ax), len(palette(3))
  (2, 3)
  >>> plt.close(fig)
"""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

PALETTE = "colorblind"


def apply_style() -> None:
    """Set the seaborn theme used by all simcollapse figures."""
    sns.set_theme(context="paper", style="whitegrid", palette=PALETTE, font_scale=1.25)
    plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": 150, "legend.frameon": False})


def new_figure(
    ncols: int = 1, nrows: int = 1, width: float = 5.0, height: float = 3.8, **kwargs: Any
) -> tuple[Any, Any]:
    """A styled figure with ``nrows x ncols`` panels of the given size each."""
    apply_style()
    return plt.subplots(
        nrows, ncols, figsize=(width * ncols, height * nrows), constrained_layout=True, **kwargs
    )


def palette(n: int) -> list[Any]:
    """``n`` colours of the colour-blind palette."""
    return sns.color_palette(PALETTE, n)
