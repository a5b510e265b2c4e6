"""The figure registry: name -> (compute a tidy table, draw it).

Each figure is a ``Figure``: a function that computes its tidy table (through the sweep machinery
and the result store, so a second run only redraws) and a function that draws that table. Modules
add their figures with ``register``; ``simcollapse figures`` lists, computes, draws and saves them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from simcollapse.store import ResultStore

Mode = Literal["quick", "full"]

__all__ = ["Figure", "FigureContext", "Mode", "get", "names", "register", "registry"]


@dataclasses.dataclass(frozen=True)
class FigureContext:
    """What a figure's compute function gets.

    Attributes:
      mode: "quick" (small, CPU, seconds) or "full" (paper scale).
      store: where finished work is cached (None: compute everything, keep nothing).
      data_dir: folder with the four MNIST IDX files, or None (built-in digits).
      corpus: a user text corpus, or None (the built-in story grammar).
      progress: show progress bars.
      seed: base seed for every random draw.
    """

    mode: Mode = "quick"
    store: ResultStore | None = None
    data_dir: Path | None = None
    corpus: Path | None = None
    progress: bool = False
    seed: int = 0


@dataclasses.dataclass(frozen=True)
class Figure:
    """A registered figure.

    Attributes:
      name: short identifier (file names, ``--only``).
      caption: one line, printed by ``--list`` and used in the README.
      compute: FigureContext -> tidy pandas DataFrame (the CSV written beside the picture).
      plot: DataFrame -> matplotlib Figure.
      group: which part of the project it belongs to (theory, mixing, mnist, lm).
    """

    name: str
    caption: str
    compute: Callable[[FigureContext], pd.DataFrame]
    plot: Callable[[pd.DataFrame], Any]
    group: str = "theory"


_REGISTRY: dict[str, Figure] = {}


def register(figure: Figure) -> Figure:
    """Add a figure to the registry (a name registered twice is an error)."""
    if figure.name in _REGISTRY and _REGISTRY[figure.name] is not figure:
        raise ValueError(f"a figure named {figure.name!r} is already registered")
    _REGISTRY[figure.name] = figure
    return figure


def registry() -> dict[str, Figure]:
    """All registered figures, in registration order."""
    return dict(_REGISTRY)


def names() -> list[str]:
    return list(_REGISTRY)


def get(name: str) -> Figure:
    """The figure called ``name``; an unknown name raises a KeyError listing the known ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(
            f"unknown figure {name!r}; known figures: {', '.join(_REGISTRY) or '(none)'}"
        ) from None
