"""Spreading a sweep's work over devices with JAX's own sharding (no scheduler of ours).

* Theory: the flat point axis of a chunk is split across a 1-D ``Mesh`` of all devices with
  ``jax.shard_map``; each device solves the fixed points of its own points.
* Simulation: the repetitions are split across the same mesh; each device draws and factorises
  its own repetitions (the draws depend only on (seed, n, repetition), so the table does not
  depend on the number of devices), and the per-draw errors are gathered.

Several hosts: call ``initialize(coordinator, num_processes, process_id)`` (``jax.distributed``)
in every process before anything else touches JAX; ``jax.devices()`` then spans all hosts, every
process runs the same sweep over the global mesh, results are gathered to every host, and only
process 0 writes files.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

AXIS = "points"


def initialize(
    coordinator: str, num_processes: int, process_id: int, *, timeout_s: int = 60
) -> None:
    """Join a multi-host run (``jax.distributed.initialize``); call before any JAX work.

    CPU collectives go through gloo (the CPU backend has no other cross-process transport);
    GPU and TPU keep their own. A process that hears nothing from the others for ``timeout_s``
    seconds (while joining, or later through the heartbeats) stops with an error instead of
    waiting for ever.
    """
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(
        coordinator_address=coordinator,
        num_processes=num_processes,
        process_id=process_id,
        initialization_timeout=timeout_s,
        heartbeat_timeout_seconds=timeout_s,
    )


class PeerLostError(RuntimeError):
    """Another process of a multi-process run stopped (or the connection to it broke)."""


def _peer_lost(err: Exception) -> PeerLostError:
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return PeerLostError(
        f"another process of this {jax.process_count()}-process run stopped or cannot be "
        f"reached ({first}); the chunks stored so far are kept: start the same command in "
        "every process again to resume"
    )


def agree(flags: np.ndarray) -> np.ndarray:
    """Process 0's ``flags`` in every process (which chunks are stored, for example), so that
    all processes take the same decisions and run the same collectives."""
    if jax.process_count() == 1:
        return np.asarray(flags)
    from jax.experimental import multihost_utils

    try:
        return np.asarray(multihost_utils.broadcast_one_to_all(np.asarray(flags)))
    except jax.errors.JaxRuntimeError as err:
        raise _peer_lost(err) from err


def is_writer() -> bool:
    """True in the one process that writes files (process 0)."""
    return jax.process_index() == 0


def mesh() -> Mesh:
    """A 1-D mesh over every device of every process."""
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


def _to_host(x: jax.Array) -> np.ndarray:
    if jax.process_count() == 1:
        return np.asarray(x)
    from jax.experimental import multihost_utils

    try:
        return np.asarray(multihost_utils.process_allgather(x, tiled=True))
    except jax.errors.JaxRuntimeError as err:
        raise _peer_lost(err) from err


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
    return jax.tree_util.tree_map(lambda x: _to_host(x)[:size], out)


@partial(jax.jit, static_argnames=("n", "m", "dtype", "sharded", "impl"))
def _draws_for(
    problem: Any,
    key_data: jax.Array,
    lam: jax.Array,
    n2: jax.Array,
    lam_index: jax.Array,
    n2_index: jax.Array,
    rep_ids: jax.Array,
    *,
    n: int,
    m: int | None,
    dtype: Any,
    sharded: bool,
    impl: str,
) -> jax.Array:
    from simcollapse.simulate import engine

    def local(problem: Any, key_data: jax.Array, *tables_and_ids: jax.Array) -> jax.Array:
        lam, n2, lam_index, n2_index, ids = tables_and_ids
        key = jax.random.wrap_key_data(key_data, impl=impl)
        keys = jax.vmap(lambda r: engine.draw_key(key, n, r))(ids)
        draw = partial(
            engine.one_draw, problem, lam=lam, n2=n2, n=n, m=m, dtype=dtype,
            lam_index=lam_index, n2_index=n2_index,
        )  # fmt: skip
        return jax.lax.map(draw, keys)

    args = (problem, key_data, lam, n2, lam_index, n2_index, rep_ids)
    if not sharded:
        return local(*args)
    specs = (P(),) * 6 + (P(AXIS),)
    mapped = jax.shard_map(local, mesh=mesh(), in_specs=specs, out_specs=P(AXIS), check_vma=False)
    return mapped(*args)


def sharded_draws(
    problem: Any,
    key: jax.Array,
    lam: np.ndarray,
    n2: np.ndarray,
    *,
    n: int,
    m: int | None,
    reps: int,
    dtype: str,
) -> np.ndarray:
    """Per-draw test errors (reps, P, 4) with the repetitions split over all devices.

    Each device maps over its repetitions one draw at a time, so every draw is the same draw and
    the same program whatever the number of devices; the table agrees across device counts to
    floating-point rounding (XLA may split BLAS sums differently). Vmapping draws would change the
    rounding with the batch size, and a vmapped eigendecomposition can deadlock XLA's CPU runtime
    when it hosts several devices.
    """
    ndev = jax.device_count()
    per_device = -(-reps // ndev)
    ids = np.arange(per_device * ndev, dtype=np.int32)
    dt = np.float64 if dtype == "float64" else np.float32
    from simcollapse.simulate.engine import distinct

    # What depends on lam alone or on n2 alone is computed once per distinct value.
    lam_u, lam_index = distinct(lam)
    n2_u, n2_index = distinct(n2)
    with jax.enable_x64(dtype == "float64"):
        # The key travels as its raw data (a uint32 array), like every other input.
        args = (problem, np.asarray(jax.random.key_data(key)))
        tables = tuple(np.asarray(a) for a in (lam_u.astype(dt), n2_u, lam_index, n2_index))
        rep_ids = ids
        if ndev > 1:
            args, tables = _replicated((args, tables))
            rep_ids = _global(ids, NamedSharding(mesh(), P(AXIS)))
        else:
            args, tables = jax.tree_util.tree_map(jnp.asarray, (args, tables))
        out = _draws_for(
            *args,
            *tables,
            rep_ids,
            n=n,
            m=m,
            dtype=dt,
            sharded=ndev > 1,
            impl=str(jax.random.key_impl(key)),
        )
        host = _to_host(out)
    return np.asarray(host[:reps], dtype=np.float64)
