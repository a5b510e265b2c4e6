"""Bootstrap resampling shared by the jitted fit cores (no validation).

A table is a NamedTuple of padded (C, L) columns whose last field is the row multiplicities
(1, or bootstrap counts, 0 on padding). A resample draws the units (rows or seeds) of each table
with replacement, as many as the table has, and gives each unit's count to its rows; every other
column is tiled, so one vmapped fit of the (C B, L) tables fits all B resamples of all C tables.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax import Array


def bootstrap_counts(key: Array, unit: Array, n_units: Array, replicates: int) -> Array:
    """Row multiplicities of ``replicates`` resamples of the units (rows or seeds) of a curve.

    Args:
      key: PRNG key.  unit: (L,) unit index of each row (padding: any index, weight 0 anyway).
      n_units: number of units of this curve.  replicates: B (static).

    Returns:
      (B, L) counts: each unit drawn with replacement n_units times, its count given to its rows.
    """
    size = unit.shape[0]

    def one(k: Array) -> Array:
        draws = jax.random.randint(k, (size,), 0, jnp.maximum(n_units, 1))
        used = jnp.arange(size) < n_units
        unit_counts = jnp.zeros(size).at[draws].add(used.astype(jnp.float64))
        return unit_counts[unit]

    return jax.vmap(one)(jax.random.split(key, replicates))


@functools.partial(jax.jit, static_argnames="replicates")
def _counts_many(keys: Array, unit: Array, n_units: Array, replicates: int) -> Array:
    return jax.vmap(lambda k, u, n: bootstrap_counts(k, u, n, replicates))(keys, unit, n_units)


def bootstrap_fits(
    tables: Any,
    unit: Array,
    n_units: Array,
    key: Array,
    replicates: int,
    fit: Callable[[Any], NamedTuple],
) -> Any:
    """``fit`` of ``replicates`` bootstrap resamples of every table, shape (C, B, ...) per field.

    ``tables`` is a NamedTuple of (C, L) columns, row multiplicities last; ``fit`` maps such a
    NamedTuple with a leading axis of tables to a NamedTuple of per-table results. Table c's
    resamples use the c-th key of ``jax.random.split(key, C)``.
    """
    keys = jax.random.split(key, tables.y.shape[0])
    counts = _counts_many(keys, unit, n_units, replicates)
    c, b, length = counts.shape
    tile = lambda x: jnp.broadcast_to(x[:, None, :], (c, b, length)).reshape(c * b, length)  # noqa: E731
    flat = type(tables)(*(tile(v) for v in tables[:-1]), counts.reshape(c * b, length))
    out = fit(flat)
    return type(out)(*(x.reshape((c, b) + x.shape[1:]) for x in out))
