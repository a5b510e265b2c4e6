"""Timing, memory and machine records shared by the benchmark suites .

Method: the first call of a function is its compile (plus one run) and is recorded apart; then
``repeats`` (>= 5) timed calls, each ended by ``jax.block_until_ready`` on its whole result, give
raw times, median, min and max (``time_calls``: several functions, their timed calls
interleaved). Peak memory is the device's ``peak_bytes_in_use`` where the
backend reports memory statistics, else the process's resident set size (RSS, psutil) sampled
after the runs together with the high-water mark from ``resource.getrusage``.
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import jax
import jaxlib
import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from simcollapse.simulate.driver import matmul_precision

SCHEMA_VERSION = 1
CASE_FIELDS = (
    "suite",
    "name",
    "params",
    "work",
    "work_unit",
    "compile_s",
    "times_s",
    "median_s",
    "min_s",
    "max_s",
    "throughput",
    "baseline",
    "ratio",
    "flops",
    "gflops",
    "fraction_of_peak",
    "peak_memory_bytes",
    "memory_source",
)


def block(out: Any) -> Any:
    """``jax.block_until_ready`` on every leaf (NumPy leaves pass through)."""
    return jax.block_until_ready(out)


def time_call(fn: Callable[[], Any], repeats: int, warmup: bool = True) -> dict[str, Any]:
    """Time ``fn`` (no arguments): first call apart as compile, then ``repeats`` timed calls.

    Returns:
      dict with compile_s (the first call, None when ``warmup`` is False), times_s (list),
      median_s, min_s, max_s, and ``result`` (the last output).

    Example:
      >>> out = time_call(lambda: 3, repeats=2, warmup=False)
      >>> out["compile_s"], len(out["times_s"]), out["result"]
      (None, 2, 3)
    """
    return time_calls({"fn": fn}, repeats, warmup)["fn"]


def time_calls(
    fns: dict[str, Callable[[], Any]], repeats: int, warmup: bool = True
) -> dict[str, dict[str, Any]]:
    """``time_call`` of several functions with their timed calls interleaved.

    Every function's first call is its compile (when ``warmup``); then ``repeats`` rounds each
    call every function once, in order, so that a change of a shared machine's load during the
    run falls on all of them alike and their ratios compare calls made side by side in time.

    Returns:
      name -> the dict ``time_call`` returns.

    Example:
      >>> out = time_calls({"a": lambda: 1, "b": lambda: 2}, repeats=3)
      >>> len(out["a"]["times_s"]), out["b"]["result"]
      (3, 2)
    """
    compile_s: dict[str, float | None] = dict.fromkeys(fns)
    if warmup:
        for name, fn in fns.items():
            t0 = time.perf_counter()
            block(fn())
            compile_s[name] = time.perf_counter() - t0
    times: dict[str, list[float]] = {name: [] for name in fns}
    last: dict[str, Any] = dict.fromkeys(fns)
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            last[name] = block(fn())
            times[name].append(time.perf_counter() - t0)
    return {
        name: {
            "compile_s": compile_s[name],
            "times_s": t,
            "median_s": statistics.median(t),
            "min_s": min(t),
            "max_s": max(t),
            "result": last[name],
        }
        for name, t in times.items()
    }


def peak_memory() -> tuple[int, str]:
    """(bytes, source): device peak where the backend reports it, else the process's RSS peak."""
    try:
        stats = jax.devices()[0].memory_stats() or {}
    except Exception:  # noqa: BLE001 - backends without memory statistics
        stats = {}
    if "peak_bytes_in_use" in stats:
        return int(stats["peak_bytes_in_use"]), "device peak_bytes_in_use"
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    try:
        import psutil  # noqa: PLC0415 - optional extra

        rss = int(psutil.Process().memory_info().rss)
    except ImportError:
        rss = 0
    return max(rss, int(peak_kib) * 1024), "process RSS high-water mark (ru_maxrss)"


def case(
    suite: str,
    name: str,
    params: dict[str, Any],
    timing: dict[str, Any],
    *,
    work: float,
    work_unit: str,
    baseline: dict[str, Any] | None = None,
    flops: float | None = None,
    peak_gflops: float | None = None,
) -> dict[str, Any]:
    """One benchmark record: raw times, median, throughput, ratio = baseline / ours, peak share.

    ``baseline`` is a ``time_call`` result of the NumPy/SciPy code, scaled to the same work via
    its ``work`` entry (a baseline timed on a subset is extrapolated per unit of work, and says
    so in ``baseline["per_unit"]``).
    """
    mem, source = peak_memory()
    median = timing["median_s"]
    rec: dict[str, Any] = {
        "suite": suite,
        "name": name,
        "params": params,
        "work": work,
        "work_unit": work_unit,
        "compile_s": timing["compile_s"],
        "times_s": timing["times_s"],
        "median_s": median,
        "min_s": timing["min_s"],
        "max_s": timing["max_s"],
        "throughput": work / median,
        "baseline": None,
        "ratio": None,
        "flops": flops,
        "gflops": None if flops is None else flops / median / 1e9,
        "fraction_of_peak": None,
        "peak_memory_bytes": mem,
        "memory_source": source,
    }
    if baseline is not None:
        per_unit = baseline["median_s"] / baseline["work"]
        rec["baseline"] = {
            "what": baseline["what"],
            "blas_threads": baseline.get("blas_threads"),
            "work": baseline["work"],
            "times_s": baseline["times_s"],
            "median_s": baseline["median_s"],
            "min_s": baseline["min_s"],
            "max_s": baseline["max_s"],
            "median_s_per_unit": per_unit,
            "median_s_same_work": per_unit * work,
        }
        rec["ratio"] = per_unit * work / median
    if flops is not None and peak_gflops:
        rec["fraction_of_peak"] = rec["gflops"] / peak_gflops
    return rec


BASELINE_BLAS_THREADS = 1


def with_blas_threads(fn: Callable[[], Any], threads: int | None = BASELINE_BLAS_THREADS) -> Any:
    """``fn`` run with NumPy's BLAS limited to ``threads`` threads (None: unchanged).

    The loop baselines make many small BLAS calls; on this shared 2-core CPU OpenBLAS's own
    threads made the NumPy simulation loop 10-30x slower than one thread (measured, load ~9), so
    the baselines run single-threaded, their fastest setting here, and say so in the JSON.
    """
    if threads is None:
        return fn

    def limited() -> Any:
        with threadpool_limits(limits=threads, user_api="blas"):
            return fn()

    return limited


def blas_info() -> list[dict[str, Any]]:
    """The BLAS/LAPACK libraries loaded (NumPy's, and SciPy's that XLA's CPU LAPACK calls), with
    kernel and threads (threadpoolctl)."""

    keep = ("user_api", "internal_api", "prefix", "version", "threading_layer", "architecture")
    return [
        {k: v for k, v in d.items() if k in keep} | {"num_threads": d.get("num_threads")}
        for d in threadpool_info()
    ]


def openblas_env() -> dict[str, str]:
    """The OPENBLAS_* variables of this process's environment."""
    return {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")}


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo; else the platform's processor string)."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """CPU model, cores, memory, load, devices, versions and the BLAS NumPy uses."""

    try:
        import psutil  # noqa: PLC0415 - optional extra

        mem = int(psutil.virtual_memory().total)
        physical = psutil.cpu_count(logical=False)
    except ImportError:
        mem, physical = None, None
    devices = jax.devices()
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpu_model": cpu_model(),
        "cpu_cores_logical": os.cpu_count(),
        "cpu_cores_physical": physical,
        "memory_bytes": mem,
        "load_average": list(os.getloadavg()),
        "backend": jax.default_backend(),
        "device_kind": devices[0].device_kind,
        "device_count": len(devices),
        "jax_version": jax.__version__,
        "jaxlib_version": jaxlib.__version__,
        "numpy_version": np.__version__,
        "blas": blas_info(),
        "openblas_env": openblas_env(),
        "compilation_cache": jax.config.jax_compilation_cache_dir or None,
        "matmul_precision": _matmul_precision(),
    }


def _matmul_precision() -> str:
    """The matmul precision the simulation kernels ran at (``simulate.driver``)."""

    return matmul_precision()
