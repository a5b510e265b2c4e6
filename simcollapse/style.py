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
    """Set the seaborn theme used by all simcollapse figures.

    The theme: seaborn's "paper" context, white grid, the colour-blind palette, fonts 1.25 times
    larger; 110 dpi on screen, 150 dpi saved, legends without a frame (matplotlib's global
    ``rcParams``).

    Example:
      >>> apply_style()
      >>> plt.rcParams["legend.frameon"], plt.rcParams["savefig.dpi"]
      (False, 150.0)
    """
    sns.set_theme(context="paper", style="whitegrid", palette=PALETTE, font_scale=1.25)
    plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": 150, "legend.frameon": False})


def new_figure(
    ncols: int = 1, nrows: int = 1, width: float = 5.0, height: float = 3.8, **kwargs: Any
) -> tuple[Any, Any]:
    """A styled figure with ``nrows x ncols`` panels of the given size each.

    Args:
      ncols, nrows: the panels across and down.
      width, height: the size of one panel in inches; the figure is (width ncols, height nrows).
      **kwargs: passed on to ``plt.subplots`` (sharex, sharey, squeeze, ...).

    Returns:
      (figure, axes) as ``plt.subplots`` returns them, with constrained layout.

    Example:
      >>> fig, axes = new_figure(ncols=2, width=4.0, height=3.0)
      >>> axes.shape, [float(v) for v in fig.get_size_inches()]
      ((2,), [8.0, 3.0])
      >>> plt.close(fig)
    """
    apply_style()
    return plt.subplots(
        nrows, ncols, figsize=(width * ncols, height * nrows), constrained_layout=True, **kwargs
    )


def palette(n: int) -> list[Any]:
    """``n`` colours of the colour-blind palette.

    Returns:
      ``n`` RGB triples in [0, 1] (seaborn's "colorblind", repeating after ten colours).

    Example:
      >>> import matplotlib.colors as mc
      >>> [mc.to_hex(c) for c in palette(3)]
      ['#0173b2', '#de8f05', '#029e73']
    """
    return sns.color_palette(PALETTE, n)
