"""Input checks that run in Python before anything is traced.

Every check looks at concrete values only (Python numbers, NumPy arrays, concrete JAX arrays).
A traced value (inside a user's ``jit``) is let through unchecked, so the public functions stay
usable under JAX transformations; the docs of each function say so.
"""

from __future__ import annotations

import os
import resource
from typing import Any

import jax
import numpy as np


def is_traced(x: Any) -> bool:
    """True for a JAX tracer (a value inside ``jit``/``vmap``), whose value cannot be read."""
    return isinstance(x, jax.core.Tracer)


def _not_a_number(value: Any) -> str | None:
    """Why ``value`` is not a real number or an array of them (None when it is one).

    Booleans, strings, bytes, None and complex numbers are refused, also inside lists: a count
    of ``True`` or a penalty of ``"0.1"`` is a mistake, not a value to convert.
    """
    if isinstance(value, (bool, np.bool_)):
        return "a boolean"
    if isinstance(value, (str, bytes)):
        return "a string"
    if isinstance(value, (list, tuple)):
        return next((why for v in value if (why := _not_a_number(v)) is not None), None)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return None
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        return f"a {type(value).__name__}"
    kind = np.dtype(dtype).kind
    if kind in "iuf":
        return None
    return {"b": "booleans", "U": "strings", "S": "bytes", "c": "complex numbers"}.get(
        kind, f"values of type {dtype}"
    )


def as_float_array(name: str, value: Any) -> np.ndarray:
    """Convert ``value`` to a float64 NumPy array, rejecting non-numbers, NaN and infinities.

    Raises:
      ValueError: naming ``name`` for a boolean, a string, None or another non-number (also
        inside a list), for NaN and for infinities.
    """
    why = _not_a_number(value)
    if why is not None:
        raise ValueError(f"{name} must be a real number or an array of them, got {value!r} ({why})")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a number or an array of numbers, got {value!r}") from err
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or inf), got {_show(arr)}")
    return arr


def check_range(
    name: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
) -> Any:
    """Check that every element of ``value`` lies in the stated interval.

    Raises:
      ValueError: naming ``name``, the value received and the allowed range.
    """
    if is_traced(value):
        return value
    arr = as_float_array(name, value)
    ok = np.ones(arr.shape, dtype=bool)
    if low is not None:
        ok &= arr > low if low_open else arr >= low
    if high is not None:
        ok &= arr < high if high_open else arr <= high
    if integer:
        ok &= arr == np.round(arr)
    if not np.all(ok):
        lo = "(-inf" if low is None else ("(" if low_open else "[") + f"{low:g}"
        hi = "inf)" if high is None else f"{high:g}" + (")" if high_open else "]")
        kind = "integers" if integer else "values"
        bad = arr[~ok] if arr.ndim else arr
        raise ValueError(
            f"{name} must hold {kind} in {lo}, {hi}; got {_show(bad)}"
            + (f" ({bad.size} of {arr.size} values)" if arr.size > 1 else "")
        )
    return value


def check_count(name: str, value: Any, low: int = 1) -> int:
    """A single count (d, reps, rounds, generations, seed): a Python int >= ``low``.

    Integers of any kind (Python, NumPy, a 0-d array) and whole floats (300.0, as TOML and
    JSON may write them) are accepted and returned as ``int``; booleans, strings, fractions and
    arrays of several values are refused.

    Raises:
      ValueError: naming ``name``, the value received and the allowed range.
    """
    if np.ndim(value) != 0 or _not_a_number(value) is not None:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    check_range(name, value, low, integer=True)
    check_stored_int(name, value)
    return int(value)


INT64_MAX = int(np.iinfo(np.int64).max)


def check_stored_int(name: str, value: Any) -> None:
    """Refuse a count past int64 (the type sizes are stored in), before any work.

    Raises:
      ValueError: naming ``name``, the largest value and the one received.
    """
    top = np.max(np.asarray(value, dtype=np.float64)) if np.size(value) else 0.0
    if top >= 2.0**63:
        raise ValueError(
            f"{name} must be at most {INT64_MAX} (sizes are stored as int64), got {top:.6g}"
        )


def check_real(name: str, value: Any, low: float | None = None, high: float | None = None) -> float:
    """A single real number (a scalar parameter such as c2 or sigma2), returned as ``float``.

    Raises:
      ValueError: for a boolean, a string, an array, NaN or a value outside [low, high].
    """
    if np.ndim(value) != 0 or _not_a_number(value) is not None:
        raise ValueError(f"{name} must be a real number, got {value!r}")
    check_range(name, value, low, high)
    return float(value)


def check_broadcast(**arrays: Any) -> tuple[int, ...]:
    """Return the broadcast shape of the named arrays, or raise a ValueError naming them."""
    shapes = {k: np.shape(v) for k, v in arrays.items()}
    try:
        return tuple(np.broadcast_shapes(*shapes.values()))
    except ValueError as err:
        desc = ", ".join(f"{k} {s}" for k, s in shapes.items())
        raise ValueError(f"shapes do not broadcast together: {desc}") from err


def _show(arr: np.ndarray) -> str:
    flat = np.ravel(arr)
    if flat.size == 1:
        return f"{flat[0]:g}"
    return np.array2string(flat[:4], precision=6) + (" ..." if flat.size > 4 else "")


GRID_LIMITS: dict[str, dict[str, float]] = {
    "n": dict(low=1),
    "m": dict(low=1),
    "lam": dict(low=0.0),
    "p2": dict(low=0.0, high=1.0),
}


# The fields of a Problem (``simcollapse.problem``, which imports this module): what the grid
# functions read from it.
PROBLEM_FIELDS = ("eigs", "w1_sq", "delta_sq", "sigma2")


def check_common(problem: Any, **axes: Any) -> None:
    """Validate the grid arguments shared by theory and simulation (before any tracing).

    Args:
      problem: a ``simcollapse.Problem``.
      axes: any of n, m (>= 1), lam (>= 0) and p2 (in [0, 1]); they must broadcast together.

    Raises:
      TypeError: ``problem`` is not a Problem (it lacks one of ``PROBLEM_FIELDS``).
      ValueError: an axis out of its range, naming it, or axes that do not broadcast.

    Example:
      >>> check_common(object(), n=10)
      Traceback (most recent call last):
      ...
      TypeError: problem must be a simcollapse.Problem, got object
    """
    if not all(hasattr(problem, field) for field in PROBLEM_FIELDS):
        raise TypeError(f"problem must be a simcollapse.Problem, got {type(problem).__name__}")
    for name, value in axes.items():
        check_range(name, value, **GRID_LIMITS[name])
    check_broadcast(**axes)


def machine_memory() -> float:
    """Memory this process may use, in bytes: the machine's physical memory, lowered to the
    usable half of the address space left under ``ulimit -v`` (the limit less what the process
    already maps) and to its control group's limit (containers) where either is set; inf where
    none can be read.

    A budget taken from this number keeps a sweep under ``ulimit -v``, where an allocation past
    the limit would otherwise abort inside the runtime.

    Example:
      >>> machine_memory() > 0
      True
    """
    limits = []
    try:
        limits.append(float(os.sysconf("SC_PHYS_PAGES")) * float(os.sysconf("SC_PAGE_SIZE")))
    except (ValueError, OSError, AttributeError):
        pass
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft != resource.RLIM_INFINITY:
        # Address space, not resident memory: allocator arenas, thread stacks and the runtime's
        # reservations take about as much again, so half the headroom holds data (measured
        # under ulimit -v 3000000: a 0.58 GiB chunk budget failed, 0.29 GiB completed).
        limits.append(max(float(soft) - _mapped_bytes(), 0.0) / 2)
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path) as f:
                text = f.read().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 1 << 60:
            limits.append(float(text))
        break
    return min(limits) if limits else float("inf")


def _mapped_bytes() -> float:
    """Virtual memory this process maps now (VmSize), 0 where /proc cannot be read."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return float(line.split()[1]) * 1024.0
    except OSError:
        pass
    return 0.0


def check_memory(name: str, nbytes: float, what: str) -> None:
    """Refuse a size whose memory (``nbytes``, estimated before allocating) exceeds the machine.

    Raises:
      ValueError: naming ``name``, what needs the memory, and both sizes in GiB.
    """
    have = machine_memory()
    if nbytes > have:
        raise ValueError(
            f"{name}: {what} would need about {nbytes / 2**30:.3g} GiB, more than this "
            f"machine's {have / 2**30:.3g} GiB of memory"
        )
