"""Monte Carlo engine: draw data, factorise once, evaluate every (lam, p2) point of that draw.

One repetition ("draw") at sample size n and feature map F (identity for ridge, x -> S x for random
projections) does:

1. draw X (n x d) in the eigenbasis of Sigma (x = sqrt(s) * z), label noise eps ~ N(0, sigma^2),
   a shift delta ~ N(0, diag(delta_sq)) and, for random projections, S (m x d) ~ N(0, 1/d);
2. factorise once: the eigendecomposition of F'F/n (primal, n >= k features) or of FF'/n (dual,
   n < k), so that the ridge fit at every lam is v(lam) = B diag(1/(e + lam)) c for label
   coefficients c in that basis (eigenvalues below the rank threshold get 0: the min-norm solution,
   exact at lam = 0 and unchanged for lam > 0 because the labels have no component there);
3. split the labels into their three linear parts: the real teacher X w1 on every row, the noise
   eps, and the shift u_i = x_i . delta on the last n2 = round(p2 n) rows only. The coefficients of
   the shift part for every distinct n2 come from one product of a 0/1 row mask with F * u;
4. for each point, map the fitted weights to input space and take the test error on real data,
   ||w_hat - w1||^2_Sigma = sum_j s_j (w_hat - w1)_j^2 (exact: no test sample is drawn), and its
   parts bias = ||w_hat(X w1) - w1||^2_Sigma, variance = ||w_hat(eps)||^2_Sigma and
   zeta = ||w_hat(u)||^2_Sigma.

``ridge_kernel`` is this draw in the form of the Monte Carlo driver (``simulate.driver``), which
groups points by (n, m), maps the draws and shards them over devices. Keys: the draw of X, eps and
delta depends only on (key, n, rep), so ridge and random projections of every width see the same
data (common random numbers); S depends on (key, n, rep, m).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from simcollapse.problem import Problem
from simcollapse.simulate import driver
from simcollapse.simulate.driver import N_PARTS, draw_key, memory_budget, summarise

__all__ = ["N_PARTS", "draw_key", "draws", "one_draw", "ridge_kernel", "summarise"]


def synthetic_rows(n: Any, p2: Any) -> np.ndarray:
    """n2 = round(p2 n), halves rounded up: the number of synthetic rows (the last n2 rows)."""
    return np.floor(np.asarray(p2, np.float64) * np.asarray(n, np.float64) + 0.5).astype(np.int64)


# Generator of the draws. None: the key's own implementation (threefry unless the caller chose
# otherwise), identical on every backend and sharding. "rbg" or "unsafe_rbg": XLA's
# RngBitGenerator seeded from the key, deterministic per seed, but JAX allows its stream to differ
# across backends and shardings. On a 2-core CPU it is not faster (a 3000 x 200 normal draw: 5 ms
# threefry, 11-16 ms rbg); on accelerators it can be.
PRNG_IMPLS = (None, "rbg", "unsafe_rbg")
DEFAULT_PRNG: str | None = None


def rekey(key: Array, impl: str | None) -> Array:
    """``key`` as a key of implementation ``impl`` (None: unchanged), deterministically."""
    if impl is None:
        return key
    data = jax.random.key_data(key).ravel()
    words = jnp.concatenate([data, data ^ jnp.uint32(0x9E3779B9)])
    size = 4  # rbg and unsafe_rbg keys are uint32[4]
    return jax.random.wrap_key_data(jnp.resize(words, (size,)), impl=impl)


def draw_data(
    problem: Problem, key: Array, n: int, dtype: Any, prng: str | None = None
) -> tuple[Array, Array, Array]:
    """X (n x d), rows ~ N(0, diag(eigs)); eps ~ N(0, sigma^2 I_n); delta ~ N(0, diag(delta_sq)).

    ``prng`` picks the generator (``PRNG_IMPLS``); None keeps the key's implementation.
    """
    kx, ke, kd = jax.random.split(rekey(key, prng), 3)
    d = problem.eigs.shape[-1]
    scale = jnp.sqrt(jnp.asarray(problem.eigs, dtype))
    x = jax.random.normal(kx, (n, d), dtype) * scale
    eps = jax.random.normal(ke, (n,), dtype) * jnp.sqrt(jnp.asarray(problem.sigma2, dtype))
    delta = jax.random.normal(kd, (d,), dtype) * jnp.sqrt(jnp.asarray(problem.delta_sq, dtype))
    return x, eps, delta


def draw_projection(key: Array, m: int, d: int, dtype: Any) -> Array:
    """S (m x d) with i.i.d. N(0, 1/d) entries (Theorem 2's random projection)."""
    return jax.random.normal(jax.random.fold_in(key, 1_000_003 + m), (m, d), dtype) / jnp.sqrt(
        jnp.asarray(d, dtype)
    )


def reverse_cumsum_rows(a: Array) -> Array:
    """T with T[j] = sum_{i >= j} a[i] for j = 0..n (T[n] = 0): shape (n + 1, ...)."""
    tail = jnp.cumsum(a[::-1], axis=0)[::-1]
    return jnp.concatenate([tail, jnp.zeros_like(a[:1])], axis=0)


def gram(a: Array) -> Array:
    """a'a for a (n x k), through an explicit copy of a' in float64 on the CPU.

    XLA's CPU dot that contracts the leading axis of both operands ran 1.4-1.8x slower than a
    copy of a' followed by an ordinary product (2-core CPU, float64, n x k from 300 x 300 to
    16384 x 4096: 103 against 153-180 GFLOP/s); in float32 and on accelerators the copy gains
    nothing, so a'a is taken as written there.

    Example:
      >>> float(gram(jnp.array([[1.0, 2.0], [3.0, 4.0]]))[0, 1])
      14.0
    """
    if a.dtype == jnp.float64 and jax.default_backend() == "cpu":
        return jax.lax.optimization_barrier(a.T) @ a  # the barrier keeps the copy
    return a.T @ a


def factorise(feats: Array) -> tuple[Array, Array, bool]:
    """Eigendecomposition of the smaller Gram matrix of ``feats`` (n x k), divided by n.

    Returns (e, basis, primal): primal (n >= k): F'F/n = V diag(e) V', basis V (k x k);
    dual (n < k): FF'/n = U diag(e) U', basis U (n x n).
    """
    n, k = feats.shape
    primal = n >= k
    g = gram(feats) if primal else feats @ feats.T
    e, basis = jnp.linalg.eigh(g / n)
    return e, basis, primal


def inverse_eigs(e: Array, lam: Array, size: int) -> Array:
    """1/(e + lam) on the numerical range of the Gram, 0 on its null space (min-norm), (P, r)."""
    tol = jnp.max(e) * size * jnp.finfo(e.dtype).eps
    keep = e > tol
    return jnp.where(keep, 1.0 / (jnp.where(keep, e, 1.0) + lam[:, None]), 0.0)


def real_test_errors(s: Array, w1: Array, ab: Array, av: Array, az: Array) -> Array:
    """Test error on real data and its parts for input-space errors (P, d) -> (P, 4)."""

    def sq(a: Array) -> Array:
        return jnp.sum(s * a * a, axis=-1)

    return jnp.stack([sq(ab), sq(av), sq(az), sq(ab + av + az)], axis=-1)


def tail_sums(a: Array, starts: Array) -> Array:
    """T[p] = sum_{i >= starts[p]} a[i] for each p: (S, n) mask times (n, k), one product."""
    mask = jnp.arange(a.shape[0])[None, :] >= starts[:, None]
    return mask.astype(a.dtype) @ a


def features(x: Array, key: Array, m: int | None, dtype: Any) -> tuple[Array, Array | None]:
    """(F, T): the features of a draw and the map from feature weights to input space (w = T v).

    Ridge (m None): F = X, T None (the identity). Random projections: F = X S', T = S' with S
    from ``draw_projection``; for m > d, Z = X S' has rank <= d: with S = U diag(sv) V' (thin
    SVD), Z = (X V diag(sv)) U', and ridge on Z (penalty on ||v||, min-norm at lam = 0) equals
    ridge on the d reduced features X V diag(sv), since the part of v outside the range of U
    fits nothing and only costs penalty: the same predictor from a d x d problem.
    """
    if m is None:
        return x, None
    d = x.shape[1]
    proj = draw_projection(key, m, d, dtype)
    back = proj.T
    if m > d:
        _, sv, vt = jnp.linalg.svd(proj, full_matrices=False)
        back = vt.T * sv
    return x @ back, back


def point_indices(
    lam: Array, n2: Array, lam_index: Array | None, n2_index: Array | None
) -> tuple[Array, Array]:
    """Each point's index into the distinct lam and n2 values; the identity where not given."""
    lam_index = jnp.arange(lam.shape[0]) if lam_index is None else lam_index
    n2_index = jnp.arange(n2.shape[0]) if n2_index is None else n2_index
    return lam_index, n2_index


def spectrum_and_teacher(problem: Problem, dtype: Any) -> tuple[Array, Array]:
    """The eigenvalues s_j and the teacher's coordinates w1_j = sqrt(w1_sq_j), in ``dtype``."""
    return jnp.asarray(problem.eigs, dtype), jnp.sqrt(jnp.asarray(problem.w1_sq, dtype))


def one_draw(
    problem: Problem,
    key: Array,
    lam: Array,
    n2: Array,
    *,
    n: int,
    m: int | None,
    dtype: Any,
    prng: str | None = None,
    lam_index: Array | None = None,
    n2_index: Array | None = None,
) -> Array:
    """Test errors (P, 4) of one repetition at every point (see module doc).

    Point p is (lam[lam_index[p]], n2[n2_index[p]]): ``lam`` and ``n2`` hold the distinct
    values (indices default to the identity), so that what depends on lam alone (the teacher and
    noise parts) and on n2 alone (the shift coefficients) is computed once per value.
    Costs per draw: the Gram (n k^2) and its eigendecomposition (k^3), O(n k) for the label
    parts, (N2 x n) x (n x k) for the tail sums of the shift part, and (2L + P, r) x (r, d) for
    the weights in input space.

    Returns:
      (P, 4): row p is point p, the columns [bias, variance, zeta, total] of that draw's exact
      test error ||w_hat - w1||^2_Sigma on real data (m None: ridge; m: random projections).

    Example:
      >>> import jax, jax.numpy as jnp, simcollapse as sc
      >>> prob = sc.Problem.isotropic(4, c2=1.0, sigma2=0.5)
      >>> kernel = jax.jit(one_draw, static_argnames=("n", "m", "dtype"))  # as the driver runs it
      >>> out = kernel(prob, jax.random.key(0), jnp.array([0.1, 1.0]), jnp.array([0, 4]),
      ...              n=8, m=None, dtype="float32")  # (lam, n2) = (0.1, 0) and (1.0, 4)
      >>> out.shape, bool(jnp.isfinite(out).all())
      ((2, 4), True)
    """
    lam_index, n2_index = point_indices(lam, n2, lam_index, n2_index)
    x, eps, delta = draw_data(problem, key, n, dtype, prng)
    s, w1 = spectrum_and_teacher(problem, dtype)
    feats, back = features(x, key, m, dtype)
    e, basis, primal = factorise(feats)
    u = x @ delta  # synthetic label offset of every row
    y_teacher = x @ w1
    rows = n - n2  # first synthetic row, per distinct n2
    if primal:
        # Coefficients in the eigenbasis: c = V' F' y / n. The shift part only sums the last n2
        # rows: tail sums of F * u in feature space, then rotated, (N2, k) x (k, k).
        cb, cv = (jnp.stack([y_teacher, eps]) @ feats / n) @ basis
        cz = (tail_sums(feats * u[:, None], rows) / n) @ basis
        span = basis  # weights v = basis @ q
    else:
        cb = basis.T @ y_teacher
        cv = basis.T @ eps
        cz = tail_sums(basis * u[:, None], rows)  # (N2, n)
        span = feats.T @ basis / n  # (k, n)
    if back is not None:
        span = back @ span  # to input space: w = S' v
    inv = inverse_eigs(e, lam.astype(dtype), max(feats.shape))  # (L, r)
    n_lam = lam.shape[0]
    # Weights in input space in one product: teacher and noise parts per distinct lam, the shift
    # part per point.
    qz = cz[n2_index] * inv[lam_index]
    weights = jnp.concatenate([cb * inv, cv * inv, qz]) @ span.T
    ab = weights[:n_lam][lam_index] - w1
    av = weights[n_lam : 2 * n_lam][lam_index]
    az = weights[2 * n_lam :]
    return real_test_errors(s, w1, ab, av, az)


def default_batch(
    n: int, width: int, d: int, points: int, reps: int, itemsize: int, budget: int | None = None
) -> int:
    """Repetitions to vmap at once so that their working set fits ``budget`` bytes.

    One draw holds X (n x d), the features (n x k), the tail sums (n x k), the Gram and its
    eigenbasis (2 k^2), and the per-point arrays (about 8 P max(k, d)); ``budget`` defaults to
    ``driver.memory_budget()``.
    """
    if budget is None:
        budget = memory_budget()
    k = min(n, width)
    per_draw = itemsize * (n * d + 3 * n * width + 2 * k * k + 8 * points * max(width, d))
    return int(max(1, min(reps, budget // max(per_draw, 1))))


def pick_batch(problem: Problem, n: int, m: int | None, points: int, reps: int, dtype: Any) -> int:
    """The default batch of the ridge kernel: one draw at a time on a CPU, else the memory rule.

    Measured (d = 256, n = 1024, 8 draws, 2-core CPU): draws in sequence 0.136 s, vmapped in twos
    0.18 s, all eight at once 0.20 s. XLA's CPU kernels gain nothing from a batch axis.
    """
    if jax.default_backend() == "cpu":
        return 1
    d = problem.eigs.shape[-1]
    width = d if m is None else int(m)
    return default_batch(n, width, d, points, reps, np.dtype(dtype).itemsize)


def kernel_form(per_draw: Callable[..., Array]) -> Callable[..., Array]:
    """A per-draw function with ``one_draw``'s signature in the driver's kernel form.

    The kernel takes every traced input positionally, ``kernel(problem, key, lam, n2, lam_index,
    n2_index, *, n, m, dtype, prng=None)``, as ``driver.map_draws`` and ``driver.run`` call it,
    and returns ``per_draw(problem, key, lam, n2, n=n, m=m, dtype=dtype, prng=prng,
    lam_index=lam_index, n2_index=n2_index)``.

    Example:
      >>> import jax, simcollapse as sc
      >>> prob = sc.Problem.isotropic(4, c2=1.0, sigma2=0.5)
      >>> lam, n2, idx = jax.numpy.array([0.1]), jax.numpy.array([2]), jax.numpy.array([0])
      >>> kernel_form(one_draw)(prob, jax.random.key(0), lam, n2, idx, idx, n=8, m=None,
      ...                       dtype="float32").shape
      (1, 4)
    """

    def kernel(
        problem: Problem,
        key: Array,
        lam: Array,
        n2: Array,
        lam_index: Array,
        n2_index: Array,
        *,
        n: int,
        m: int | None,
        dtype: Any,
        prng: str | None = None,
    ) -> Array:
        return per_draw(
            problem, key, lam, n2, n=n, m=m, dtype=dtype, prng=prng,
            lam_index=lam_index, n2_index=n2_index,
        )  # fmt: skip

    kernel.__doc__ = f"``{per_draw.__name__}`` in the driver's kernel form (``kernel_form``)."
    return kernel


ridge_kernel = kernel_form(one_draw)


def check_prng(prng: str | None) -> str | None:
    """The generator to use (``DEFAULT_PRNG`` for None); a ValueError for an unknown one."""
    prng = DEFAULT_PRNG if prng is None else prng
    if prng not in PRNG_IMPLS:
        raise ValueError(f"prng must be one of {PRNG_IMPLS}, got {prng!r}")
    return prng


def ridge_arrays(lam: Any, n2: Any, dtype: Any) -> tuple[Array, ...]:
    """The ridge kernel's traced inputs: distinct lam and n2 values and each point's index."""
    lam_u, lam_index = distinct(lam)
    n2_u, n2_index = distinct(n2)
    return (
        jnp.asarray(lam_u, dtype), jnp.asarray(n2_u), jnp.asarray(lam_index),
        jnp.asarray(n2_index),
    )  # fmt: skip


def draws(
    problem: Problem,
    key: Array,
    lam: Array,
    n2: Array,
    *,
    n: int,
    m: int | None,
    reps: int,
    dtype: Any,
    batch: int | None = None,
    prng: str | None = None,
) -> Array:
    """Test errors of ``reps`` independent repetitions, shape (reps, P, 4).

    ``batch`` repetitions are vmapped at once (the rest mapped in sequence); None picks one
    (``pick_batch``). The result does not depend on ``batch``. ``prng`` picks the generator of
    the draws (default ``DEFAULT_PRNG``; see ``PRNG_IMPLS``).

    Point p is (lam[p], n2[p]); draw r is ``one_draw`` at the key ``draw_key(key, n, r)``, so
    out[r, p] = [bias, variance, zeta, total] of repetition r at point p.

    Raises:
      ValueError: ``prng`` not one of ``PRNG_IMPLS``.

    Example:
      >>> import jax, numpy as np, simcollapse as sc
      >>> prob = sc.Problem.isotropic(4, c2=1.0, sigma2=0.5)
      >>> out = draws(prob, jax.random.key(0), np.array([0.1, 1.0], np.float32), np.array([0, 4]),
      ...             n=8, m=None, reps=3, dtype="float32")
      >>> out.shape, bool(np.isfinite(out).all())
      ((3, 2, 4), True)
    """
    prng = check_prng(prng)
    if batch is None:
        batch = pick_batch(problem, n, m, np.shape(lam)[0], reps, dtype)
    arrays = ridge_arrays(lam, n2, np.asarray(lam).dtype)
    static = {"m": m, "dtype": dtype, "prng": prng}
    return driver.map_draws(
        ridge_kernel, problem, key, arrays, n=n, reps=reps, batch=int(batch), static=static
    )


def distinct(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values (padded with the last one to a power of two, so that grids of
    similar size share a compile) and the index of each value among them.

    No minimum size: the per-draw work of the kernels grows with the number of distinct values
    (one shift term per n2, one set of weights per lam), so a few points pad to a few values.
    """
    values = np.asarray(values)
    uniq, index = np.unique(values, return_inverse=True)
    size = driver.bucket(uniq.size, minimum=1)
    return np.concatenate([uniq, np.repeat(uniq[-1:], size - uniq.size)]), index.astype(np.int32)
