"""Input checks that run in Python before anything is traced.

Every check looks at concrete values only (Python numbers, NumPy arrays, concrete JAX arrays).
A traced value (inside a user's ``jit``) is let through unchecked, so the public functions stay
usable under JAX transformations; the docs of each function say so.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np


def is_traced(x: Any) -> bool:
    """True for a JAX tracer (a value inside ``jit``/``vmap``), whose value cannot be read."""
    return isinstance(x, jax.core.Tracer)


def as_float_array(name: str, value: Any) -> np.ndarray:
    """Convert ``value`` to a float64 NumPy array, rejecting NaN and infinities."""
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
