"""Broadcast a (n, m, lam, p2) grid, group it by shape, and run the Monte Carlo engine on it."""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from simcollapse._validate import check_range
from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms, Status
from simcollapse.simulate import engine
from simcollapse.theory._common import check_common

DTYPES = {"float32": np.float32, "float64": np.float64}


def as_key(key: Any) -> jax.Array:
    """A JAX PRNG key from a key or an int seed."""
    if isinstance(key, (int, np.integer)):
        return jax.random.key(int(key))
    if isinstance(key, jax.Array) and jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        return key
    if isinstance(key, jax.Array) and key.shape == (2,) and key.dtype == np.uint32:
        return jax.random.wrap_key_data(key)
    raise TypeError(f"key must be an int seed or a jax.random key, got {key!r}")


ESTIMATORS = ("plain", "conditional")


def check_mc_settings(reps: Any, dtype: str, batch: Any, estimator: str = "plain") -> None:
    """Validate the Monte Carlo settings shared by every simulator: reps, dtype, batch."""
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}, got {estimator!r}")
    check_range("reps", reps, 1, integer=True)
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}")
    if batch is not None:
        check_range("batch", batch, 1, integer=True)


def bucket(size: int) -> int:
    """Pad a group of points to ``engine.bucket(size)``, so groups of similar size share a
    compile."""
    return engine.bucket(size)


def run_grid(
    problem: Problem,
    n: Any,
    m: Any,
    lam: Any,
    p2: Any,
    key: Any,
    reps: int,
    dtype: str,
    batch: int | None,
    estimator: str = "plain",
) -> ErrorTerms:
    """Monte Carlo over a broadcast grid; ``m=None`` is ridge on the raw inputs."""
    axes = {"n": n, "lam": lam, "p2": p2} if m is None else {"n": n, "m": m, "lam": lam, "p2": p2}
    check_common(problem, **axes)
    check_range("n", n, 1, integer=True)
    if m is not None:
        check_range("m", m, 1, integer=True)
    check_mc_settings(reps, dtype, batch, estimator)
    rng = as_key(key)
    shape = np.broadcast_shapes(*(np.shape(v) for v in axes.values()))
    flat = {k: np.broadcast_to(np.asarray(v), shape).ravel() for k, v in axes.items()}
    nn = flat["n"].astype(np.int64)
    mm = flat["m"].astype(np.int64) if m is not None else np.zeros_like(nn)
    lams = flat["lam"].astype(np.float64)
    n2 = engine.synthetic_rows(nn, flat["p2"])
    parts = np.empty((int(reps), nn.size, engine.N_PARTS))
    groups = np.unique(np.stack([nn, mm], axis=1), axis=0)
    with jax.enable_x64(dtype == "float64"):
        for n_g, m_g in groups:
            idx = np.flatnonzero((nn == n_g) & (mm == m_g))
            size = bucket(idx.size)
            pad = np.concatenate([idx, np.repeat(idx[-1:], size - idx.size)])
            out = engine.draws(
                problem,
                rng,
                lams[pad].astype(DTYPES[dtype]),
                n2[pad],
                n=int(n_g),
                m=None if m is None else int(m_g),
                reps=int(reps),
                dtype=DTYPES[dtype],
                batch=batch,
                estimator=estimator,
            )
            parts[:, idx] = np.asarray(out, dtype=np.float64)[:, : idx.size]
    summary = engine.summarise(parts)
    fields = {k: v.reshape(shape) for k, v in summary.items()}
    status = np.full(shape, Status.CONVERGED, dtype=np.int32)
    return ErrorTerms(status=status, **fields)
