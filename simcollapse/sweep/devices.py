"""How the processes of a sweep run together: joining a multi-host run and agreeing on its work.

Several hosts: call ``initialize(coordinator, num_processes, process_id)`` (``jax.distributed``)
in every process before anything else touches JAX; ``jax.devices()`` then spans all hosts, every
process runs the same sweep over the global mesh, results are gathered to every host, and only
process 0 writes files. Before any work the processes check that they agree on the plan, the
memory budget and the output folder (``check_same``, ``agreed_budget``, ``check_shared_folder``).

The mesh and the sharding of theory points and Monte Carlo repetitions over it are
``simcollapse.devices`` (``AXIS``, ``mesh``, ``sharded_points``, ``place_draws``, ``to_host``,
``PeerLostError``), importable from here too.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jax
import numpy as np
from jax.experimental import multihost_utils

from simcollapse.devices import (
    AXIS,
    PeerLostError,
    mesh,
    peer_lost,
    place_draws,
    sharded_points,
    to_host,
)
from simcollapse.store import TMP_FOLDER, temporary_path
from simcollapse.sweep.planning import default_memory_budget

__all__ = [
    "AXIS",
    "PeerLostError",
    "PlanMismatchError",
    "agree",
    "agreed_budget",
    "all_started",
    "check_coordinator",
    "check_same",
    "check_shared_folder",
    "initialize",
    "is_distributed",
    "is_writer",
    "mesh",
    "place_draws",
    "sharded_points",
    "to_host",
]


def initialize(
    coordinator: str, num_processes: int, process_id: int, *, timeout_s: int = 60
) -> None:
    """Join a multi-host run (``jax.distributed.initialize``); call before any JAX work.

    CPU collectives go through gloo (the CPU backend has no other cross-process transport);
    GPU and TPU keep their own. A process that hears nothing from the others for ``timeout_s``
    seconds (while joining, or later through the heartbeats) stops with an error instead of
    waiting for ever.

    Raises:
      ValueError: a malformed option (``check_coordinator``), before anything is joined.
      PeerLostError: the run could not be joined within ``timeout_s`` seconds.

    Example:
      A single process never calls it; options are checked before any joining:

      >>> initialize("10.0.0.1", 2, 0)
      Traceback (most recent call last):
      ...
      ValueError: --coordinator must be host:port with a port in 1..65535, got '10.0.0.1'
    """
    check_coordinator(coordinator, num_processes, process_id, timeout_s)
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    _JOIN.update(coordinator=coordinator, processes=int(num_processes), timeout=int(timeout_s))
    try:
        with _fatal_errors_reported():
            jax.distributed.initialize(
                coordinator_address=coordinator,
                num_processes=num_processes,
                process_id=process_id,
                initialization_timeout=timeout_s,
                heartbeat_timeout_seconds=timeout_s,
                shutdown_timeout_seconds=timeout_s,
            )
        _JOIN["joined"] = True
    except (RuntimeError, jax.errors.JaxRuntimeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        why = f" ({first[:200]})" if first and "bad_cast" not in first else ""
        raise PeerLostError(
            f"could not join the {num_processes}-process run at {coordinator} within "
            f"{timeout_s} s{why}: start every process with the same --coordinator and "
            "--num-processes"
        ) from err


_JOIN: dict[str, Any] = {"joined": False}


def _on_fatal(status: Any) -> None:
    """JAX's distributed client lost the run (a peer or the coordinator stopped, or never came):
    one line and exit, instead of the client's default abort with a C++ stack trace. Called
    from the client's own thread; nothing is lost that is not already on disk."""

    first = str(status).strip().splitlines()[0] if str(status).strip() else "no reply"
    n, where, timeout = _JOIN.get("processes"), _JOIN.get("coordinator"), _JOIN.get("timeout")
    if _JOIN["joined"]:
        message = (
            f"another process of this {n}-process run stopped or cannot be reached ({first}); "
            "the chunks stored so far are kept: start the same command in every process again "
            "to resume"
        )
    else:
        message = (
            f"could not join the {n}-process run at {where} within {timeout} s ({first}): start "
            "every process with the same --coordinator and --num-processes"
        )
    print(f"simcollapse: error: {message}", file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(1)


@contextlib.contextmanager
def _fatal_errors_reported() -> Iterator[None]:
    """Within the block, JAX's distributed client is created with ``_on_fatal`` as its error
    callback (``missed_heartbeat_callback`` of ``get_distributed_runtime_client``)."""
    try:
        from jax._src import distributed  # noqa: PLC0415 - private JAX API

        module = distributed._jax
        original = module.get_distributed_runtime_client
    except (ImportError, AttributeError):  # another JAX layout: its default behaviour stays
        yield
        return

    def client(*args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("missed_heartbeat_callback", _on_fatal)
        return original(*args, **kwargs)

    try:
        module.get_distributed_runtime_client = client
    except (AttributeError, TypeError):
        yield
        return
    try:
        yield
    finally:
        module.get_distributed_runtime_client = original


def check_coordinator(
    coordinator: str, num_processes: int, process_id: int, timeout_s: int
) -> None:
    """One-line ValueErrors for options ``jax.distributed`` would crash or hang on.

    Example:
      >>> check_coordinator("10.0.0.1:1234", 2, 0, 60)
      >>> check_coordinator("10.0.0.1", 2, 0, 60)
      Traceback (most recent call last):
      ...
      ValueError: --coordinator must be host:port with a port in 1..65535, got '10.0.0.1'
    """
    host, sep, port = str(coordinator).rpartition(":")
    if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(
            f"--coordinator must be host:port with a port in 1..65535, got {coordinator!r}"
        )
    if int(num_processes) < 1:
        raise ValueError(f"--num-processes must be at least 1, got {num_processes}")
    if not 0 <= int(process_id) < int(num_processes):
        raise ValueError(f"--process-id must be in 0..{int(num_processes) - 1}, got {process_id}")
    if int(timeout_s) < 1:
        raise ValueError(f"--timeout must be at least 1 second, got {timeout_s}")


def is_distributed() -> bool:
    """True in a process that joined a multi-process run (``initialize``).

    Example:
      >>> is_distributed()  # a single process
      False
    """
    from jax._src import distributed  # noqa: PLC0415 - private JAX API

    return distributed.global_state.client is not None


def all_started(err: BaseException | None) -> None:
    """Tell the other processes whether this one could start (``err`` None) and hear theirs:
    when another failed, a PeerLostError naming it, so every process stops at once.

    A process whose own ``err`` is not None returns (it raises its own error afterwards).

    Raises:
      PeerLostError: this process started but another did not (or stopped answering).

    Example:
      >>> all_started(None)  # a single process: nothing to hear, no error
      >>> all_started(ValueError("bad spec"))  # its own error is the caller's to raise
    """
    if jax.process_count() == 1:
        return
    every = _allgather(np.array([0 if err is None else 1], dtype=np.int64))
    failed = np.nonzero(every[:, 0])[0]
    if err is None and failed.size:
        raise PeerLostError(
            f"process {int(failed[0])} stopped before the sweep started (its own output says "
            "why); fix that and start every process again"
        )


def agree(flags: np.ndarray) -> np.ndarray:
    """Process 0's ``flags`` in every process (which chunks are stored, for example), so that
    all processes take the same decisions and run the same collectives.

    Raises:
      PeerLostError: another process stopped during the broadcast.

    Example:
      >>> agree(np.array([True, False, True])).tolist()  # a single process: its own flags
      [True, False, True]
    """
    if jax.process_count() == 1:
        return np.asarray(flags)

    try:
        return np.asarray(multihost_utils.broadcast_one_to_all(np.asarray(flags)))
    except jax.errors.JaxRuntimeError as err:
        raise peer_lost(err) from err


class PlanMismatchError(ValueError):
    """The processes of a multi-process run do not agree on what to compute.

    Raised by ``check_same`` and ``agreed_budget`` in every process before any work; a
    ``ValueError``, so the CLI reports it as one line.

    Example:
      >>> raise PlanMismatchError("process 1 disagrees on the plan")
      Traceback (most recent call last):
      ...
      simcollapse.sweep.devices.PlanMismatchError: process 1 disagrees on the plan
      >>> issubclass(PlanMismatchError, ValueError)
      True
    """


def _code(value: Any) -> int:
    """A value as one int64 to compare across processes (ints as they are, else a hash)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)

    text = json.dumps(value, sort_keys=True, default=str)
    return int(hashlib.sha256(text.encode()).hexdigest()[:15], 16)


def _allgather(values: np.ndarray) -> np.ndarray:
    """``values`` of every process, stacked (process p's in row p)."""

    try:
        with jax.enable_x64(True):  # int64 values (budgets, hashes) must not wrap to int32
            return np.asarray(multihost_utils.process_allgather(np.asarray(values), tiled=False))
    except jax.errors.JaxRuntimeError as err:
        raise peer_lost(err) from err


def check_same(fields: dict[str, Any]) -> None:
    """Every process must hold the same value of each field (the plan, the versions, ...):
    a PlanMismatchError naming the first field that differs from process 0's, in every process,
    before any work is done.

    Example:
      >>> check_same({"the chunk plan": "ab12cd34"})  # one process: nothing to compare
    """
    if jax.process_count() == 1:
        return
    every = _allgather(np.array([_code(v) for v in fields.values()], dtype=np.int64))
    for j, (name, value) in enumerate(fields.items()):
        differ = np.nonzero(every[:, j] != every[0, j])[0]
        if differ.size:
            other = int(differ[0])
            shown = ""
            if isinstance(value, (int, np.integer)):
                shown = (
                    f" (process 0: {int(every[0, j]):,}, process {other}: {int(every[other, j]):,})"
                )
            raise PlanMismatchError(
                f"process {other} and process 0 disagree on {name}{shown}: start every process "
                "with the same options and the same installation"
            )


def agreed_budget(explicit: int | None) -> int:
    """The memory budget every process plans with: ``explicit`` when given (and then equal in
    every process), else the smallest default over the processes (hosts may differ).

    Example:
      >>> agreed_budget(1 << 30)
      1073741824
    """

    mine = int(explicit) if explicit else default_memory_budget()
    if jax.process_count() == 1:
        return mine
    every = _allgather(np.array([mine, 1 if explicit else 0], dtype=np.int64))
    if not every[:, 1].any():
        return int(every[:, 0].min())
    differ = np.nonzero((every[:, 0] != every[0, 0]) | (every[:, 1] != every[0, 1]))[0]
    if differ.size:
        other = int(differ[0])

        def shown(p: int) -> str:
            return f"{every[p, 0]:,} bytes" if every[p, 1] else "the default"

        raise PlanMismatchError(
            f"process {other} and process 0 disagree on the memory budget (--memory-budget): "
            f"process 0 has {shown(0)}, process {other} {shown(other)}; give every process the "
            "same --memory-budget"
        )
    return int(every[0, 0])


def check_shared_folder(folder: Any) -> None:
    """Every process must see the folder process 0 writes (a shared file system): process 0
    leaves a marker there and each process looks for it; a one-line OSError in every process
    when one cannot see it.

    Raises:
      OSError: a process cannot see the marker process 0 left in ``folder``.

    Example:
      >>> import tempfile
      >>> check_shared_folder(tempfile.mkdtemp())  # a single process sees its own folder
    """
    if jax.process_count() == 1:
        return

    folder = Path(folder)
    token = np.array([secrets.randbits(62) if is_writer() else 0], dtype=np.int64)
    marker = None
    if is_writer():
        marker = temporary_path(folder / "peers").with_suffix(f".{int(token[0])}.part")
        marker.write_text("")
    with jax.enable_x64(True):
        token = agree(token)
    seen = any((folder / TMP_FOLDER).glob(f"*.{int(token[0])}.part")) if not is_writer() else True
    every = _allgather(np.array([1 if seen else 0], dtype=np.int64))
    if marker is not None:
        marker.unlink(missing_ok=True)
    blind = np.nonzero(every[:, 0] == 0)[0]
    if blind.size:
        raise OSError(
            f"process {int(blind[0])} cannot see {folder}, which process 0 writes: --out must be "
            "a folder every process shares (a shared file system)"
        )


def is_writer() -> bool:
    """True in the one process that writes files (process 0).

    Example:
      >>> is_writer()  # a single process writes
      True
    """
    return jax.process_index() == 0
