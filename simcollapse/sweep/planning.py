"""Plan a sweep: split its grid into chunks that each fit a memory budget, and estimate their work.

For a setting with a fast path (``Setting.fast_path``), theory chunks are ranges of the outer grid
of its solve axes (n, m, lam for random projections), each solving its fixed points once, and
simulation chunks are one shape each (n, m); the memory of a draw is the fast path's cost model.
Settings without one (and sweeps with zipped axes) get one chunk per sample size and method
(``sweep.generic``). ``chunk_cost`` is a chunk's floating-point work in a simple model (the unit
of the runner's progress bar and of ``sweep.cost``'s time estimate).
"""

from __future__ import annotations

import dataclasses

import jax
import numpy as np

from simcollapse._validate import machine_memory
from simcollapse.settings.base import features_draw_flops
from simcollapse.simulate import driver
from simcollapse.sweep import generic
from simcollapse.sweep.axes import grid_points
from simcollapse.sweep.spec import Sweep

__all__ = [
    "Chunk",
    "chunk_cost",
    "default_memory_budget",
    "describe_plan",
    "draw_bytes",
    "plan",
    "shapes",
]

LIMIT_SOURCES = "the machine's memory, a container's limit or ulimit -v"
ROW_BYTES = 384  # a theory row at its peak: outputs, DataFrame, parquet write (measured ~350)
MAX_THEORY_ROWS = 1 << 21  # at most ~2M rows per theory chunk (resume granularity, progress)
ROW_FLOPS = 20.0  # combining one (p2, c2, sigma2) row from a fixed point's sums


@dataclasses.dataclass(frozen=True)
class Chunk:
    """One stored piece of a sweep.

    Attributes:
      method: "theory" or "simulate".
      index: position in the plan (files are named by it).
      outer: for theory, the [start, stop) range of flat outer-grid indices; for simulation the
        flat index of one (n, m) shape.
      rows: rows it produces. memory: estimated peak bytes per device.

    Example:
      >>> from simcollapse.sweep import Sweep
      >>> spec = Sweep(d=50, axes={"n": [100, 1000], "p2": [0.0, 0.1]}, method="both", reps=4)
      >>> [(c.method, c.index, c.outer, c.rows) for c in plan(spec)]
      [('theory', 0, (0, 2), 4), ('simulate', 1, (0, 1), 2), ('simulate', 2, (1, 2), 2)]
    """

    method: str
    index: int
    outer: tuple[int, int]
    rows: int
    memory: int


def default_memory_budget() -> int:
    """Half of the first device's memory (GPU bytes_limit, else the machine's RAM).

    ``driver.memory_budget(fraction=0.5, cap=None)``: total memory, not free, so that a plan
    does not change from run to run on the same machine.

    Example:
      >>> default_memory_budget() == driver.memory_budget(fraction=0.5, cap=None)
      True
      >>> default_memory_budget() >= driver.memory_budget()  # a quarter, at most 1 GiB
      True
    """
    return driver.memory_budget(fraction=0.5, cap=None)


def outer_grid(spec: Sweep) -> dict[str, np.ndarray]:
    """Flat arrays over the product of the outer axes (C order)."""
    return grid_points(spec.outer_axes, {a: spec.values(a) for a in spec.outer_axes})


def shapes(spec: Sweep) -> np.ndarray:
    """The distinct simulated shapes, one row each: the values of the fast path's
    ``shape_axes`` (n, or n and m for random projections).

    Returns:
      (S, len(shape_axes)) floats, the outer product of those axes in C order.

    Example:
      >>> from simcollapse.sweep import Sweep
      >>> spec = Sweep(d=50, axes={"n": [100, 200], "m": [20, 80]}, setting="random_projection",
      ...              method="simulate", reps=4)
      >>> shapes(spec).tolist()
      [[100.0, 20.0], [100.0, 80.0], [200.0, 20.0], [200.0, 80.0]]
    """
    names = spec.fast_path.shape_axes
    flat = grid_points(names, {a: spec.values(a) for a in names})
    return np.stack([flat[a] for a in names], axis=-1)


def shape_values(spec: Sweep, row: np.ndarray) -> dict[str, int]:
    """One row of ``shapes`` as {axis: int}."""
    return {a: int(v) for a, v in zip(spec.fast_path.shape_axes, row, strict=True)}


def draw_bytes(spec: Sweep, shape: dict[str, int], points: int) -> int:
    """Estimated bytes for one Monte Carlo draw at one shape evaluating ``points`` points
    (the fast path's cost model).

    The items of the draw's arrays (for ridge: X, the features and their tail sums, the Gram and
    its eigenbasis, the per-point weights) times 8 bytes in float64, 4 in float32.

    Example:
      >>> from simcollapse.sweep import Sweep
      >>> spec = Sweep(d=50, axes={"n": [100]}, method="simulate", reps=4)
      >>> single = Sweep(d=50, axes={"n": [100]}, method="simulate", reps=4, dtype="float32")
      >>> draw_bytes(spec, {"n": 100}, 4) == 2 * draw_bytes(single, {"n": 100}, 4)
      True
    """
    item = 8 if spec.dtype == "float64" else 4
    return int(spec.fast_path.draw_bytes(spec.d, shape, points, item))


def results_bytes(spec: Sweep, points: int) -> int:
    """Estimated bytes of the per-draw results of one simulated (n, m) shape and (c2, sigma2):
    ``reps`` draws of four terms at ``points`` points, on the devices and gathered on the host."""
    return 2 * int(spec.reps) * points * 4 * 8


def _too_big(what: str, need: int, budget: int, lower: str) -> ValueError:
    have = machine_memory()
    if need > have:  # no budget helps: name the process's own limit
        return ValueError(
            f"{what} needs about {size_text(need)}, more than this process may use "
            f"({size_text(have)}: {LIMIT_SOURCES}): lower {lower}"
        )
    return ValueError(
        f"{what} needs about {need / 2**30:.2f} GiB, more than the memory budget "
        f"{budget / 2**30:.2f} GiB: lower {lower} or raise --memory-budget"
    )


def _check_budget(budget: int) -> None:
    """Refuse, on the CPU, a budget above what this process may use (it would fail mid-run)."""
    have = machine_memory()
    if jax.default_backend() == "cpu" and budget > have:
        raise ValueError(
            f"--memory-budget {size_text(budget)} is more than this process may use "
            f"({size_text(have)}: {LIMIT_SOURCES}): lower it"
        )


def plan(spec: Sweep, memory_budget: int | None = None) -> list[Chunk]:
    """Split the sweep into chunks that each fit the memory budget (bytes).

    Every chunk is held to the budget before anything is allocated: a request no chunk can
    satisfy (a spectrum, a set of inner axes or a number of draws too large) is refused.

    Raises:
      ValueError: one theory point (its spectrum and inner axes), one Monte Carlo draw or the
        draws' results alone do not fit the budget; the message names the parameter.

    Example:
      >>> from simcollapse.sweep import Sweep
      >>> spec = Sweep(d=50, axes={"n": [100, 1000], "p2": [0.0, 0.1]}, method="theory")
      >>> chunks = plan(spec)
      >>> len(chunks), sum(c.rows for c in chunks)
      (1, 4)
    """
    budget = int(memory_budget or default_memory_budget())
    if memory_budget:
        _check_budget(budget)
    if spec.is_generic:
        return _plan_per_n(spec, budget)
    chunks: list[Chunk] = []
    inner = int(np.prod([spec.values(a).size for a in spec.inner_axes]))
    if spec.method in ("theory", "both"):
        n_outer = int(np.prod([spec.values(a).size for a in spec.outer_axes]))
        per_outer = inner * ROW_BYTES + 64 * spec.d
        if per_outer > budget:
            if 64 * spec.d >= inner * ROW_BYTES:
                raise _too_big(
                    f"d={spec.d:,} (one theory point's spectrum)", per_outer, budget, "d"
                )
            raise _too_big(
                f"one (n, m, lam) point with {inner:,} rows over the axes "
                f"{', '.join(spec.inner_axes)}",
                per_outer, budget, "the size of those axes",
            )  # fmt: skip
        step = max(1, min(budget // per_outer, max(1, MAX_THEORY_ROWS // inner)))
        for start in range(0, n_outer, step):
            stop = min(n_outer, start + step)
            rows = (stop - start) * inner
            chunks.append(
                Chunk("theory", len(chunks), (start, stop), rows, (stop - start) * per_outer)
            )
    if spec.method in ("simulate", "both"):
        points = draw_points(spec)
        combos = spec.values("c2").size * spec.values("sigma2").size
        for i, row in enumerate(shapes(spec)):
            shape = shape_values(spec, row)
            one = draw_bytes(spec, shape, points)
            if one > budget:
                at = ", ".join(f"{a}={v:g}" for a, v in shape.items())
                where = f"{at}, d={spec.d}"
                if one > machine_memory():
                    raise _too_big(f"one draw at {where}", one, budget, "n, m or d")
                raise ValueError(
                    f"memory budget {size_text(budget)} is too small for one draw at {where} "
                    f"(needs about {size_text(one)}): raise --memory-budget"
                )
            results = results_bytes(spec, points)
            if one + results > budget:
                raise _too_big(
                    f"reps={spec.reps:,} (the per-draw results at {points:,} points)",
                    one + results,
                    budget,
                    "reps",
                )
            rows = points * combos
            chunks.append(Chunk("simulate", len(chunks), (i, i + 1), rows, one + results))
    return chunks


def draw_points(spec: Sweep) -> int:
    """Points one simulated shape evaluates: the product of the setting's grid axes outside
    the fast path's ``shape_axes`` (lam x p2 for ridge and random projections)."""
    names = [a for a in spec.setting_obj.axes if a not in spec.fast_path.shape_axes]
    return int(np.prod([spec.values(a).size for a in names]))


def chunk_cost(spec: Sweep, chunk: Chunk) -> float:
    """Estimated floating-point work of ``chunk`` (the unit of the progress bar).

    Example:
      >>> spec = Sweep(d=100, axes={"n": [200, 400]}, method="both", reps=8)
      >>> costs = [chunk_cost(spec, c) for c in plan(spec)]
      >>> costs[1] > 100 * costs[0]  # one simulated n against the whole theory grid
      True
    """
    fast = spec.fast_path
    if chunk.method == "theory":
        outer = chunk.outer[1] - chunk.outer[0]
        solve = fast.solve_flops(spec.d) if fast is not None else 12.0 * spec.d
        return outer * solve + chunk.rows * ROW_FLOPS
    combos = spec.values("c2").size * spec.values("sigma2").size
    if fast is None:  # one sample size: ridge's draw on the raw features at its points
        n, d = float(spec.values("n")[chunk.outer[0]]), float(spec.d)
        points = spec.values("lam").size * spec.values("p2").size
        return spec.reps * combos * features_draw_flops(n, d, d, points)
    shape = shape_values(spec, shapes(spec)[chunk.outer[0]])
    return spec.reps * combos * fast.draw_flops(spec.d, shape, draw_points(spec))


def size_text(nbytes: float) -> str:
    """A size in the unit that shows it: '512 B', '3.5 KiB', '12.3 MiB', '4.2 GiB'.

    Example:
      >>> size_text(100), size_text(3 * 2**10), size_text(1.5 * 2**30)
      ('100 B', '3 KiB', '1.5 GiB')
    """
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if nbytes >= scale:
            return f"{nbytes / scale:.3g} {unit}"
    return f"{nbytes:.0f} B"


def _plan_per_n(spec: Sweep, budget: int) -> list[Chunk]:
    """A setting without a fast path (or zipped axes): one chunk per sample size and method."""
    chunks: list[Chunk] = []
    rows = generic.rows_per_n(spec)
    methods = ("theory", "simulate") if spec.method == "both" else (spec.method,)
    for method in methods:
        for i, n in enumerate(spec.values("n")):
            one = rows * ROW_BYTES
            if one > budget:
                raise _too_big(f"n={n:g} with {rows:,} rows", one, budget, "the grid's axes")
            if method == "simulate":
                one = generic.draw_bytes(spec, int(n))
                if one > budget:
                    raise ValueError(
                        f"memory budget {size_text(budget)} is too small for one draw at "
                        f"n={n:g}, d={spec.d} (needs about {size_text(one)}): "
                        "raise --memory-budget"
                    )
                results = results_bytes(spec, rows)
                if one + results > budget:
                    raise _too_big(
                        f"reps={spec.reps:,} (the per-draw results of {rows:,} rows)",
                        one + results, budget, "reps",
                    )  # fmt: skip
                one += results
            chunks.append(Chunk(method, len(chunks), (i, i + 1), rows, one))
    return chunks


def describe_plan(spec: Sweep, memory_budget: int | None = None) -> str:
    """A few lines for --dry-run: grid size, chunk plan, estimated memory, devices.

    Example:
      >>> from simcollapse.sweep import Sweep
      >>> spec = Sweep(d=50, axes={"n": [100, 1000], "p2": [0.0, 0.1]}, method="theory")
      >>> describe_plan(spec).splitlines()[1:3]
      ['axes: n[2], p2[2]', 'grid: 4 points per method']
    """
    budget = int(memory_budget or default_memory_budget())
    chunks = plan(spec, budget)
    lines = [
        f"spec {spec.hash}: {spec.setting}, method {spec.method}, d={spec.d}",
        "axes: " + ", ".join(f"{a}[{spec.values(a).size}]" for a in spec.axes),
        *(
            ["zipped: " + ", ".join("(" + ", ".join(g) + ")" for g in spec.zipped)]
            if spec.zipped
            else []
        ),  # fmt: skip
        f"grid: {spec.size:,} points per method",
        f"devices: {jax.device_count()} ({jax.devices()[0].platform}), "
        f"memory budget {budget / 2**30:.2f} GiB",
    ]
    for method in ("theory", "simulate"):
        mine = [c for c in chunks if c.method == method]
        if mine:
            peak = max(c.memory for c in mine)
            extra = ""
            if method == "simulate":
                extra = f", {spec.reps} draws each, one at a time per device"
            lines.append(
                f"{method}: {len(mine)} chunk(s) of up to {max(c.rows for c in mine):,} rows"
                f"{extra}; estimated peak {peak / 2**20:.1f} MiB"
            )
    return "\n".join(lines)
