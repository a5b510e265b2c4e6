"""The figure registry: name -> (compute a tidy table, draw it).

Each figure is a ``Figure``: a function that computes its tidy table (through the sweep machinery
and the result store, so a second run only redraws) and a function that draws that table. Modules
add their figures with ``register``; ``simcollapse figures`` lists, computes, draws and saves them.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from simcollapse._aliases import seed_keyword
from simcollapse.figures.claims import Claim
from simcollapse.keys import as_seed
from simcollapse.store import ResultStore

Mode = Literal["quick", "default", "full"]
MODES: tuple[Mode, ...] = ("quick", "default", "full")
NEW = "new: not in the paper"

__all__ = [
    "MODES",
    "Claim",
    "NEW",
    "Figure",
    "FigureContext",
    "Mode",
    "aliases",
    "cached_table",
    "get",
    "lookup",
    "names",
    "register",
    "registry",
]


@dataclasses.dataclass(frozen=True)
class FigureContext:
    """What a figure's compute function gets.

    Attributes:
      mode: "quick" (small, minutes on a 2-core CPU for all figures), "default" (the best a
        2-core CPU does in about an hour for all figures) or "full" (paper scale, an accelerator
        advised).
      store: where finished work is cached (None: compute everything, keep nothing).
      data_dir: folder with the four MNIST IDX files, or None (built-in digits).
      corpus: a user text corpus, or None (the built-in story grammar).
      progress: show progress bars.
      key: the randomness of every draw, an int or a ``jax.random`` key.
      seed: the integer seed of ``key`` (``keys.as_seed``: an int key is its own seed), the
        seed that the figures' sweeps and experiments record.

    Example:
      >>> ctx = FigureContext(key=3)
      >>> ctx.mode, ctx.store is None, ctx.seed
      ('quick', True, 3)
    """

    mode: Mode = "quick"
    store: ResultStore | None = None
    data_dir: Path | None = None
    corpus: Path | None = None
    progress: bool = False
    key: Any = 0

    @property
    def seed(self) -> int:
        """The integer seed of ``key`` (an int key is returned as it is)."""
        return as_seed(self.key)


# The older keyword: FigureContext(seed=s) is FigureContext(key=s), with a DeprecationWarning.
FigureContext.__init__ = seed_keyword(FigureContext.__init__)  # type: ignore[method-assign]


@dataclasses.dataclass(frozen=True)
class Figure:
    """A registered figure.

    Attributes:
      name: short identifier (file names, ``--only``).
      caption: one line, printed by ``--list`` and used in the README.
      compute: FigureContext -> tidy pandas DataFrame (the CSV written beside the picture).
      plot: DataFrame -> matplotlib Figure.
      group: which part of the project it belongs to (theory, mixing, mnist, lm).
      paper: the figure of the paper it reproduces ("Figure 1", "Figure 7, left") or
        ``NEW`` ("new: not in the paper").
      claims: what the figure shows, each a ``Claim`` checked on its table
        (``simcollapse.figures.claims``); evaluated on every run and written to claims.csv.
      work: FigureContext -> ``simcollapse.figures.dry_run.Work``, what the figure computes at
        the context's level, said without computing it (``simcollapse figures --dry-run``); None:
        the dry run records the sweeps of ``compute`` instead (``dry_run.figure_work``).

    Example:
      >>> import pandas as pd
      >>> fig = Figure("demo", "a demo figure", compute=lambda ctx: pd.DataFrame({"x": [ctx.seed]}),
      ...          plot=lambda table: None, paper="Figure 1")
      >>> fig.paper_number, fig.compute(FigureContext(key=3)).x.tolist()
      (1, [3])
    """

    name: str
    caption: str
    compute: Callable[[FigureContext], pd.DataFrame]
    plot: Callable[[pd.DataFrame], Any]
    group: str = "theory"
    paper: str = NEW
    claims: tuple[Claim, ...] = ()
    work: Callable[[FigureContext], Any] | None = None

    def __post_init__(self) -> None:
        ids = [c.id for c in self.claims]
        if len(set(ids)) != len(ids):
            raise ValueError(f"figure {self.name!r}: claim ids must be unique, got {ids}")

    @property
    def paper_number(self) -> int | None:
        """The number of the paper figure it reproduces, or None for a new figure."""
        match = re.match(r"\s*figure\s+(\d+)", self.paper, flags=re.IGNORECASE)
        return int(match.group(1)) if match else None

    @property
    def full_caption(self) -> str:
        """The caption with what it reproduces in front: "Paper Figure 1: ..." or "New: ..."."""
        if self.paper_number is None:
            return f"New (not in the paper): {self.caption}"
        return f"Paper {self.paper}: {self.caption}"


_REGISTRY: dict[str, Figure] = {}


def register(figure: Figure) -> Figure:
    """Add a figure to the registry (a name registered twice is an error).

    Example:
      >>> import simcollapse.figures.runner as runner
      >>> runner.load_builtin_figures()
      >>> pareto = get("pareto")
      >>> register(pareto) is pareto  # registering the same figure again is harmless
      True
      >>> register(Figure("pareto", "another", compute=pareto.compute, plot=pareto.plot))
      Traceback (most recent call last):
          ...
      ValueError: a figure named 'pareto' is already registered
    """
    if figure.name in _REGISTRY and _REGISTRY[figure.name] is not figure:
        raise ValueError(f"a figure named {figure.name!r} is already registered")
    _REGISTRY[figure.name] = figure
    return figure


def registry() -> dict[str, Figure]:
    """All registered figures, in registration order.

    Example:
      >>> import simcollapse.figures.runner as runner
      >>> runner.load_builtin_figures()
      >>> figures = registry()
      >>> figures["pareto"].paper, list(figures) == names()
      ('Figure 1', True)
    """
    return dict(_REGISTRY)


def names() -> list[str]:
    """The names of the registered figures, in registration order.

    Example:
      >>> import simcollapse.figures.runner as runner
      >>> runner.load_builtin_figures()
      >>> "pareto" in names()
      True
    """
    return list(_REGISTRY)


def aliases(number: int) -> tuple[str, ...]:
    """The names that select paper figure ``number``: fig1, figure1, figure-1, figure_1.

    Example:
      >>> aliases(3)
      ('fig3', 'figure3', 'figure-3', 'figure_3')
      >>> {_paper_number(a) for a in aliases(3)}  # each one is read back as figure 3
      {3}
    """
    return (f"fig{number}", f"figure{number}", f"figure-{number}", f"figure_{number}")


def _paper_number(alias: str) -> int | None:
    match = re.fullmatch(r"fig(?:ure)?[-_ ]?(\d+)", alias.strip().lower())
    return int(match.group(1)) if match else None


def get(name: str) -> Figure:
    """The figure called ``name``; an unknown name raises a KeyError listing the known ones.

    Example:
      >>> import simcollapse.figures.runner as runner
      >>> runner.load_builtin_figures()
      >>> get("pareto").group
      'theory'
      >>> get("nope")  # doctest: +ELLIPSIS
      Traceback (most recent call last):
          ...
      KeyError: "unknown figure 'nope'; known figures: ..."
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(
            f"unknown figure {name!r}; known figures: {', '.join(_REGISTRY) or '(none)'}"
        ) from None


def lookup(name: str) -> list[Figure]:
    """The figures a name selects: a registered name, or a paper figure (fig1, figure-1).

    A paper figure may be reproduced by several registered figures (its panels); all of them are
    returned, in registration order.

    Raises:
      KeyError: neither a registered name nor a paper figure that some registered figure
        reproduces; the message lists the known names and paper figures.

    Example:
      >>> import simcollapse.figures.runner as runner
      >>> runner.load_builtin_figures()
      >>> [f.name for f in lookup("fig1")]
      ['pareto']
    """
    if name in _REGISTRY:
        return [_REGISTRY[name]]
    number = _paper_number(name)
    found = [f for f in _REGISTRY.values() if number is not None and f.paper_number == number]
    if found:
        return found
    papers = sorted({f.paper_number for f in _REGISTRY.values()} - {None})
    raise KeyError(
        f"unknown figure {name!r}; known figures: {', '.join(_REGISTRY) or '(none)'}; "
        f"paper figures: {', '.join(f'fig{k}' for k in papers) or '(none)'}"
    )


def cached_table(
    ctx: FigureContext,
    namespace: str,
    name: str,
    cfg: dict[str, Any],
    compute: Callable[[dict[str, Any]], pd.DataFrame],
) -> pd.DataFrame:
    """The table of figure ``name``, from ``ctx.store`` when it holds it, else computed and stored.

    The key is the figure, the level and the fully resolved config ``cfg``, so an edited config
    never reads a stale table. The table gains a leading ``figure`` column.

    Args:
      ctx: the figure context; its store (None: always computed, nothing kept) and its level.
      namespace: the store's folder for this kind of table.
      name: the figure's name, written in the ``figure`` column.
      cfg: the resolved config, passed to ``compute`` and part of the key.
      compute: cfg -> the figure's table (without the ``figure`` column).

    Returns:
      The table, ``figure`` first, index 0..rows-1.

    Example:
      >>> import tempfile
      >>> from simcollapse.store import ResultStore
      >>> ctx = FigureContext(store=ResultStore(tempfile.mkdtemp()))
      >>> calls = []
      >>> def compute(cfg):
      ...     calls.append(cfg)
      ...     return pd.DataFrame({"n": cfg["n"], "total": [0.5, 0.25]})
      >>> table = cached_table(ctx, "figures", "demo", {"n": [10, 20]}, compute)
      >>> again = cached_table(ctx, "figures", "demo", {"n": [10, 20]}, compute)  # from the store
      >>> list(table.columns), len(calls), again.equals(table)
      (['figure', 'n', 'total'], 1, True)
    """
    key = {"figure": name, "mode": ctx.mode, **cfg}

    def run() -> pd.DataFrame:
        table = compute(cfg)
        table.insert(0, "figure", name)
        return table.reset_index(drop=True)

    if ctx.store is None:
        return run()
    return ctx.store.get_or_compute(namespace, key, run)
