"""``simcollapse figures --dry-run``: the estimated time of every figure on this device.

A figure's work at a level is a ``Work``: the sweeps it runs and other tasks, each task an
amount of work in the unit of a ``Rate`` (flops, fits, training steps) with the programs it
compiles. A rate is measured once per dry run, on a short calibration shared by every figure
that uses it, as

    seconds = sum over tasks of  per_unit * amount + per_call * calls + per_compile * compiles.

Sweeps are priced by the sweep cost model (``sweep.planning.chunk_cost``, floating-point work per
chunk) at two rates, one for theory chunks and one for simulated chunks (``SWEEP_THEORY``,
``SWEEP_SIMULATE``), each measured on two ridge sweeps of different sizes; a compile is paid once
per program (theory: per setting, d and chunk size; simulation: per setting, d, shape and draws),
as XLA's cache does in one process. A sweep that an earlier figure of the same dry run already
ran costs nothing (``simcollapse figures`` keeps it in OUT/.cache): the estimate assumes an empty
store.

How a figure says its work: a ``work`` function on its registration (``Figure.work``,
FigureContext -> Work), or, without one, its own ``compute`` run with its sweeps recorded instead
of computed (``recording``): each sweep of a figure goes through ``figure_sweep``, which returns
a stand-in table (the sweep's grid, every error term 1.0) while recording; the seconds the
compute takes outside its sweeps are measured and added. A figure whose work cannot be said gets
a row that says why.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import jax
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from simcollapse.figures.registry import MODES, Figure, FigureContext
from simcollapse.problem import Problem
from simcollapse.store import ResultStore
from simcollapse.sweep import Sweep, run_sweep
from simcollapse.sweep.axes import grid_points
from simcollapse.sweep.cost import time_chunk
from simcollapse.sweep.planning import Chunk, chunk_cost, plan, shape_values, shapes
from simcollapse.sweep.run import frame
from simcollapse.theory.random_projection import rp_error

__all__ = [
    "DRAWING",
    "SWEEP_SIMULATE",
    "SWEEP_THEORY",
    "THEORY_POINTS",
    "Rate",
    "Task",
    "Throughput",
    "Work",
    "call_times",
    "figure_estimates",
    "figure_sweep",
    "print_estimates",
    "recorded_sweeps",
    "recording",
    "sweep_tasks",
]


# ------------------------------------------------------------------------------- rates and work


@dataclasses.dataclass(frozen=True)
class Throughput:
    """Measured seconds per unit of work, per call and per compiled program.

    Example:
      >>> Throughput(per_unit=1e-9, per_call=1e-3, per_compile=0.5).seconds(2e9, 10, 2)
      3.01
    """

    per_unit: float
    per_call: float = 0.0
    per_compile: float = 0.0
    note: str = ""

    def seconds(self, amount: float, calls: int = 0, compiles: int = 0) -> float:
        """per_unit * amount + per_call * calls + per_compile * compiles."""
        return self.per_unit * amount + self.per_call * calls + self.per_compile * compiles


@dataclasses.dataclass(frozen=True)
class Rate:
    """A kind of work and how to measure its throughput on this device.

    Attributes:
      name: what is measured, shown in the estimate ("sweep theory", "GPT model flops").
      unit: the unit of ``Task.amount`` ("flop", "step").
      calibrate: () -> Throughput, a short measurement (seconds) run once per dry run.

    Example:
      >>> rate = Rate("toy", "flop", lambda: Throughput(per_unit=1e-9))
      >>> rate.calibrate().seconds(3e9)
      3.0
    """

    name: str
    unit: str
    calibrate: Callable[[], Throughput]


@dataclasses.dataclass(frozen=True)
class Task:
    """An amount of work of one kind: ``amount`` units in ``calls`` calls, ``compiles`` programs.

    Example:
      >>> rate = Rate("toy", "flop", lambda: Throughput(per_unit=1e-9, per_compile=2.0))
      >>> task = Task(rate, amount=1e9, calls=4, compiles=1)
      >>> rate.calibrate().seconds(task.amount, task.calls, task.compiles)
      3.0
    """

    rate: Rate
    amount: float
    calls: int = 0
    compiles: int = 0


@dataclasses.dataclass(frozen=True)
class Work:
    """What a figure computes at a level, without computing it.

    Attributes:
      sweeps: the sweeps it runs (priced by the sweep cost model, shared with other figures).
      tasks: the rest of its work, each priced by its rate.
      seconds: seconds measured directly (the compute outside the sweeps when it was recorded).
      note: how the work was counted, shown in the estimate.
      key: names work that figures share (one stored computation drawn twice): counted for
        the first figure of a run that has it, free for the others.

    Example:
      >>> from simcollapse.sweep import Sweep
      >>> work = Work(sweeps=(Sweep(d=50, axes={"n": [100, 200]}),), note="one theory sweep")
      >>> len(work.sweeps), work.tasks, work.seconds
      (1, (), 0.0)
    """

    sweeps: tuple[Sweep, ...] = ()
    tasks: tuple[Task, ...] = ()
    seconds: float = 0.0
    note: str = ""
    key: str | None = None


# ------------------------------------------------------------------------- recording sweeps

_RECORDED: contextvars.ContextVar[list[Sweep] | None] = contextvars.ContextVar(
    "simcollapse_recorded_sweeps", default=None
)


def figure_sweep(
    spec: Sweep, store: ResultStore | None = None, progress: bool = False
) -> pd.DataFrame:
    """``run_sweep(spec, store, progress=progress)``, or a stand-in table while ``recording``.

    Every sweep of a figure goes through here, so a dry run can list them without computing.

    Example:
      >>> from simcollapse.sweep import Sweep
      >>> spec = Sweep(d=50, axes={"n": [100, 200], "p2": [0.0, 0.1]}, method="theory")
      >>> with recording() as specs:
      ...     table = figure_sweep(spec)
      >>> len(specs), len(table), table.total.tolist()
      (1, 4, [1.0, 1.0, 1.0, 1.0])
    """
    recorded = _RECORDED.get()
    if recorded is None:
        return run_sweep(spec, store, progress=progress)
    recorded.append(spec)
    return stand_in(spec)


@contextlib.contextmanager
def recording() -> Iterator[list[Sweep]]:
    """Within the block, ``figure_sweep`` records its sweeps (the yielded list) and returns
    stand-in tables instead of computing them; after it, ``figure_sweep`` computes again.

    Example:
      >>> from simcollapse.sweep import Sweep
      >>> with recording() as specs:
      ...     _ = figure_sweep(Sweep(d=20, axes={"n": [50, 100]}, method="theory"))
      >>> [s.values("n").tolist() for s in specs]
      [[50.0, 100.0]]
    """
    specs: list[Sweep] = []
    token = _RECORDED.set(specs)
    try:
        yield specs
    finally:
        _RECORDED.reset(token)


def stand_in(spec: Sweep) -> pd.DataFrame:
    """The rows ``run_sweep(spec)`` returns (the grid, one row per point and method), with every
    error term 1.0, stderr 0 and status 0: what a figure's table code reads, computed from nothing.

    Example:
      >>> from simcollapse.sweep import Sweep
      >>> spec = Sweep(d=50, axes={"n": [100], "p2": [0.0, 0.1]}, method="both", reps=4)
      >>> table = stand_in(spec)
      >>> table[["method", "n", "p2", "total"]].values.tolist()  # doctest: +NORMALIZE_WHITESPACE
      [['theory', 100, 0.0, 1.0], ['theory', 100, 0.1, 1.0],
       ['simulate', 100, 0.0, 1.0], ['simulate', 100, 0.1, 1.0]]
    """
    setting = spec.setting_obj
    names = (*setting.axes, *setting.names("length"), "c2", "sigma2")
    coords = grid_points(names, {a: spec.values(a) for a in names}, tuple(spec.zipped))
    size = next(iter(coords.values())).size
    terms = {k: np.ones(size) for k in ("bias", "variance", "zeta", "total")}
    terms |= {"stderr": np.zeros(size), "status": np.zeros(size, np.int32)}
    methods = ("theory", "simulate") if spec.method == "both" else (spec.method,)
    return pd.concat([frame(spec, m, coords, terms) for m in methods], ignore_index=True)


# ------------------------------------------------------------------------------ pricing sweeps


def _calibration_specs(method: str) -> tuple[Sweep, Sweep]:
    """Two ridge sweeps (power-law spectrum) of one chunk each, the second about 30x the first."""
    if method == "theory":
        axes = {"lam": [1e-3], "p2": [0.0, 0.1]}
        return (
            Sweep(d=100, axes={"n": np.geomspace(50, 5e3, 8).round(), **axes}, method=method),
            Sweep(d=400, axes={"n": np.geomspace(50, 5e3, 64).round(), **axes}, method=method),
        )
    return (
        Sweep(d=50, axes={"n": [100], "p2": [0.0, 0.1]}, method=method, reps=4),
        Sweep(d=200, axes={"n": [800], "p2": [0.0, 0.1]}, method=method, reps=8),
    )


def _timed(spec: Sweep) -> tuple[float, float, float]:
    """(cost, first call, second call) of the only chunk of ``spec``."""
    (chunk,) = plan(spec)
    return chunk_cost(spec, chunk), *time_chunk(spec, chunk)


def _sweep_throughput(method: str) -> Throughput:
    """Seconds per unit of ``chunk_cost``, per chunk and per compile, from two calibration
    sweeps: the per-unit rate is the slope between them, the per-chunk time the rest of the
    small one's second call, the compile the mean of first minus second call."""
    (c1, f1, s1), (c2, f2, s2) = (_timed(s) for s in _calibration_specs(method))
    per_unit = max(s2 - s1, 0.0) / max(c2 - c1, 1.0) or s2 / max(c2, 1.0)
    per_call = max(s1 - per_unit * c1, 0.0)
    per_compile = max(0.5 * ((f1 - s1) + (f2 - s2)), 0.0)
    note = f"{c2 / s2 / 1e9:.2g} GFLOP/s, {per_compile:.1f} s per compile"
    return Throughput(per_unit, per_call, per_compile, note)


SWEEP_THEORY = Rate("sweep theory", "flop", lambda: _sweep_throughput("theory"))
SWEEP_SIMULATE = Rate("sweep simulation", "flop", lambda: _sweep_throughput("simulate"))


def call_times(run: Callable[[], Any], calls: int) -> list[float]:
    """Seconds of each of ``calls`` calls of ``run()``, its result blocked on (the first call
    compiles).

    Example:
      >>> len(call_times(lambda: sum(range(100)), 3))
      3
    """
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        jax.block_until_ready(run())
        times.append(time.perf_counter() - start)
    return times


def _theory_throughput() -> Throughput:
    """Seconds per point of random-projection theory (its fixed point: power-law spectrum,
    d = 100, 400 points of n at once) and per compile: one call to compile and run, a second
    to run."""
    problem = Problem.power_law(100)
    n = np.geomspace(10.0, 1e6, 400)
    times = call_times(
        lambda: np.asarray(rp_error(problem, n, 50.0, 1e-3, 0.1, throw=False).total), 2
    )
    note = f"{times[1] / n.size * 1e6:.3g} us per point, {times[0] - times[1]:.1f} s per compile"
    return Throughput(times[1] / n.size, 0.0, max(times[0] - times[1], 0.0), note)


def _draw_and_save() -> None:
    """A small two-panel figure, saved as PNG and PDF and closed."""
    fig, axes = plt.subplots(1, 2, figsize=(8, 4))
    for ax in axes:
        ax.errorbar(np.arange(40), np.arange(40) ** 0.5, yerr=0.1, fmt="o-")
        ax.set(xscale="log", yscale="log", title="calibration")
    ax.legend(["a"])
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("png", "pdf"):
            fig.savefig(Path(tmp) / f"figure.{fmt}", bbox_inches="tight")
    plt.close(fig)


def _drawing_throughput() -> Throughput:
    """Seconds to draw a small two-panel figure and save it as PNG and PDF (the second of two)."""
    times = call_times(_draw_and_save, 2)
    return Throughput(times[1], note=f"{times[1]:.2f} s per figure")


# The theory a figure evaluates outside its sweeps (fits, optima, closed forms), in points of
# theory: a figure says how many it evaluates and how many programs it compiles.
THEORY_POINTS = Rate("theory outside sweeps", "point", _theory_throughput)
# Writing a figure: its table, PNG and PDF (one unit per figure).
DRAWING = Rate("drawing", "figure", _drawing_throughput)


def _program(spec: Sweep, chunk: Chunk) -> tuple[Any, ...]:
    """What identifies the compiled program of a chunk (one compile per distinct value)."""
    base = (spec.setting or spec.model or "ridge", chunk.method, spec.d, spec.dtype)
    if chunk.method == "theory":
        return (*base, chunk.outer[1] - chunk.outer[0], chunk.rows)
    if spec.fast_path is not None:
        shape = tuple(shape_values(spec, shapes(spec)[chunk.outer[0]]).values())
    else:
        shape = (float(spec.values("n")[chunk.outer[0]]),)
    return (*base, shape, spec.reps, chunk.rows, tuple(sorted(spec.options.items())))


def _refits(spec: Sweep, chunk: Chunk) -> float:
    """Fits per simulated draw of a setting without a fast path: one per round or generation
    (``chunk_cost`` counts one fit; the fast paths' cost models count their own)."""
    length = spec.setting_obj.length
    if chunk.method == "theory" or spec.fast_path is not None or not length:
        return 1.0
    return float(spec.values(length).max())


def sweep_tasks(
    specs: Sequence[Sweep], done: set[str] | None = None, compiled: set[Any] | None = None
) -> tuple[Task, ...]:
    """The sweeps' chunks as two tasks (theory, simulation): their summed ``chunk_cost`` (times
    the rounds or generations of a simulated setting without a fast path: each refits), their
    number and the programs they compile.

    ``done`` (spec hashes) and ``compiled`` (program keys) are what earlier figures of the same
    run computed; they are updated, so a sweep or a compile is counted once per run.

    Example:
      >>> from simcollapse.sweep import Sweep
      >>> spec = Sweep(d=50, axes={"n": [100, 200]}, method="both", reps=4)
      >>> done = set()
      >>> [(t.rate.name, t.calls, t.compiles) for t in sweep_tasks([spec, spec], done)]
      [('sweep theory', 1, 1), ('sweep simulation', 2, 2)]
      >>> sweep_tasks([spec], done)  # already run by then: nothing left
      ()
    """
    done = set() if done is None else done
    compiled = set() if compiled is None else compiled
    totals = {"theory": [0.0, 0, 0], "simulate": [0.0, 0, 0]}
    for spec in specs:
        if spec.hash in done:
            continue
        done.add(spec.hash)
        for chunk in plan(spec):
            total = totals[chunk.method]
            total[0] += chunk_cost(spec, chunk) * _refits(spec, chunk)
            total[1] += 1
            key = _program(spec, chunk)
            if key not in compiled:
                compiled.add(key)
                total[2] += 1
    rates = {"theory": SWEEP_THEORY, "simulate": SWEEP_SIMULATE}
    return tuple(
        Task(rates[m], amount, calls, compiles)
        for m, (amount, calls, compiles) in totals.items()
        if calls
    )


# ------------------------------------------------------------------------------- figure work


def recorded_sweeps(compute: Callable[[], Any]) -> tuple[Sweep, ...]:
    """The sweeps ``compute()`` runs through ``figure_sweep``, recorded, not computed.

    Example:
      >>> from simcollapse.sweep import Sweep
      >>> specs = recorded_sweeps(lambda: figure_sweep(Sweep(d=20, axes={"n": [50]})))
      >>> [s.d for s in specs]
      [20]
    """
    with recording() as specs, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compute()
    return tuple(specs)


def figure_work(fig: Figure, ctx: FigureContext) -> Work:
    """The work of ``fig`` at ``ctx``'s level: its ``work`` function, or its compute recorded.

    Example:
      >>> from simcollapse.figures.registry import get
      >>> import simcollapse.figures.runner as runner
      >>> runner.load_builtin_figures()
      >>> work = figure_work(get("pareto"), FigureContext(mode="quick"))
      >>> sorted({s.method for s in work.sweeps}), work.note
      (['simulate', 'theory'], 'its sweeps, recorded')
    """
    if fig.work is not None:
        return fig.work(ctx)
    ctx = dataclasses.replace(ctx, store=None, progress=False)
    start = time.perf_counter()
    specs = recorded_sweeps(lambda: fig.compute(ctx))
    seconds = time.perf_counter() - start
    return Work(sweeps=specs, seconds=seconds, note="its sweeps, recorded")


def _describe(work: Work, tasks: Sequence[Task]) -> str:
    parts = [work.note] if work.note else []
    for t in tasks:
        if t.rate is DRAWING:
            continue
        text = f"{t.rate.name} {t.amount:.3g} {t.rate.unit}"
        if t.compiles:
            text += f", {t.compiles} compile(s)"
        parts.append(text)
    if work.seconds >= 0.05:
        parts.append(f"{work.seconds:.1f} s measured outside the sweeps")
    return "; ".join(parts)


def _estimate(
    figures: Sequence[Figure],
    ctx: FigureContext,
    throughput: Callable[[Rate], Throughput] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Throughput]]:
    """The rows of ``figure_estimates`` and the throughputs measured for them (rate name ->).

    The calibrations run with JAX's persistent compilation cache off: a compile is timed as a
    first run pays it, whatever earlier runs left on disk, and nothing is written there.
    """
    if ctx.mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, got {ctx.mode!r}")
    if not figures:
        raise ValueError("figures: no figure to estimate")
    cached = jax.config.jax_enable_compilation_cache
    jax.config.update("jax_enable_compilation_cache", False)
    try:
        return _estimate_rows(figures, ctx, throughput)
    finally:
        jax.config.update("jax_enable_compilation_cache", cached)


def _estimate_rows(
    figures: Sequence[Figure],
    ctx: FigureContext,
    throughput: Callable[[Rate], Throughput] | None,
) -> tuple[list[dict[str, Any]], dict[str, Throughput]]:
    measure = throughput or (lambda rate: rate.calibrate())
    measured: dict[str, Throughput] = {}
    done: set[str] = set()
    compiled: set[Any] = set()
    rows = []
    for fig in figures:
        try:
            work = figure_work(fig, ctx)
            if work.key is not None and work.key in done:
                work = Work(note=f"{work.note}, counted above (shared)")
            elif work.key is not None:
                done.add(work.key)
            tasks = [*sweep_tasks(work.sweeps, done, compiled), *work.tasks, Task(DRAWING, 1)]
            seconds = work.seconds
            for task in tasks:
                if task.rate.name not in measured:
                    measured[task.rate.name] = measure(task.rate)
                rate = measured[task.rate.name]
                seconds += rate.seconds(task.amount, task.calls, task.compiles)
        except Exception as err:  # a figure that cannot be estimated says why; the rest go on
            why = str(err).splitlines()[0] if str(err) else type(err).__name__
            rows.append({"name": fig.name, "seconds": None, "how": f"not estimated: {why}"})
            continue
        rows.append({"name": fig.name, "seconds": float(seconds), "how": _describe(work, tasks)})
    return rows, measured


def figure_estimates(
    figures: Sequence[Figure],
    mode: str,
    key: Any = 0,
    data_dir: Path | None = None,
    corpus: Path | None = None,
    throughput: Callable[[Rate], Throughput] | None = None,
) -> list[dict[str, Any]]:
    """One row per figure: name, seconds (None: not estimated) and how it was estimated.

    The figures are taken in order as ``simcollapse figures`` runs them: a sweep or compile that
    an earlier one did is not counted again. Each rate is calibrated once, on first use.

    Args:
      figures: registered ``Figure`` objects.
      mode: the level, "quick", "default" or "full".
      key: the randomness of the figures (an int or a ``jax.random`` key).
      data_dir: the MNIST IDX files (None: the built-in digits).
      corpus: the text corpus of the language-model figures (None: the story grammar).
      throughput: Rate -> Throughput, how a rate is measured (None: ``rate.calibrate()``, once
        per rate).

    Returns:
      One dict per figure: name, seconds (float, or None with the reason in how) and how.

    Example:
      >>> from simcollapse.figures.registry import get
      >>> import simcollapse.figures.runner as runner
      >>> runner.load_builtin_figures()
      >>> (row,) = figure_estimates([get("rp_error_terms")], "quick")
      >>> row["name"], row["seconds"] > 0, row["how"].split(";")[0]
      ('rp_error_terms', True, 'its sweeps, recorded')
    """
    ctx = FigureContext(mode=mode, data_dir=data_dir, corpus=corpus, key=key)  # type: ignore[arg-type]
    return _estimate(figures, ctx, throughput)[0]


def hms(seconds: float) -> str:
    """Seconds as 1h02m03s, 2m03s or 12.3s.

    Example:
      >>> hms(3723.4), hms(61.6), hms(12.34)
      ('1h02m03s', '1m02s', '12.3s')
    """
    if seconds < 59.95:
        return f"{seconds:.1f}s"
    h, rem = divmod(int(round(seconds)), 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


def print_estimates(
    figures: Sequence[Figure],
    mode: str,
    key: Any = 0,
    data_dir: Path | None = None,
    corpus: Path | None = None,
) -> list[dict[str, Any]]:
    """Print ``figure_estimates`` as a table: one row per figure, the rates measured, the device
    and the total; returns the rows.

    Example:
      >>> from simcollapse.figures.registry import get
      >>> import simcollapse.figures.runner as runner
      >>> runner.load_builtin_figures()
      >>> _ = print_estimates([get("rp_error_terms")], "quick")  # doctest: +ELLIPSIS
      estimated times at the quick level on ...:
        rp_error_terms  ...  its sweeps, recorded; sweep theory ... flop, ... compile(s)
        rate measured, sweep theory: ... GFLOP/s, ... s per compile
        rate measured, drawing: ... s per figure
        total: ... (every figure estimated)
    """
    ctx = FigureContext(mode=mode, data_dir=data_dir, corpus=corpus, key=key)  # type: ignore[arg-type]
    rows, measured = _estimate(figures, ctx)
    width = max(len(r["name"]) for r in rows)
    print(f"estimated times at the {mode} level on {jax.devices()[0].device_kind}:")
    for r in rows:
        t = "-" if r["seconds"] is None else hms(r["seconds"])
        print(f"  {r['name']:<{width}}  {t:>9}  {r['how']}")
    for name, rate in measured.items():
        print(f"  rate measured, {name}: {rate.note}")
    known = sum(r["seconds"] for r in rows if r["seconds"] is not None)
    missing = sum(r["seconds"] is None for r in rows)
    tail = f"{missing} figure(s) not estimated" if missing else "every figure estimated"
    print(f"  total: {hms(known)} ({tail})")
    return rows
