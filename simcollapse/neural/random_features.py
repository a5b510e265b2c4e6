"""Random-feature ridge regression in closed form, batched so that memory stays bounded.

Model (Strong Model Collapse, Dohmatob et al., ICLR 2025; the
random-projection model of its Theorem 2 with a ReLU, as in its MNIST experiments):
  f(x) = v' phi(x),  phi(x) = relu(W x) in R^m,  W_ij ~ N(0, 1/d) i.i.d., fixed;
  v_hat = argmin_v (1/n) ||Z v - Y||^2 + lam ||v||^2,   Z = relu(X W') in R^{n x m}.
Two equal closed forms:
  primal (m <= n):  v_hat = (Z'Z/n + lam I_m)^{-1} Z'Y/n                  (an m x m system),
  dual   (m > n):   v_hat = Z' (ZZ'/n + lam I_n)^{-1} Y / n                (an n x n system).
``method="auto"`` picks the smaller system. Row i of W is drawn from ``jax.random.fold_in(key, i)``,
so the same key gives the same features whatever the method and the block size; W is used in
blocks of ``block_size`` rows, and the features are never held whole: the primal form accumulates
Z'Z over blocks of rows of X, the dual form accumulates ZZ' over blocks of features. Peak memory is
about 3 min(m, n)^2 words plus one block (see ``rf_memory_bytes``). Y may hold several targets
(columns): one factorisation serves them all, e.g. the labels of several synthetic fractions p2 on
the same images.

dtype: float32 by default; float64 needs ``jax.config.update("jax_enable_x64", True)`` first (this
module never flips the global JAX setting itself and raises if asked for float64 without it).
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.linalg import cho_factor, cho_solve

from simcollapse._validate import check_range

__all__ = [
    "RandomFeatureRidge",
    "fit_random_features",
    "fit_random_features_nested",
    "random_feature_weights",
    "rf_memory_bytes",
]

Method = Literal["auto", "primal", "dual"]


def _check_dtype(dtype) -> jnp.dtype:
    dt = jnp.dtype(dtype)
    if dt not in (jnp.dtype(jnp.float32), jnp.dtype(jnp.float64)):
        raise ValueError(f"dtype must be float32 or float64, got {dt}")
    if dt == jnp.float64 and not jax.config.jax_enable_x64:
        raise ValueError(
            "dtype float64 needs 64-bit JAX: call jax.config.update('jax_enable_x64', True) first "
            "(simcollapse does not change this global setting for you)"
        )
    return dt


def _n_blocks(m: int, block: int) -> int:
    return -(-m // block)


@functools.partial(jax.jit, static_argnums=(2, 3, 4))
def _weight_block(key: jax.Array, b, block: int, d: int, dtype) -> jax.Array:
    # Row i of W comes from fold_in(key, i): W does not depend on the block size or the method.
    # b is traced: one compilation serves every block of a width.
    # Drawn in float32 whatever dtype: float64 then computes with exactly the same features.
    rows = b * block + jnp.arange(block)
    draw = jax.vmap(lambda i: jax.random.normal(jax.random.fold_in(key, i), (d,), jnp.float32))
    return (draw(rows) / np.float32(np.sqrt(d))).astype(dtype)


def random_feature_weights(
    key: jax.Array, m: int, d: int, *, block_size: int = 2048, dtype=jnp.float32
) -> jax.Array:
    """The (m, d) first-layer matrix W, entries N(0, 1/d), drawn block by block as the fit does.

    Row i comes from ``fold_in(key, i)``, drawn in float32 and cast to ``dtype``, so W does not
    depend on ``block_size``, nor (up to that cast) on ``dtype``.

    Example:
      >>> import jax, numpy as np
      >>> w = random_feature_weights(jax.random.key(0), 6, 4)
      >>> blocks = random_feature_weights(jax.random.key(0), 6, 4, block_size=2)
      >>> w.shape, bool(np.array_equal(w, blocks))  # W does not depend on block_size
      ((6, 4), True)
    """
    block = min(block_size, m)
    blocks = [_weight_block(key, b, block, d, dtype) for b in range(_n_blocks(m, block))]
    return jnp.concatenate(blocks)[:m]


def _block_mask(b: int, block: int, m: int, dtype) -> np.ndarray:
    """1 on the rows of block b that are real features (< m), 0 on the padding of the last block."""
    return (np.arange(block) + b * block < m).astype(dtype)


@jax.jit
def _feat(x: jax.Array, w: jax.Array, mask: jax.Array) -> jax.Array:
    return jax.nn.relu(x @ w.T) * mask


@functools.partial(jax.jit, donate_argnums=(0, 1))
def _primal_accumulate(g, r, x, y, w):
    z = jax.nn.relu(x @ w.T)
    return g + z.T @ z, r + z.T @ y


@functools.partial(jax.jit, donate_argnums=0)
def _dual_accumulate(k, x, w, mask):
    z = _feat(x, w, mask)
    return k + z @ z.T


@jax.jit
def _dual_coef(x, w, mask, alpha):
    return _feat(x, w, mask).T @ alpha / x.shape[0]


@jax.jit
def _dual_coef_sum(x, w, mask, alpha):
    return _feat(x, w, mask).T @ alpha


@jax.jit
def _chol_solve(a, rhs, scale, lam):
    # (a * scale + lam I) without materialising the identity
    idx = jnp.arange(a.shape[0])
    a = (a * scale).at[idx, idx].add(lam)
    return cho_solve(cho_factor(a), rhs)


@jax.jit
def _predict_block(out, x, w, mask, v):
    return out + _feat(x, w, mask) @ v


def rf_memory_bytes(
    n: int,
    m: int,
    d: int,
    k: int = 10,
    *,
    block_size: int = 2048,
    row_block: int = 512,
    itemsize: int = 4,
) -> int:
    """Rough peak memory of ``fit_random_features`` (bytes), without the inputs X and Y.

    primal: W (m d) + Z'Z, the shifted copy and its Cholesky factor (3 m^2) + one row block of
    features (row_block m); dual: K, the shifted copy and its factor (3 n^2) + one feature block
    (n block) + one weight block (block d); plus v (m k). The accumulators are donated, so each
    block updates Z'Z or K in place.

    Example:
      >>> rf_memory_bytes(n=1000, m=500, d=784) / 2**20  # MiB
      5.37109375
    """
    block = min(block_size, m)
    if m <= n:
        words = m * d + 3 * m * m + min(row_block, n) * m + 2 * m * k
    else:
        words = 3 * n * n + n * block + block * d + m * k + 2 * n * k
    return int(words * itemsize)


@dataclasses.dataclass(frozen=True, eq=False)
class RandomFeatureRidge:
    """A fitted random-feature ridge model: f(x) = v' relu(W x), W regenerated from ``key``.

    Attributes:
      key: the PRNG key that defines W (row i from fold_in(key, i)).
      m: width (number of features).
      d: input dimension.
      coef: (m, k) fitted output weights v_hat.
      lam: the ridge penalty.
      method: "primal" or "dual", the closed form used.
      block_size: rows of W per block.

    Example:
      >>> import jax, numpy as np
      >>> rng = np.random.default_rng(0)
      >>> x, y = rng.standard_normal((64, 5)), rng.standard_normal((64, 2))
      >>> model = fit_random_features(jax.random.key(0), x, y, m=32, lam=1e-2)
      >>> type(model).__name__, model.coef.shape, model.method, model.predict(x[:3]).shape
      ('RandomFeatureRidge', (32, 2), 'primal', (3, 2))
    """

    key: jax.Array
    m: int
    d: int
    coef: jax.Array
    lam: float
    method: str
    block_size: int

    def features(self, x: jax.Array) -> jax.Array:
        """relu(x W') for a (N, d) batch, all m features at once (use for small m only)."""
        w = random_feature_weights(
            self.key, self.m, self.d, block_size=self.block_size, dtype=self.coef.dtype
        )
        return jax.nn.relu(jnp.asarray(x, self.coef.dtype) @ w.T)

    def predict(self, x: jax.Array) -> jax.Array:
        """f(x) = sum over feature blocks b of relu(x W_b') v_b, shape (N, k)."""
        x = jnp.asarray(x, self.coef.dtype)
        block = min(self.block_size, self.m)
        nb = _n_blocks(self.m, block)
        v = np.pad(np.asarray(self.coef), ((0, nb * block - self.m), (0, 0)))
        out = jnp.zeros((x.shape[0], self.coef.shape[1]), self.coef.dtype)
        for b in range(nb):
            w = _weight_block(self.key, b, block, self.d, self.coef.dtype)
            mask = _block_mask(b, block, self.m, self.coef.dtype)
            out = _predict_block(out, x, w, mask, v[b * block : (b + 1) * block])
        return out


def _checked_fit_inputs(x, y, m, lam, method, block_size, row_block, dtype):
    """Validate the arguments of ``fit_random_features``; x (n, d) and y (n, k) in its dtype."""
    check_range("m", m, 1, integer=True)
    check_range("lam", lam, 0.0, low_open=True)
    check_range("block_size", block_size, 1, integer=True)
    check_range("row_block", row_block, 1, integer=True)
    if method not in ("auto", "primal", "dual"):
        raise ValueError(f"method must be 'auto', 'primal' or 'dual', got {method!r}")
    dt = _check_dtype(dtype)
    x = jnp.asarray(x, dt)
    y = jnp.asarray(y, dt)
    if x.ndim != 2:
        raise ValueError(f"x must be a (n, d) matrix, got shape {x.shape}")
    y = y[:, None] if y.ndim == 1 else y
    if y.ndim != 2 or y.shape[0] != x.shape[0]:
        raise ValueError(f"y must have shape (n,) or (n, k) with n = {x.shape[0]}, got {y.shape}")
    return x, y, dt


def _fit_primal(x: jax.Array, y: jax.Array, w: jax.Array, lam: jax.Array, rb: int) -> jax.Array:
    """v_hat = (Z'Z/n + lam I)^{-1} Z'Y/n, Z'Z and Z'Y accumulated over row blocks of rb rows."""
    n = x.shape[0]
    m = w.shape[0]
    n_pad = _n_blocks(n, rb) * rb  # fixed block shape: one compilation per width, whatever n
    # zero rows of X give zero features (relu(0) = 0) and zero targets: they add nothing.
    # Blocks are cut on the host (NumPy) so that one compilation serves every block.
    xp = np.pad(np.asarray(x), ((0, n_pad - n), (0, 0)))
    yp = np.pad(np.asarray(y), ((0, n_pad - n), (0, 0)))
    g = jnp.zeros((m, m), x.dtype)
    r = jnp.zeros((m, y.shape[1]), x.dtype)
    for i in range(0, n_pad, rb):
        g, r = _primal_accumulate(g, r, xp[i : i + rb], yp[i : i + rb], w)
    return _chol_solve(g, r / n, 1.0 / n, lam)


def _fit_dual(
    key: jax.Array, x: jax.Array, y: jax.Array, m: int, block: int, lam: jax.Array
) -> jax.Array:
    """v_hat = Z'(ZZ'/n + lam I)^{-1} Y/n, ZZ' and then Z'alpha accumulated over weight blocks."""
    n, d = x.shape
    dt = x.dtype
    nb = _n_blocks(m, block)
    kmat = jnp.zeros((n, n), dt)
    for b in range(nb):
        w = _weight_block(key, b, block, d, dt)
        kmat = _dual_accumulate(kmat, x, w, _block_mask(b, block, m, dt))
    alpha = _chol_solve(kmat, y, 1.0 / n, lam)
    parts = []
    for b in range(nb):
        w = _weight_block(key, b, block, d, dt)
        parts.append(_dual_coef(x, w, _block_mask(b, block, m, dt), alpha))
    return jnp.concatenate(parts)[:m]


def fit_random_features(
    key: jax.Array,
    x: np.ndarray | jax.Array,
    y: np.ndarray | jax.Array,
    m: int,
    lam: float,
    *,
    method: Method = "auto",
    block_size: int = 2048,
    row_block: int = 512,
    dtype=jnp.float32,
) -> RandomFeatureRidge:
    """Fit v_hat = argmin (1/n)||relu(X W') v - Y||^2 + lam ||v||^2 in closed form.

    Formula (module docstring): primal (Z'Z/n + lam I)^{-1} Z'Y/n when m <= n, dual
    Z'(ZZ'/n + lam I)^{-1} Y/n otherwise (``method="auto"``); both solved by Cholesky.

    Args:
      key: PRNG key defining W (entries N(0, 1/d)).
      x: (n, d) inputs.
      y: (n,) or (n, k) targets; several columns share one factorisation.
      m: width, a positive integer.
      lam: ridge penalty, > 0 (the Cholesky needs it; use float64 for lam below about 1e-6).
      method: "auto", "primal" or "dual".
      block_size: rows of W drawn and used at once (bounds memory in the dual form).
      row_block: rows of X featurised at once in the primal form.
      dtype: float32 (default) or float64 (needs jax_enable_x64).

    Returns:
      A ``RandomFeatureRidge`` whose ``predict`` evaluates the fitted model block by block;
      ``coef`` has shape (m, k), (m, 1) for a 1-D ``y``.

    Raises:
      ValueError: m, lam, block sizes, method or dtype out of range; x, y of wrong shapes.

    Example:
      >>> import numpy as np
      >>> rng = np.random.default_rng(0)
      >>> x, y = rng.standard_normal((64, 5)), rng.standard_normal((64, 2))
      >>> key = jax.random.key(0)
      >>> primal = fit_random_features(key, x, y, m=32, lam=1e-2, method="primal")
      >>> dual = fit_random_features(key, x, y, m=32, lam=1e-2, method="dual")
      >>> bool(np.allclose(primal.predict(x), dual.predict(x), atol=1e-4))  # the same ridge
      True
    """
    x, y, dt = _checked_fit_inputs(x, y, m, lam, method, block_size, row_block, dtype)
    n, d = x.shape
    m = int(m)
    if method == "auto":
        method = "primal" if m <= n else "dual"
    block = min(int(block_size), m)
    lam_n = jnp.asarray(lam, dt)
    if method == "primal":
        w = random_feature_weights(key, m, d, block_size=block, dtype=dt)
        coef = _fit_primal(x, y, w, lam_n, int(row_block))
    else:
        coef = _fit_dual(key, x, y, m, block, lam_n)
    return RandomFeatureRidge(
        key=key, m=m, d=d, coef=coef, lam=float(lam), method=method, block_size=block
    )


def fit_random_features_nested(
    key: jax.Array,
    x: np.ndarray | jax.Array,
    ys: list[np.ndarray | jax.Array],
    m: int,
    lam: float,
    *,
    block_size: int = 2048,
    dtype=jnp.float32,
) -> RandomFeatureRidge:
    """Dual fits on nested prefixes of ``x``, sharing one kernel: a fit per target in ``ys``.

    Target ``j`` of ``n_j`` rows is fitted on the first ``n_j`` rows of ``x`` exactly as
    ``fit_random_features(key, x[:n_j], ys[j], m, lam, method="dual")`` does:

      v_j = Z_j' (K_j / n_j + lam I)^{-1} Y_j / n_j,   Z_j = relu(X[:n_j] W'),

    but the features are computed once for all rows: K_j = Z_j Z_j' is the leading
    ``n_j x n_j`` block of K = Z Z' (Z of all N rows), and the coefficients of every fit come
    from one pass over the feature blocks, Z' [alpha_1; 0 | alpha_2; 0 | ...]. The cost is one
    N x N kernel instead of one per prefix; the results equal the separate fits up to float
    rounding.

    Args:
      key: PRNG key defining W (as ``fit_random_features``).
      x: (N, d) inputs; N the longest prefix.
      ys: targets, ``ys[j]`` of shape (n_j, k_j) with 1 <= n_j <= N.
      m: width, a positive integer.
      lam: ridge penalty, > 0.
      block_size: rows of W per block.
      dtype: float32 (default) or float64 (needs jax_enable_x64).

    Returns:
      One ``RandomFeatureRidge`` (method "dual") whose ``coef`` holds the fits' coefficients
      side by side, (m, sum_j k_j), in the order of ``ys``.

    Raises:
      ValueError: arguments as ``fit_random_features`` refuses them, no targets, or a target
        with more rows than ``x``.

    Example:
      >>> import numpy as np
      >>> rng = np.random.default_rng(0)
      >>> x, y = rng.standard_normal((40, 5)), rng.standard_normal((40, 2))
      >>> key = jax.random.key(0)
      >>> both = fit_random_features_nested(key, x, [y[:20], y], m=64, lam=1e-2)
      >>> alone = fit_random_features(key, x[:20], y[:20], m=64, lam=1e-2, method="dual")
      >>> both.coef.shape, bool(np.allclose(both.coef[:, :2], alone.coef, atol=1e-5))
      ((64, 4), True)
    """
    x, _, dt = _checked_fit_inputs(x, np.zeros((len(x), 1)), m, lam, "dual", block_size, 1, dtype)
    if not ys:
        raise ValueError("ys must hold at least one target, got none")
    n_all, d = x.shape
    targets = []
    for j, y in enumerate(ys):
        y = jnp.asarray(y, dt)
        y = y[:, None] if y.ndim == 1 else y
        if y.ndim != 2 or not 1 <= y.shape[0] <= n_all:
            raise ValueError(
                f"ys[{j}] must have shape (n, k) with 1 <= n <= {n_all}, got {y.shape}"
            )
        targets.append(y)
    m = int(m)
    block = min(int(block_size), m)
    nb = _n_blocks(m, block)
    lam_n = jnp.asarray(lam, dt)
    kmat = jnp.zeros((n_all, n_all), dt)
    for b in range(nb):
        w = _weight_block(key, b, block, d, dt)
        kmat = _dual_accumulate(kmat, x, w, _block_mask(b, block, m, dt))
    alphas = []
    for y in targets:
        n = y.shape[0]
        alpha = _chol_solve(kmat[:n, :n], y, 1.0 / n, lam_n)
        alphas.append(jnp.pad(alpha, ((0, n_all - n), (0, 0))))
    stacked = jnp.concatenate(alphas, axis=1)
    parts = []
    for b in range(nb):
        w = _weight_block(key, b, block, d, dt)
        parts.append(_dual_coef_sum(x, w, _block_mask(b, block, m, dt), stacked))
    coef = jnp.concatenate(parts)[:m]
    scale = np.concatenate([np.full(y.shape[1], y.shape[0], np.float64) for y in targets])
    coef = coef / jnp.asarray(scale, dt)
    return RandomFeatureRidge(
        key=key, m=m, d=d, coef=coef, lam=float(lam), method="dual", block_size=block
    )
