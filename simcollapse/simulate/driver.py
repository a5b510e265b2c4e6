"""The one Monte Carlo driver: settings plug a per-draw kernel into it.

A kernel is a pure function ``kernel(problem, rep_key, *arrays, n=n, **static) -> (P, ..., 4)``:
one repetition at sample size ``n`` evaluated at P points (the leading axis of every array), the
last axis [bias, variance, zeta, total]. The driver

1. broadcasts the grid, groups its points by the static part of their shape (``n``, and the width
   ``m`` for random projections), and pads each group to a power of two (``bucket``) so that
   groups of similar size share a compile;
2. maps the ``reps`` draws of each group with ``lax.map`` (``batch`` of them vmapped at once),
   repetition r using the key ``draw_key(key, n, r)`` whatever the grid, batch or device count;
3. splits the repetitions over every device with ``jax.shard_map`` when there are several;
4. summarises over repetitions: the mean of each part and the standard error of the total.

``MonteCarlo(key, reps, dtype, batch)`` holds the settings shared by every simulation; it is
validated when built.

Example:
  >>> mc = MonteCarlo(key=0, reps=8)
  >>> mc.reps, mc.dtype
  (8, 'float64')
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.sharding import PartitionSpec as P

from simcollapse import devices
from simcollapse._validate import check_memory, check_range, machine_memory
from simcollapse.keys import as_key
from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms, Status
from simcollapse.simulate.lapack_threads import lapack_threads

__all__ = [
    "DTYPES",
    "MonteCarlo",
    "as_key",
    "bucket",
    "check_prepare",
    "draw_key",
    "map_draws",
    "matmul_precision",
    "memory_budget",
    "prepared_inputs",
    "run",
    "summarise",
]

DTYPES = {"float32": np.float32, "float64": np.float64}
# Rows of the per-draw output: bias, variance, zeta, total.
N_PARTS = 4
BATCH_MEMORY_FRACTION = 0.25
BATCH_MEMORY_CAP = 1 << 30  # never plan more than 1 GiB of temporaries for one batch


@dataclasses.dataclass(frozen=True)
class MonteCarlo:
    """The settings of a Monte Carlo estimate, validated when built.

    Args:
      key: a ``jax.random`` key or an int seed.
      reps: independent repetitions, an integer >= 1 (>= 2 for a standard error).
      dtype: "float64" (64-bit switched on for the call only) or "float32".
      batch: repetitions vmapped at once; None picks it (one at a time on a CPU, else as many as
        ``memory_budget`` allows).

    Raises:
      ValueError: reps or batch not an integer >= 1, dtype not float32/float64.
      TypeError: key neither an int nor a JAX key.

    Example:
      >>> import simcollapse as sc
      >>> mc = sc.MonteCarlo(key=0, reps=32)  # then sc.settings.get(NAME).simulate(prob, mc, ...)
      >>> mc.reps, mc.dtype
      (32, 'float64')
    """

    key: Any
    reps: int
    dtype: str = "float64"
    batch: int | None = None

    def __post_init__(self) -> None:
        check_range("reps", self.reps, 1, integer=True)
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {self.dtype!r}")
        if self.batch is not None:
            check_range("batch", self.batch, 1, integer=True)
            object.__setattr__(self, "batch", int(self.batch))
        object.__setattr__(self, "reps", int(self.reps))
        object.__setattr__(self, "key", as_key(self.key))

    @property
    def np_dtype(self) -> type:
        """The NumPy scalar type of ``dtype``."""
        return DTYPES[self.dtype]


MIN_BUCKET = 16  # a figure's curve or a user's few points all share one compiled program


def bucket(size: int, minimum: int = MIN_BUCKET) -> int:
    """The next power of two >= size, at least ``minimum``: padded sizes share a compile.

    bucket(size) = max(minimum, 2^ceil(log2 size)).

    Example:
      >>> bucket(1), bucket(17), bucket(100, minimum=1), bucket(64, minimum=1)
      (16, 32, 128, 64)
    """
    return max(minimum, 1 << max(0, int(size - 1).bit_length()))


def memory_budget(
    fraction: float = BATCH_MEMORY_FRACTION, cap: int | None = BATCH_MEMORY_CAP
) -> int:
    """Bytes the work may use: ``fraction`` of the first device's (or the host's) total memory,
    at most ``cap`` (None: no cap).

    Total, not free, memory: a plan (the batch, the chunks) must not change from one run to the
    next on the same machine.

    Example:
      >>> 0 < memory_budget() <= BATCH_MEMORY_CAP, memory_budget(cap=1000)
      (True, 1000)
    """
    try:
        stats = jax.devices()[0].memory_stats() or {}
    except Exception:  # noqa: BLE001 - backends without memory stats
        stats = {}
    if "bytes_limit" in stats:
        total = int(stats["bytes_limit"])
    else:
        have = machine_memory()
        total = int(have) if np.isfinite(have) else 8 << 30
    budget = int(fraction * total)
    return budget if cap is None else int(min(cap, budget))


def draw_key(key: Array, n: int, rep: Array) -> Array:
    """The key of repetition ``rep`` at sample size ``n`` (independent of the grid and width).

    draw_key(key, n, rep) = fold_in(fold_in(key, n), rep): the same (key, n, rep) gives the same
    draw in every grid, batch and device count (common random numbers).

    Example:
      >>> key = jax.random.key(0)
      >>> def data(k):
      ...     return jax.random.key_data(k).tolist()
      >>> data(draw_key(key, 100, 3)) == data(draw_key(key, 100, 3))
      True
      >>> data(draw_key(key, 100, 3)) == data(draw_key(key, 200, 3))  # another n, another draw
      False
    """
    return jax.random.fold_in(jax.random.fold_in(key, n), rep)


@partial(jax.jit, static_argnames=("kernel", "n", "batch", "static", "sharded", "impl"))
def _map_draws(
    kernel: Callable[..., Array],
    problem: Any,
    key_data: Array,
    arrays: tuple[Array, ...],
    ids: Array,
    *,
    n: int,
    batch: int | None,
    static: tuple[tuple[str, Any], ...],
    sharded: bool,
    impl: str,
) -> Array:
    def local(problem: Any, key_data: Array, arrays: tuple[Array, ...], ids: Array) -> Array:
        key = jax.random.wrap_key_data(key_data, impl=impl)
        keys = jax.vmap(lambda r: draw_key(key, n, r))(ids)
        one = partial(kernel, problem, n=n, **dict(static))
        return jax.lax.map(lambda k: one(k, *arrays), keys, batch_size=batch)

    if not sharded:
        return local(problem, key_data, arrays, ids)

    specs = (P(), P(), P(), P(devices.AXIS))
    mapped = jax.shard_map(
        local, mesh=devices.mesh(), in_specs=specs, out_specs=P(devices.AXIS), check_vma=False
    )
    return mapped(problem, key_data, arrays, ids)


#: The float32 matmul precision of the simulation when the user has not chosen one.
FULL_PRECISION = "highest"


def matmul_precision() -> str:
    """The matmul precision the Monte Carlo kernels run at.

    Full float32 (``"highest"``) unless the user chose another with JAX's own option
    (``jax.default_matmul_precision("tensorfloat32")`` around the call, or the environment
    variable ``JAX_DEFAULT_MATMUL_PRECISION``). On NVIDIA GPUs JAX's default for float32 is
    TF32 products (about 10 bits of mantissa, errors near 1e-3 relative in a Gram matrix,
    which the interpolation threshold m = n amplifies); on a CPU every choice computes in full
    float32, and float64 is unaffected.

    Example:
      >>> matmul_precision()
      'highest'
      >>> with jax.default_matmul_precision("tensorfloat32"):
      ...     matmul_precision()
      'tensorfloat32'
    """
    chosen = jax.config.jax_default_matmul_precision
    return FULL_PRECISION if chosen is None else str(chosen)


def map_draws(
    kernel: Callable[..., Array],
    problem: Problem,
    key: Array,
    arrays: tuple[Any, ...],
    *,
    n: int,
    reps: int,
    batch: int | None = None,
    static: dict[str, Any] | None = None,
) -> np.ndarray:
    """Per-draw results (reps, P, ..., 4) of ``kernel`` at sample size ``n``.

    One device: ``batch`` draws vmapped at once (None: ``lax.map`` one at a time). Several
    devices: the repetitions are split over a 1-D mesh of all of them, each device mapping its
    own one at a time, so every draw is the same program whatever the device count. On the CPU,
    problems of small d run with one LAPACK thread (``lapack_threads``). Products run at
    ``matmul_precision()`` (full float32 unless the user asks for a faster one).

    Args:
      kernel: the per-draw kernel (module doc), called as ``kernel(problem, key_r, *arrays,
        n=n, **static)`` for the key ``draw_key(key, n, r)`` of repetition r.
      problem: the Problem (its d picks the LAPACK threads).  key: a ``jax.random`` key.
      arrays: the traced inputs, leading axis P.  n: the sample size (static).
      reps: repetitions.  batch: draws vmapped at once (None: one at a time).
      static: further static keywords of the kernel.

    Returns:
      A float64 NumPy array (reps, P, ..., 4): draw r's output in row r.

    Example:
      >>> import jax.numpy as jnp, simcollapse as sc
      >>> def kernel(problem, key, scale, *, n):  # a toy kernel: scale * mean(z)^2 as 4 parts
      ...     z = jax.random.normal(key, (n,)).mean()
      ...     return jnp.stack([scale * z**2] * 4, axis=-1)
      >>> prob = sc.Problem.isotropic(4, c2=1.0, sigma2=0.5)
      >>> out = map_draws(kernel, prob, jax.random.key(0), (np.array([1.0, 2.0]),), n=10, reps=3)
      >>> out.shape, bool(np.allclose(out[:, 1], 2 * out[:, 0]))
      ((3, 2, 4), True)
    """
    static_items = tuple(sorted((static or {}).items()))
    arrays = tuple(jnp.asarray(a) for a in arrays)
    # The key travels as its raw data (a uint32 array) like every other input, rewrapped inside.
    impl, key_data = str(jax.random.key_impl(key)), jax.random.key_data(key)
    sharded = jax.device_count() > 1
    if sharded:
        ids = np.arange(-(-reps // jax.device_count()) * jax.device_count(), dtype=np.int32)
        ids, problem, key_data, arrays = devices.place_draws(ids, problem, key_data, arrays)
        batch = None  # one draw at a time per device: the same program on every device count
    else:
        ids = jnp.arange(reps, dtype=jnp.int32)
    # d bounds every matrix a kernel factorises: the Gram of at most d features, or of n < d rows
    precision = jax.default_matmul_precision(matmul_precision())
    with lapack_threads(np.shape(problem.eigs)[-1]), precision:
        out = _map_draws(
            kernel, problem, key_data, arrays, ids, n=n, batch=batch, static=static_items,
            sharded=sharded, impl=impl,
        )  # fmt: skip
        host = devices.to_host(out) if sharded else out
        return np.asarray(host[:reps], np.float64)


def summarise(per_draw: np.ndarray) -> dict[str, np.ndarray]:
    """Mean of each part over repetitions (axis 0) and the standard error of the total.

    For R draws: mean_r of bias, variance, zeta and total, and stderr = std_r(total) / sqrt(R)
    (ddof = 1; NaN for a single draw).

    Args:
      per_draw: (R, ..., 4) draws, the last axis [bias, variance, zeta, total].

    Returns:
      {"bias", "variance", "zeta", "total", "stderr"}: arrays of shape per_draw.shape[1:-1].

    Example:
      >>> per_draw = np.arange(24.0).reshape(3, 2, 4)  # 3 draws at 2 points
      >>> out = summarise(per_draw)
      >>> out["total"].tolist(), out["stderr"].round(4).tolist()
      ([11.0, 15.0], [4.6188, 4.6188])
      >>> summarise(per_draw[:1])["stderr"].tolist()  # one draw: no standard error
      [nan, nan]
    """
    reps = per_draw.shape[0]
    mean = per_draw.mean(axis=0)
    if reps > 1:
        stderr = per_draw[..., 3].std(axis=0, ddof=1) / np.sqrt(reps)
    else:
        stderr = np.full(per_draw.shape[1:-1], np.nan)
    return {
        "bias": mean[..., 0],
        "variance": mean[..., 1],
        "zeta": mean[..., 2],
        "total": mean[..., 3],
        "stderr": stderr,
    }


Prepare = Callable[
    [Mapping[str, int], Mapping[str, np.ndarray], Any], tuple[tuple[Any, ...], dict[str, Any]]
]
"""The one convention for a kernel's inputs: ``prepare(shape, points, dtype) -> (arrays, static)``.

``shape`` holds the static axes of one group of points ({"n": 40}, or {"n": 40, "m": 20}),
``points`` the flat values of the axes at the group's points, ``dtype`` the Monte Carlo dtype;
it returns the kernel's traced arrays and extra static keywords. The driver (``run``, and so
``Setting.from_terms``) passes every grid axis, the static ones included, padded to a bucket
size; a sweep's ``FastPath`` passes the axes other than its shape axes, unpadded. Read the
static axes from ``shape``."""


def check_prepare(prepare: Any) -> None:
    """A ``prepare`` must take the one convention's three arguments (``Prepare``).

    Raises:
      TypeError: it is not callable or cannot take (shape, points, dtype), in one line.

    Example:
      >>> check_prepare(lambda shape, points, dtype: ((), {}))
      >>> check_prepare(lambda group, points: ((), {}))  # doctest: +ELLIPSIS
      Traceback (most recent call last):
      ...
      TypeError: prepare must take (shape, points, dtype) ..., got a function of (group, points)
    """
    if not callable(prepare):
        raise TypeError(f"prepare must be callable, got {type(prepare).__name__}")
    try:
        signature = inspect.signature(prepare)
    except (TypeError, ValueError):  # a builtin without a signature: let the call decide
        return
    try:
        signature.bind(None, None, None)
    except TypeError:
        raise TypeError(
            "prepare must take (shape, points, dtype) and return (kernel arrays, static "
            f"keywords) (simulate.driver.Prepare), got a function of "
            f"({', '.join(signature.parameters)})"
        ) from None


def prepared_inputs(prepared: Any) -> tuple[Any, dict[str, Any]]:
    """What a ``prepare`` returned, checked: (kernel arrays, a copy of its static keywords).

    Raises:
      TypeError: it is not a pair whose second item is a mapping, in one line.

    Example:
      >>> prepared_inputs(((np.zeros(2),), {"m": None}))[1]
      {'m': None}
      >>> prepared_inputs((np.zeros(2),))  # doctest: +ELLIPSIS
      Traceback (most recent call last):
      ...
      TypeError: prepare must return (kernel arrays, static keywords) ..., got tuple of length 1
    """
    if not (isinstance(prepared, tuple) and len(prepared) == 2
            and isinstance(prepared[1], Mapping)):  # fmt: skip
        length = len(prepared) if isinstance(prepared, tuple) else 1
        raise TypeError(
            "prepare must return (kernel arrays, static keywords) (simulate.driver.Prepare), "
            f"got {type(prepared).__name__} of length {length}"
        )
    return prepared[0], dict(prepared[1])


def run(
    kernel: Callable[..., Array],
    problem: Any,
    grid: dict[str, Any],
    mc: MonteCarlo,
    *,
    group_by: tuple[str, ...] = ("n",),
    prepare: Prepare,
    static: dict[str, Any] | None = None,
) -> ErrorTerms:
    """Monte Carlo of ``kernel`` over a broadcast grid: the one driver behind every simulation.

    Args:
      kernel: the per-draw kernel (module doc).
      problem: the Problem (a pytree the kernel reads).
      grid: axis name -> values; they must broadcast together (validated by the caller).
      mc: the Monte Carlo settings.
      group_by: axes whose values are static in the kernel (n first); one compile per bucket.
      prepare: ``Prepare``: (shape, {axis: padded flat values}, dtype) -> (kernel arrays,
        extra static keywords), the traced inputs of one group; an extra "batch" sets that
        group's batch.
      static: static keywords of the kernel shared by every group.

    Returns:
      ErrorTerms of shape broadcast(grid) + the kernel's trailing shape (e.g. rounds), the mean
      over repetitions of each part, ``stderr`` the standard error of ``total``, status 0.

    Raises:
      ValueError: the table of ``reps`` draws does not fit in memory (names ``reps``).
      TypeError: ``prepare`` does not take (shape, points, dtype) or does not return (kernel
        arrays, static keywords).

    Example:
      >>> import jax.numpy as jnp, simcollapse as sc
      >>> def kernel(problem, key, scale, *, n):  # a toy kernel: scale * mean(z)^2 as 4 parts
      ...     z = jax.random.normal(key, (n,)).mean()
      ...     return jnp.stack([scale * z**2] * 4, axis=-1)
      >>> def prepare(shape, flat, dtype):  # shape = {"n": 10}; flat: the padded grid values
      ...     return (flat["scale"].astype(dtype),), {}
      >>> prob = sc.Problem.isotropic(4, c2=1.0, sigma2=0.5)
      >>> grid = {"n": 10, "scale": np.array([[1.0], [2.0]])}
      >>> out = run(kernel, prob, grid, MonteCarlo(key=0, reps=4), prepare=prepare)
      >>> out.total.shape, out.status.tolist(), bool(np.allclose(out.total[1], 2 * out.total[0]))
      ((2, 1), [[0], [0]], True)
    """
    check_prepare(prepare)
    shape = np.broadcast_shapes(*(np.shape(v) for v in grid.values()))
    # The table of draws (reps x points x parts) is allocated whole: refuse it before any work
    # when it cannot fit (reps = 10**9 would abort the interpreter).
    points = int(np.prod(shape, dtype=np.float64))
    check_memory("reps", 8.0 * mc.reps * points * N_PARTS, f"the table of {mc.reps} draws")
    flat = {k: np.broadcast_to(np.asarray(v, np.float64), shape).ravel() for k, v in grid.items()}
    keys = np.stack([flat[a] for a in group_by], axis=1)
    results = []
    with jax.enable_x64(mc.dtype == "float64"):
        for values in np.unique(keys, axis=0):
            idx = np.flatnonzero(np.all(keys == values, axis=1))
            pad = np.concatenate([idx, np.repeat(idx[-1:], bucket(idx.size) - idx.size)])
            group = {a: int(v) for a, v in zip(group_by, values, strict=True)}
            arrays, extra = prepared_inputs(
                prepare(group, {k: v[pad] for k, v in flat.items()}, mc.np_dtype)
            )
            batch = extra.pop("batch", mc.batch)
            out = map_draws(
                kernel, problem, mc.key, arrays, n=group["n"], reps=mc.reps, batch=batch,
                static={**(static or {}), **extra},
            )  # fmt: skip
            results.append((idx, out[:, : idx.size]))
    trailing = results[0][1].shape[2:-1]
    parts = np.empty((mc.reps, int(np.prod(shape, dtype=int)), *trailing, N_PARTS))
    for idx, out in results:
        parts[:, idx] = out
    fields = {k: v.reshape((*shape, *trailing)) for k, v in summarise(parts).items()}
    status = np.full((*shape, *trailing), Status.CONVERGED, dtype=np.int32)
    return ErrorTerms(status=status, **fields)
