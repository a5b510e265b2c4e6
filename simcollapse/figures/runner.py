"""Compute, draw and save registered figures: PNG and PDF beside the CSV they were drawn from."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib.pyplot as plt

from simcollapse.figures.registry import Figure, FigureContext, lookup, registry
from simcollapse.store import ResultStore

FORMATS = ("png", "pdf", "svg")


def load_builtin_figures() -> None:
    """Import the modules that register the built-in figures (idempotent)."""
    import simcollapse.figures.paper  # noqa: F401
    import simcollapse.figures.pareto  # noqa: F401
    import simcollapse.figures.width  # noqa: F401

    for optional in (
        "simcollapse.figures.mixing",
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


def write_figures(
    figures: Sequence[Figure],
    ctx: FigureContext,
    out: Path,
    formats: Sequence[str] = ("png", "pdf"),
    log: Callable[[str], None] = print,
) -> dict[str, list[Path]]:
    """For each figure: compute its table, write NAME.csv, draw it and write NAME.<format>.

    The sweep store (``ctx.store``) caches the computations, so a second run only redraws.
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
        fig = fig_spec.plot(table)
        for fmt in formats:
            path = out / f"{fig_spec.name}.{fmt}"
            fig.savefig(path, bbox_inches="tight")
            paths.append(path)
        plt.close(fig)
        written[fig_spec.name] = paths
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        log(f"{fig_spec.name}: {len(table):,} rows, {wall:.1f} s ({cpu:.1f} s of CPU)")
    return written


def default_store(out: Path) -> ResultStore:
    """The sweep store used by ``simcollapse figures``: OUT/.cache."""
    return ResultStore(out / ".cache")
