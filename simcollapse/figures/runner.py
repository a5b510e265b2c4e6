"""Compute, draw and save registered figures: PNG and PDF beside the CSV they were drawn from."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

import simcollapse.figures.paper  # noqa: F401 - registers the paper's figures
import simcollapse.figures.pareto  # noqa: F401 - registers pareto
import simcollapse.figures.width  # noqa: F401 - registers the width figures
from simcollapse.figures.claims import CLAIMS_FILE, evaluate_folder, failing, folder_levels
from simcollapse.figures.registry import Figure, FigureContext, lookup, registry
from simcollapse.store import ResultStore

FORMATS = ("png", "pdf", "svg")


def load_builtin_figures() -> None:
    """Import the other modules that register built-in figures (idempotent).

    paper, pareto and width load with this module. The rest load here by name, as plugins: a
    module that is not in this checkout is skipped, and the lm and neural figures live in packages
    above ``figures`` (they import the registry, not the other way round)."""
    for optional in (
        "simcollapse.figures.mixing",
        "simcollapse.figures.verification",
        "simcollapse.figures.golden",
        "simcollapse.figures.analysis",
        "simcollapse.figures.joint_law",
        "simcollapse.neural.figures",
        "simcollapse.neural.theory_figure",
        "simcollapse.lm.figures",
    ):
        try:
            __import__(optional)
        except ModuleNotFoundError as err:
            if err.name is None or not optional.startswith(err.name):
                raise


def check_writable(out: Path) -> None:
    """Create ``out`` or raise an OSError that says why it cannot hold figures."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OSError(f"cannot create the output folder {out}: {err.strerror}") from err
    if not os.access(out, os.W_OK):
        raise OSError(f"the output folder {out} is not writable")


def select(names: Sequence[str] | None) -> list[Figure]:
    """The figures called ``names`` (all when None), each once, in the order asked.

    A name is a registered figure or a paper figure (fig1, figure-1: every registered figure
    that reproduces it); an unknown name raises a KeyError listing the known ones.
    """
    load_builtin_figures()
    if not names:
        return list(registry().values())
    chosen = {f.name: f for name in names for f in lookup(name)}
    return list(chosen.values())


def check_level(out: Path, mode: str, overwrite: bool = False) -> None:
    """Refuse (ValueError, one line) to write ``mode`` figures into a folder of another level.

    The level of each figure in a folder is recorded in its claims.csv; ``overwrite=True``
    allows replacing them.

    Example:
      >>> import tempfile
      >>> out = Path(tempfile.mkdtemp())
      >>> pd.DataFrame({"figure": ["pareto"], "level": ["default"]}).to_csv(
      ...     out / "claims.csv", index=False)
      >>> check_level(out, "quick")  # doctest: +ELLIPSIS
      Traceback (most recent call last):
          ...
      ValueError: ... holds default-level figures (pareto); refusing to write quick ones ...
      >>> check_level(out, "quick", overwrite=True)
    """
    levels = folder_levels(out)
    other = sorted({name for name, lev in levels.items() if lev != mode})
    if other and not overwrite:
        held = ", ".join(sorted({levels[n] for n in other}))
        shown = ", ".join(other[:3]) + (f" and {len(other) - 3} more" if len(other) > 3 else "")
        raise ValueError(
            f"{out} holds {held}-level figures ({shown}); refusing to write {mode} ones "
            "there: pick another --out or pass --overwrite"
        )


def write_claims(
    out: Path, run_level: dict[str, str] | None = None, log: Callable[[str], None] = print
) -> pd.DataFrame:
    """Evaluate the claims of every figure whose table is in ``out``; write out/claims.csv.

    ``run_level`` gives the level of the figures just written (the others keep the level
    recorded in claims.csv). Each claim that does not hold is logged as one line.
    """
    recorded = {**folder_levels(out), **(run_level or {})}
    load_builtin_figures()
    claims = evaluate_folder(out, list(registry().values()))
    claims["level"] = [recorded.get(name, "default") for name in claims["figure"]]
    claims.to_csv(out / CLAIMS_FILE, index=False)
    for line in failing(claims):
        log(line)
    return claims


def redraw(
    figures: Sequence[Figure],
    out: Path,
    formats: Sequence[str] = ("png", "pdf"),
    log: Callable[[str], None] = print,
) -> dict[str, list[Path]]:
    """Draw each figure again from its table ``out/NAME.csv`` (nothing is recomputed)."""
    written: dict[str, list[Path]] = {}
    for fig_spec in figures:
        path = out / f"{fig_spec.name}.csv"
        if not path.exists():
            raise ValueError(f"no table {path} to draw {fig_spec.name} from")
        written[fig_spec.name] = [path, *_draw(fig_spec, pd.read_csv(path), out, formats)]
        log(f"{fig_spec.name}: drawn from {path}")
    return written


def _draw(fig_spec: Figure, table: pd.DataFrame, out: Path, formats: Sequence[str]) -> list[Path]:
    fig = fig_spec.plot(table)
    paths = []
    for fmt in formats:
        path = out / f"{fig_spec.name}.{fmt}"
        fig.savefig(path, bbox_inches="tight")
        paths.append(path)
    plt.close(fig)
    return paths


def write_figures(
    figures: Sequence[Figure],
    ctx: FigureContext,
    out: Path,
    formats: Sequence[str] = ("png", "pdf"),
    log: Callable[[str], None] = print,
) -> dict[str, list[Path]]:
    """For each figure: compute its table, write NAME.csv, draw it and write NAME.<format>.

    The sweep store (``ctx.store``) caches the computations, so a second run only redraws.
    Then the claims of every figure in ``out`` are evaluated and written to out/claims.csv.
    """
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ValueError(f"unknown format(s) {bad}; known: {', '.join(FORMATS)}")
    check_writable(out)
    written: dict[str, list[Path]] = {}
    for fig_spec in figures:
        start, cpu = time.perf_counter(), time.process_time()
        table = fig_spec.compute(ctx)
        paths = [out / f"{fig_spec.name}.csv"]
        table.to_csv(paths[0], index=False)
        paths += _draw(fig_spec, table, out, formats)
        written[fig_spec.name] = paths
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        log(f"{fig_spec.name}: {len(table):,} rows, {wall:.1f} s ({cpu:.1f} s of CPU)")
    write_claims(out, {f.name: ctx.mode for f in figures}, log)
    return written


def default_store(out: Path) -> ResultStore:
    """The sweep store used by ``simcollapse figures``: OUT/.cache."""
    return ResultStore(out / ".cache")
