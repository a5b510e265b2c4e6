"""Spreading a sweep's work over devices with JAX's own sharding (no scheduler of ours).

* Theory: the flat point axis of a chunk is split across a 1-D ``Mesh`` of all devices with
  ``jax.shard_map``; each device solves the fixed points of its own points.
* Simulation: the Monte Carlo driver (``simulate.driver``) splits the repetitions across the same
  mesh (``place_draws``); each device draws and factorises its own repetitions one at a time (the
  draws depend only on (seed, n, repetition), so the table does not depend on the number of
  devices; the BLAS may still round differently), and the per-draw errors are gathered.

Several hosts: call ``initialize(coordinator, num_processes, process_id)`` (``jax.distributed``)
in every process before anything else touches JAX; ``jax.devices()`` then spans all hosts, every
process runs the same sweep over the global mesh, results are gathered to every host, and only
process 0 writes files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

AXIS = "points"


def initialize(coordinator: str, num_processes: int, process_id: int) -> None:
    """Join a multi-host run (``jax.distributed.initialize``); call before any JAX work."""
    jax.distributed.initialize(
        coordinator_address=coordinator, num_processes=num_processes, process_id=process_id
    )


def is_writer() -> bool:
    """True in the one process that writes files (process 0)."""
    return jax.process_index() == 0


def mesh() -> Mesh:
    """A 1-D mesh over every device of every process."""
    return jax.make_mesh((jax.device_count(),), (AXIS,))


def _global(host: np.ndarray, sharding: NamedSharding) -> jax.Array:
    """A global array from a host array every process holds in full."""
    return jax.make_array_from_callback(host.shape, sharding, lambda idx: host[idx])


def to_host(x: jax.Array) -> np.ndarray:
    if jax.process_count() == 1:
        return np.asarray(x)
    from jax.experimental import multihost_utils

    return np.asarray(multihost_utils.process_allgather(x, tiled=True))


def sharded_points(fn: Callable[..., Any], *arrays: np.ndarray) -> Any:
    """fn(*arrays) with the leading (point) axis split over all devices.

    ``fn`` maps arrays of shape (P,) to a pytree of arrays with leading axis P, each point
    independent of the others. The points are padded (with the last point) to a multiple of the
    device count, and the padding is dropped from the result (NumPy arrays).
    """
    size = arrays[0].shape[0]
    ndev = jax.device_count()
    pad = (-size) % ndev
    padded = [np.concatenate([a, np.repeat(a[-1:], pad)]) if pad else a for a in arrays]
    if ndev == 1:
        out = jax.jit(fn)(*padded)
    else:
        m = mesh()
        sharding = NamedSharding(m, P(AXIS))
        inputs = [_global(a, sharding) for a in padded]
        mapped = jax.shard_map(fn, mesh=m, in_specs=P(AXIS), out_specs=P(AXIS), check_vma=False)
        out = jax.jit(mapped)(*inputs)
    return jax.tree_util.tree_map(lambda x: to_host(x)[:size], out)


def place_draws(ids: np.ndarray, *replicated: Any) -> tuple[Any, ...]:
    """The repetition ids split over the mesh, and the other inputs replicated on every device.

    Returns (ids, *replicated) as global arrays for the Monte Carlo driver's ``shard_map``.
    """
    everywhere = NamedSharding(mesh(), P())
    placed = jax.device_put(replicated, everywhere)
    return (_global(ids, NamedSharding(mesh(), P(AXIS))), *placed)
