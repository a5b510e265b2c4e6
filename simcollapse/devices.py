"""Spreading work over devices with JAX's own sharding (no scheduler of ours): the 1-D mesh.

* Theory: the flat point axis of a chunk is split across a 1-D ``Mesh`` of all devices with
  ``jax.shard_map`` (``sharded_points``); each device solves the fixed points of its own points.
* Simulation: the Monte Carlo driver (``simulate.driver``) splits the repetitions across the same
  mesh (``place_draws``); each device draws and factorises its own repetitions one at a time (the
  draws depend only on (seed, n, repetition), so the table does not depend on the number of
  devices; the BLAS may still round differently), and the per-draw errors are gathered
  (``to_host``).

The mesh spans every device of every process; how the processes of a multi-host run join and
agree on their work is ``simcollapse.sweep.devices``.

Example:
  >>> import numpy as np
  >>> sharded_points(lambda x: 2 * x, np.arange(3.0)).tolist()
  [0.0, 2.0, 4.0]
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import jax
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

__all__ = ["AXIS", "PeerLostError", "mesh", "peer_lost", "place_draws", "sharded_points", "to_host"]

AXIS = "points"


class PeerLostError(RuntimeError):
    """Another process of a multi-process run stopped (or the connection to it broke).

    Raised by the collectives of a multi-process run (``to_host``, ``sweep.devices.agree``, ...)
    in place of JAX's runtime error; ``peer_lost`` builds it. A ``RuntimeError``.

    Example:
      >>> raise PeerLostError("process 1 stopped")
      Traceback (most recent call last):
      ...
      simcollapse.devices.PeerLostError: process 1 stopped
      >>> issubclass(PeerLostError, RuntimeError)
      True
    """


def peer_lost(err: Exception) -> PeerLostError:
    """The PeerLostError of a collective that failed because another process went away.

    Its message names the run's process count and the first line of ``err``, and says how to
    resume (the stored chunks are kept).

    Args:
      err: the exception the collective raised (its first line is quoted).

    Returns:
      A PeerLostError (returned, not raised: ``raise peer_lost(err) from err``).

    Example:
      >>> err = peer_lost(RuntimeError("connection reset by peer"))
      >>> type(err).__name__, "(connection reset by peer)" in str(err)
      ('PeerLostError', True)
    """
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return PeerLostError(
        f"another process of this {jax.process_count()}-process run stopped or cannot be "
        f"reached ({first}); the chunks stored so far are kept: start the same command in "
        "every process again to resume"
    )


def mesh() -> Mesh:
    """A 1-D mesh over every device of every process, its one axis named ``AXIS``.

    Example:
      >>> m = mesh()
      >>> m.axis_names, m.shape[AXIS] == jax.device_count()
      (('points',), True)
    """
    return jax.make_mesh((jax.device_count(),), (AXIS,))


def _global(host: np.ndarray, sharding: NamedSharding) -> jax.Array:
    """A global array from a host array every process holds in full.

    Each process supplies only the shards of its own devices (``device_put`` onto a sharding
    that spans other processes' devices is refused by JAX).
    """
    host = np.asarray(host)
    return jax.make_array_from_callback(host.shape, sharding, lambda idx: host[idx])


def _replicated(tree: Any) -> Any:
    """Every leaf of ``tree`` (held in full by every process) as a global replicated array."""
    sharding = NamedSharding(mesh(), P())
    return jax.tree_util.tree_map(lambda leaf: _global(leaf, sharding), tree)


def to_host(x: jax.Array) -> np.ndarray:
    """``x`` as one NumPy array on the host, gathered from every process of a multi-host run.

    One process: ``np.asarray(x)``. Several: the shards of every process, concatenated along
    the leading axis (``process_allgather``, tiled).

    Raises:
      PeerLostError: another process stopped during the gather.

    Example:
      >>> import jax.numpy as jnp
      >>> host = to_host(jnp.arange(3))
      >>> type(host).__name__, host.tolist()
      ('ndarray', [0, 1, 2])
    """
    if jax.process_count() == 1:
        return np.asarray(x)

    try:
        return np.asarray(multihost_utils.process_allgather(x, tiled=True))
    except jax.errors.JaxRuntimeError as err:
        raise peer_lost(err) from err


@functools.cache
def _compiled(fn: Callable[..., Any], arrays: int, with_const: bool, devices: int) -> Any:
    """One jitted program per function object and input layout, so repeated calls reuse its
    compiles: ``fn`` itself on one device, else ``fn`` mapped over a mesh of all devices with
    the constant replicated and the point axis split."""
    if devices == 1:
        return jax.jit(fn)
    specs = (P(),) * with_const + (P(AXIS),) * arrays
    return jax.jit(
        jax.shard_map(fn, mesh=mesh(), in_specs=specs, out_specs=P(AXIS), check_vma=False)
    )


def sharded_points(fn: Callable[..., Any], *arrays: np.ndarray, const: Any = None) -> Any:
    """fn(*arrays), or fn(const, *arrays), with the leading (point) axis split over all devices.

    ``fn`` maps arrays of shape (P,) to a pytree of arrays with leading axis P, each point
    independent of the others. The points are padded (with the last point) to a multiple of the
    device count, and the padding is dropped from the result (NumPy arrays). ``const`` (a pytree,
    for example the Problem) is passed whole to every device. A ``fn`` that is the same object
    from call to call compiles once per shape.

    Example:
      >>> import numpy as np
      >>> out = sharded_points(lambda c, x: {"y": c * x}, np.arange(3.0), const=np.float32(2))
      >>> out["y"].tolist()
      [0.0, 2.0, 4.0]
    """
    size = arrays[0].shape[0]
    ndev = jax.device_count()
    pad = (-size) % ndev
    padded = [np.concatenate([a, np.repeat(a[-1:], pad)]) if pad else a for a in arrays]
    program = _compiled(fn, len(padded), const is not None, ndev)
    if ndev == 1:
        inputs = padded
        head = [] if const is None else [const]
    else:
        sharding = NamedSharding(mesh(), P(AXIS))
        inputs = [_global(a, sharding) for a in padded]
        head = [] if const is None else [_replicated(const)]
    out = program(*head, *inputs)
    return jax.tree_util.tree_map(lambda x: to_host(x)[:size], out)


def place_draws(ids: np.ndarray, *replicated: Any) -> tuple[Any, ...]:
    """The repetition ids split over the mesh, and the other inputs replicated on every device.

    Every input is built with ``make_array_from_callback`` from the host copy each process holds
    (a ``device_put`` onto a sharding that spans other processes' devices fails under
    ``jax.distributed``); keys must come as raw key data (``jax.random.key_data``).

    Returns (ids, *replicated) as global arrays for the Monte Carlo driver's ``shard_map``.

    Example:
      >>> import numpy as np
      >>> key_data = jax.random.key_data(jax.random.key(0))
      >>> reps = 2 * jax.device_count()  # the driver pads the ids to a multiple of the devices
      >>> ids, kd = place_draws(np.arange(reps, dtype=np.int32), key_data)
      >>> ids.shape == (reps,), kd.shape == key_data.shape, str(kd.dtype)
      (True, True, 'uint32')
    """
    host = jax.tree_util.tree_map(np.asarray, replicated)
    return (_global(ids, NamedSharding(mesh(), P(AXIS))), *_replicated(host))
