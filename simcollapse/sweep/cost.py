"""The estimated cost of a sweep's chunks: an honest progress bar and a --dry-run time estimate.

A chunk's cost is its floating-point work in a simple model (theory: passes over the spectrum per
fixed point; simulation: Gram matrix, eigendecomposition and the per-point solves of every draw).
Theory rows cost microseconds and simulation rows milliseconds, so a bar that counts rows is far
off when both share it; weighting by cost fixes that. ``estimate_seconds`` turns costs into time
with rates measured on a short calibration run of the spec's own cheapest chunks.

The cost model itself, ``chunk_cost``, is part of the plan (``sweep.planning``), which the runner
reads for its progress bar; it is importable from here too.
"""

from __future__ import annotations

import dataclasses
import time

import jax

from simcollapse.sweep.planning import Chunk, chunk_cost, plan
from simcollapse.sweep.run import compute_chunk
from simcollapse.sweep.spec import Sweep

__all__ = ["chunk_cost", "estimate_seconds"]

CALIBRATION_REPS = 2  # draws per device timed for the simulation rate
CALIBRATION_BYTES = 256 << 20  # a calibration never computes a chunk estimated larger than this


def time_chunk(spec: Sweep, chunk: Chunk) -> tuple[float, float]:
    """(first call, second call) seconds of computing ``chunk``: compilation + run, and run.

    Example:
      >>> from simcollapse.sweep.planning import plan
      >>> spec = Sweep(d=20, axes={"n": [50, 100]}, method="theory")
      >>> first, second = time_chunk(spec, plan(spec)[0])
      >>> first > 0 and second > 0
      True
    """
    times = []
    for _ in range(2):
        start = time.perf_counter()
        compute_chunk(spec, chunk)
        times.append(time.perf_counter() - start)
    return times[0], times[1]


def estimate_seconds(spec: Sweep, memory_budget: int | None = None) -> tuple[float, str]:
    """Estimated wall time of ``spec`` from a short calibration on this machine.

    For each method, the cheapest chunk (with few draws for simulation) is computed twice: the
    second call gives seconds per unit of cost, the first minus the second the compilation,
    paid once for theory and once per (n, m) shape for simulation.

    No chunk estimated above ``CALIBRATION_BYTES`` is computed: the estimate is then NaN.

    Returns:
      (seconds, a line saying what was calibrated).

    Example:
      A real estimate computes chunks (seconds to minutes; ``simcollapse sweep SPEC --dry-run``
      prints it). A spec whose cheapest chunk is too large to calibrate returns NaN at once:

      >>> from simcollapse.sweep import Sweep
      >>> spec = Sweep(d=1000, axes={"n": [10_000]}, method="simulate", reps=4)
      >>> seconds, how = estimate_seconds(spec)
      >>> seconds, how  # doctest: +ELLIPSIS
      (nan, 'calibrated on this machine: simulate not timed (its cheapest chunk needs ... MiB)')
    """

    chunks = plan(spec, memory_budget)
    total, notes = 0.0, []
    for method in ("theory", "simulate"):
        mine = [c for c in chunks if c.method == method]
        if not mine:
            continue
        probe_spec = spec
        if method == "simulate":
            probe_spec = dataclasses.replace(spec, reps=CALIBRATION_REPS * jax.device_count())
        probe = min(mine, key=lambda c: chunk_cost(probe_spec, c))
        if probe.memory > CALIBRATION_BYTES:  # --dry-run must not allocate a large chunk
            notes.append(f"{method} not timed (its cheapest chunk needs "
                         f"{probe.memory / 2**20:.0f} MiB)")  # fmt: skip
            total = float("nan")
            continue
        first, second = time_chunk(probe_spec, probe)
        rate = second / max(chunk_cost(probe_spec, probe), 1.0)
        compiles = len(mine) if method == "simulate" else 1
        total += rate * sum(chunk_cost(spec, c) for c in mine) + compiles * max(first - second, 0)
        notes.append(f"{method} {second * 1e3:.0f} ms for its cheapest chunk")
    return total, "calibrated on this machine: " + ", ".join(notes)
