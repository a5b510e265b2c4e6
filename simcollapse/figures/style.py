"""The figures' style: ``simcollapse.style`` (shared with the analysis plots), under its older name.

Example:
  >>> from simcollapse import style
  >>> new_figure is style.new_figure
  True
"""

from simcollapse.style import PALETTE, apply_style, new_figure, palette

__all__ = ["PALETTE", "apply_style", "new_figure", "palette"]
