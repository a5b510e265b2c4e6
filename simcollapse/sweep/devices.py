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


def _to_host(x: jax.Array) -> np.ndarray:
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
    return jax.tree_util.tree_map(lambda x: _to_host(x)[:size], out)


@partial(jax.jit, static_argnames=("n", "m", "dtype", "sharded"))
def _draws_for(
    problem: Any,
    key: jax.Array,
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
) -> jax.Array:
    from simcollapse.simulate import engine

    def local(problem: Any, key: jax.Array, *tables_and_ids: jax.Array) -> jax.Array:
        lam, n2, lam_index, n2_index, ids = tables_and_ids
        keys = jax.vmap(lambda r: engine.draw_key(key, n, r))(ids)
        draw = partial(
            engine.one_draw, problem, lam=lam, n2=n2, n=n, m=m, dtype=dtype,
            lam_index=lam_index, n2_index=n2_index,
        )  # fmt: skip
        return jax.lax.map(draw, keys)

    args = (problem, key, lam, n2, lam_index, n2_index, rep_ids)
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
        args = (problem, key)
        tables = tuple(jnp.asarray(a) for a in (lam_u.astype(dt), n2_u, lam_index, n2_index))
        rep_ids = ids
        if ndev > 1:
            replicated = NamedSharding(mesh(), P())
            args = jax.device_put(args, replicated)
            tables = jax.device_put(tables, replicated)
            rep_ids = _global(ids, NamedSharding(mesh(), P(AXIS)))
        out = _draws_for(
            *args,
            *tables,
            rep_ids,
            n=n,
            m=m,
            dtype=dt,
            sharded=ndev > 1,
        )
        host = _to_host(out)
    return np.asarray(host[:reps], dtype=np.float64)
