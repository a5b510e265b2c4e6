"""A multi-process sweep run as a child process, so that losing the run is one line.

When another process of a ``jax.distributed`` run stops, or the coordinator goes away, JAX's
distributed client ends the process from its own C++ thread (an abort with a C++ stack trace);
Python cannot catch it. ``simcollapse sweep --coordinator ...`` therefore runs the sweep in a
child process: the child's output is passed on, without the C++ log lines, and a child killed by
a signal becomes one line and exit code 1. The child dies with its parent (Linux), so killing
the command kills the sweep. Everything a sweep keeps is on disk, so a rerun resumes.
"""

from __future__ import annotations

import ctypes
import os
import re
import signal
import subprocess
import sys
from collections.abc import Sequence

GUARDED_ENV = "SIMCOLLAPSE_GUARDED"
# The runtime's own log lines: glog/absl lines (E1207 01:00:12.99 123 file.cc:289] ...), check
# failures and stack frames, C++ exceptions, gRPC details and gloo's connection notes.
NOISE = re.compile(
    r"^([IWEF]\d{4} \d\d:\d\d:\d\d|\*\*\* |\s+@\s+0x|terminate called|\s*what\(\):|RPC: /|"
    r"\[Gloo\]|absl::Status|Additional GRPC|:?UNKNOWN:|.*grpc_status:|\s*$)"
)
FATAL = re.compile(r"^(F\d{4} |\*\*\* Check failure|terminate called)")


def needs_guard(argv: Sequence[str]) -> bool:
    """True for ``sweep`` with ``--coordinator`` outside a guarded child."""
    return (
        bool(argv)
        and argv[0] == "sweep"
        and any(a == "--coordinator" or a.startswith("--coordinator=") for a in argv)
        and os.environ.get(GUARDED_ENV) != "1"
    )


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def run_guarded(argv: Sequence[str]) -> int:
    """Run ``simcollapse <argv>`` in a child process; return its exit code (1, with one line,
    when a signal ended it)."""
    code = "import sys; from simcollapse.cli import console; console(sys.argv[1:])"
    env = dict(os.environ, **{GUARDED_ENV: "1"})
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the child
    try:
        child = subprocess.Popen(
            [sys.executable, "-c", code, *argv], env=env, stderr=subprocess.PIPE,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )  # fmt: skip
        dying, reported = False, ""
        assert child.stderr is not None
        for raw in child.stderr:
            line = raw.decode(errors="replace")
            if line.startswith(
                (f"simcollapse {argv[0]}: error:", f"simcollapse {argv[0]}: internal")
            ):
                reported = reported or line

            dying = dying or bool(FATAL.match(line))
            if NOISE.match(line) or (dying and not line.startswith("simcollapse")):
                continue
            sys.stderr.write(line)
            sys.stderr.flush()
        code = child.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
    if code >= 0:
        return code
    if reported:  # it said why in its own line, then the runtime ended it: keep its exit code
        lost = ("another process", "could not join", "internal error", "stopped before")
        return 1 if any(word in reported for word in lost) else 2
    name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else -code
    print(
        f"simcollapse {argv[0]}: error: the multi-process run was lost (JAX's distributed "
        f"runtime ended this process with {name}: another process or the coordinator stopped "
        "or cannot be reached); the chunks stored so far are kept: start the same command in "
        "every process again to resume",
        file=sys.stderr,
        flush=True,
    )
    return 1
