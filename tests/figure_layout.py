"""Readability checks of a drawn matplotlib figure: legends over data, texts over texts.

Both use the boxes matplotlib computes when it draws (``get_window_extent``), in pixels.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.collections import Collection
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.text import Text


def _data_points(ax: Any) -> np.ndarray:
    """Display coordinates of every data point drawn in ``ax``: line vertices and markers."""
    pts = []
    for line in ax.get_lines():
        if not isinstance(line, Line2D) or not line.get_visible():
            continue
        xy = np.asarray(line.get_xydata(), float)
        if xy.size:
            pts.append(line.get_transform().transform(xy))
    for coll in ax.collections:
        if not isinstance(coll, Collection) or not coll.get_visible():
            continue
        offsets = np.asarray(coll.get_offsets(), float)
        if offsets.size and offsets.ndim == 2:
            pts.append(coll.get_offset_transform().transform(offsets))
    if not pts:
        return np.empty((0, 2))
    out = np.concatenate(pts)
    return out[np.all(np.isfinite(out), axis=1)]


def _inside_axes(ax: Any, pts: np.ndarray) -> np.ndarray:
    box = ax.get_window_extent()
    return pts[
        (pts[:, 0] >= box.x0)
        & (pts[:, 0] <= box.x1)
        & (pts[:, 1] >= box.y0)
        & (pts[:, 1] <= box.y1)
    ]


def legends_over_data(fig: Any) -> list[str]:
    """One line per legend box that contains a data point of an axes it is drawn over."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legends = [*fig.legends]
    for ax in fig.axes:
        legends += [a for a in ax.get_children() if isinstance(a, Legend)]
    problems = []
    for leg in legends:
        box = leg.get_window_extent(renderer).shrunk(0.98, 0.98)
        for i, ax in enumerate(fig.axes):
            pts = _inside_axes(ax, _data_points(ax))
            hit = pts[
                (pts[:, 0] > box.x0)
                & (pts[:, 0] < box.x1)
                & (pts[:, 1] > box.y0)
                & (pts[:, 1] < box.y1)
            ]
            if len(hit):
                title = ax.get_title() or f"axes {i}"
                problems.append(f"legend covers {len(hit)} data point(s) of {title!r}")
    return problems


def _tick_labels(axis: Any) -> list[Text]:
    """The major tick labels of ``axis`` whose tick lies inside the view (those drawn)."""
    lo, hi = sorted(axis.get_view_interval())
    span = (hi - lo) * 1e-9
    out = []
    for tick in axis.get_major_ticks():
        if lo - span <= tick.get_loc() <= hi + span:
            out += [t for t in (tick.label1, tick.label2) if t.get_visible()]
    return out


def _texts(fig: Any) -> list[Text]:
    texts: list[Text] = []
    if fig._suptitle is not None:
        texts.append(fig._suptitle)
    texts += list(fig.texts)
    for ax in fig.axes:
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label]
        texts += list(ax.texts)
        texts += _tick_labels(ax.xaxis) + _tick_labels(ax.yaxis)
    seen: set[int] = set()
    out = []
    for t in texts:
        if t.get_visible() and t.get_text().strip() and id(t) not in seen:
            seen.add(id(t))
            out.append(t)
    return out


def overlapping_texts(fig: Any, pad: float = 1.0) -> list[str]:
    """One line per pair of texts (titles, axis and tick labels) whose boxes overlap, and per
    legend box over such a text."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = _texts(fig)
    boxes = [t.get_window_extent(renderer) for t in texts]
    problems = []
    legends = [*fig.legends]
    for ax in fig.axes:
        legends += [a for a in ax.get_children() if isinstance(a, Legend)]
    for leg in legends:
        box = leg.get_window_extent(renderer)
        for t, b in zip(texts, boxes, strict=True):
            dx = min(box.x1, b.x1) - max(box.x0, b.x0)
            dy = min(box.y1, b.y1) - max(box.y0, b.y0)
            if dx > pad and dy > pad:
                problems.append(f"a legend covers the text {t.get_text()!r}")
    for i in range(len(texts)):
        a = boxes[i]
        for j in range(i + 1, len(texts)):
            b = boxes[j]
            dx = min(a.x1, b.x1) - max(a.x0, b.x0)
            dy = min(a.y1, b.y1) - max(a.y0, b.y0)
            if dx > pad and dy > pad:
                problems.append(f"{texts[i].get_text()!r} overlaps {texts[j].get_text()!r}")
    return problems
