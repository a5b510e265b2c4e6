"""One compiled program per spectrum size: theory kernels run over fixed-size chunks of points.

A theory call with P points used to compile a program for its own P, about a second for a few
milliseconds of arithmetic. Here the points are cut into chunks of a fixed size that depends only
on d (a power of two, about CHUNK_ELEMS / d points, the last chunk padded with its last point),
and one jitted kernel per setting evaluates one chunk. The table of df_1 that starts every fixed
point has a size that also depends only on d. So the first call for a given d compiles the table
and the chunk kernel once, and any later call with the same d, whatever its number of points,
only runs them (dispatches are asynchronous, so chunks run back to back).

The table depends on the spectrum only: it is built once per spectrum (in blocks of nodes, so
its temporaries stay in cache like the points') and kept in a small cache keyed by the
spectrum's bytes (the device copy of the problem likewise), so that repeated calls on one
problem pay for their points alone.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from simcollapse.problem import Problem
from simcollapse.theory.fixed_points import (
    CHUNK_ELEMS,
    TABLE_MAX,
    SpectralTable,
    spectral_table,
)

MIN_CHUNK = 16  # points per chunk, at least (large d)
MAX_CHUNK = 4096  # and at most (small d)
# On a GPU or TPU a chunk that fits a CPU cache leaves the device idle: chunks there hold about
# ACCEL_CHUNK_ELEMS (point, eigenvalue) pairs (10^7 points at d = 1000: about 600 dispatches).
ACCEL_CHUNK_ELEMS = 1 << 24
ACCEL_MAX_CHUNK = 1 << 20
TABLE_ELEMS = 1 << 25  # (node, eigenvalue) pairs of the table, at most (built once per spectrum)
TABLE_FLOOR = 256  # nodes, at least


def _floor_pow2(x: int) -> int:
    return 1 << (max(1, int(x)).bit_length() - 1)


def chunk_points(d: int, backend: str = "cpu") -> int:
    """Points per chunk for a spectrum of size d: a power of two near CHUNK_ELEMS / d on a CPU
    (ACCEL_CHUNK_ELEMS / d on other backends)."""
    if backend == "cpu":
        return int(np.clip(_floor_pow2(CHUNK_ELEMS // max(d, 1)), MIN_CHUNK, MAX_CHUNK))
    return int(np.clip(_floor_pow2(ACCEL_CHUNK_ELEMS // max(d, 1)), MIN_CHUNK, ACCEL_MAX_CHUNK))


def table_nodes(d: int) -> int:
    """Nodes of the df_1 table for a spectrum of size d (a power of two; a function of d only).

    As many as TABLE_MAX while the table costs at most TABLE_ELEMS (node, eigenvalue) pairs:
    with 4096 nodes the interpolated start is exact to about 1e-10, so one Newton step finishes.
    """
    return int(np.clip(_floor_pow2(TABLE_ELEMS // max(d, 1)), TABLE_FLOOR, TABLE_MAX))


CACHE_SIZE = 16  # spectra (and problems) whose tables (and device copies) are kept
_table_jit = jax.jit(spectral_table, static_argnums=(1, 2))
_tables: OrderedDict[bytes, SpectralTable] = OrderedDict()
_problems: OrderedDict[bytes, Problem] = OrderedDict()


def _digest(*arrays: Any) -> bytes:
    """A key for the values of ``arrays`` (shape, dtype and bytes of each)."""
    h = hashlib.blake2b(digest_size=16)
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.shape}{a.dtype.str}".encode())
        h.update(a.tobytes())
    return h.digest()


def _cached(store: OrderedDict[bytes, Any], key: bytes, build: Callable[[], Any]) -> Any:
    """``store[key]``, built on first use; the CACHE_SIZE most recently used entries are kept."""
    if key not in store:
        store[key] = build()
        while len(store) > CACHE_SIZE:
            store.popitem(last=False)
    store.move_to_end(key)
    return store[key]


def cached_table(eigs: np.ndarray) -> SpectralTable:
    """The df_1 table of a spectrum (``table_nodes(d)`` nodes), built on first use and cached.

    The key is a digest of the spectrum's bytes, so equal spectra share a table whatever the
    Problem object.
    """
    d = eigs.shape[-1]
    size, block = table_nodes(d), chunk_points(d, jax.default_backend())
    return _cached(
        _tables, _digest(eigs), lambda: _table_jit(jax.device_put(eigs), size, min(size, block))
    )


def cached_problem(problem: Problem) -> Problem:
    """``jax.device_put(problem)``, kept for the next call with an equal problem."""
    leaves = [np.asarray(x) for x in jax.tree_util.tree_leaves(problem)]
    return _cached(_problems, _digest(*leaves), lambda: jax.device_put(problem))


Kernel = Callable[..., tuple[Any, ...]]
HALVES = 2  # a chunk runs as this many blocks, only those holding points


def chunk_kernel(parts: Kernel) -> Kernel:
    """The jitted chunk kernel of ``parts(problem, table, *arrays (B,)) -> tuple of (B,)``.

    It takes (problem, table, count, *arrays of shape (C,)) and evaluates ``parts`` on the first
    ceil(count / B) blocks of B = C / HALVES points (a loop with a traced trip count, so one
    program serves any count); outputs past those blocks are zero. A call with fewer points than
    a chunk so pays for the blocks it fills, not for the whole chunk.
    """

    def kernel(problem: Problem, table: SpectralTable, count: Any, *arrays: Any) -> Any:
        block = max(1, arrays[0].shape[0] // HALVES)
        shapes = jax.eval_shape(parts, problem, table, *(a[:block] for a in arrays))
        zeros = tuple(jnp.zeros(arrays[0].shape, x.dtype) for x in shapes)

        def run_block(i: Any, outs: tuple[Any, ...]) -> tuple[Any, ...]:
            start = i * block
            cut = [jax.lax.dynamic_slice_in_dim(a, start, block) for a in arrays]
            new = parts(problem, table, *cut)
            return tuple(
                jax.lax.dynamic_update_slice_in_dim(o, x, start, 0)
                for o, x in zip(outs, new, strict=True)
            )

        return jax.lax.fori_loop(0, (count + block - 1) // block, run_block, zeros)

    return jax.jit(kernel)


def run_chunks(
    kernel: Kernel, problem: Problem, *flat: np.ndarray, chunk: int | None = None
) -> tuple[np.ndarray, ...]:
    """Evaluate ``kernel(problem, table, count, *chunk)`` over flat point arrays, in chunks.

    Must run with 64-bit types enabled when the theory needs float64 (``run_x64``).

    Args:
      kernel: a ``chunk_kernel``: a jitted function of (problem, SpectralTable, count, *arrays
        of shape (C,)) returning a tuple of arrays of shape (C,), valid for the first ``count``
        points; C = ``chunk_points(d, backend)``.
      problem: the problem (its spectrum has size d).
      *flat: point arrays, all of shape (P,), P >= 0.
      chunk: the points per chunk C (None: ``chunk_points(d, backend)``), for kernels whose
        points hold more than the spectrum's numbers.

    Returns:
      The kernel's outputs for all P points, as NumPy arrays of shape (P,).
    """
    d = problem.eigs.shape[-1]
    size = flat[0].shape[0]
    chunk = chunk_points(d, jax.default_backend()) if chunk is None else int(chunk)
    total = max(chunk, -(-size // chunk) * chunk)
    padded = [
        np.concatenate([a, np.full(total - size, a[-1] if size else 1.0, a.dtype)]) for a in flat
    ]
    table = cached_table(np.asarray(problem.eigs))
    problem = cached_problem(problem)
    outs = [
        kernel(
            problem, table, min(chunk, size - start), *(a[start : start + chunk] for a in padded)
        )
        for start in range(0, total, chunk)
    ]
    return tuple(
        np.concatenate([np.asarray(o[k]) for o in outs])[:size] for k in range(len(outs[0]))
    )
