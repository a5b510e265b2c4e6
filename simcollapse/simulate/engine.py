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
   the shift part for every n2 at once come from one reverse cumulative sum over rows;
4. for each point, map the fitted weights to input space and take the test error on real data,
   ||w_hat - w1||^2_Sigma = sum_j s_j (w_hat - w1)_j^2 (exact: no test sample is drawn), and its
   parts bias = ||w_hat(X w1) - w1||^2_Sigma, variance = ||w_hat(eps)||^2_Sigma and
   zeta = ||w_hat(u)||^2_Sigma.

Everything is jit-compiled per static (n, width, points, reps, dtype) and the draws are mapped with
``lax.map`` in vmapped batches. Keys: the draw of X, eps and delta depends only on (key, n, rep), so
ridge and random projections of every width see the same data (common random numbers); S depends on
(key, n, rep, m).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from simcollapse.problem import Problem

# Rows of the per-draw output: bias, variance, zeta, total.
N_PARTS = 4


def synthetic_rows(n: Any, p2: Any) -> np.ndarray:
    """n2 = round(p2 n), halves rounded up: the number of synthetic rows (the last n2 rows)."""
    return np.floor(np.asarray(p2, np.float64) * np.asarray(n, np.float64) + 0.5).astype(np.int64)


def draw_key(key: Array, n: int, rep: Array) -> Array:
    """The key of repetition ``rep`` at sample size ``n`` (independent of the width)."""
    return jax.random.fold_in(jax.random.fold_in(key, n), rep)


def draw_data(problem: Problem, key: Array, n: int, dtype: Any) -> tuple[Array, Array, Array]:
    """X (n x d), rows ~ N(0, diag(eigs)); eps ~ N(0, sigma^2 I_n); delta ~ N(0, diag(delta_sq))."""
    kx, ke, kd = jax.random.split(key, 3)
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


def factorise(feats: Array) -> tuple[Array, Array, bool]:
    """Eigendecomposition of the smaller Gram matrix of ``feats`` (n x k), divided by n.

    Returns (e, basis, primal): primal (n >= k): F'F/n = V diag(e) V', basis V (k x k);
    dual (n < k): FF'/n = U diag(e) U', basis U (n x n).
    """
    n, k = feats.shape
    primal = n >= k
    gram = feats.T @ feats if primal else feats @ feats.T
    e, basis = jnp.linalg.eigh(gram / n)
    return e, basis, primal


def inverse_eigs(e: Array, lam: Array, size: int) -> Array:
    """1/(e + lam) on the numerical range of the Gram, 0 on its null space (min-norm), (P, r)."""
    tol = jnp.max(e) * size * jnp.finfo(e.dtype).eps
    keep = e > tol
    return jnp.where(keep, 1.0 / (jnp.where(keep, e, 1.0) + lam[:, None]), 0.0)


def test_errors(s: Array, w1: Array, ab: Array, av: Array, az: Array) -> Array:
    """Test error on real data and its parts for input-space errors (P, d) -> (P, 4)."""

    def sq(a: Array) -> Array:
        return jnp.sum(s * a * a, axis=-1)

    return jnp.stack([sq(ab), sq(av), sq(az), sq(ab + av + az)], axis=-1)


def one_draw(
    problem: Problem,
    key: Array,
    lam: Array,
    n2: Array,
    *,
    n: int,
    m: int | None,
    dtype: Any,
) -> Array:
    """Test errors (P, 4) of one repetition at every (lam[i], n2[i]) point (see module doc)."""
    x, eps, delta = draw_data(problem, key, n, dtype)
    s = jnp.asarray(problem.eigs, dtype)
    w1 = jnp.sqrt(jnp.asarray(problem.w1_sq, dtype))
    d = x.shape[1]
    proj = None if m is None else draw_projection(key, m, d, dtype)
    feats = x if proj is None else x @ proj.T
    e, basis, primal = factorise(feats)
    u = x @ delta  # synthetic label offset of every row
    y_teacher = x @ w1
    rows = n - n2  # first synthetic row
    if primal:
        fb = feats @ basis  # (n, k): features in the eigenbasis
        cb = fb.T @ y_teacher / n
        cv = fb.T @ eps / n
        cz = reverse_cumsum_rows(fb * u[:, None])[rows] / n  # (P, k)
        span = basis  # weights v = basis @ q
    else:
        cb = basis.T @ y_teacher
        cv = basis.T @ eps
        cz = reverse_cumsum_rows(basis * u[:, None])[rows]  # (P, n)
        span = feats.T @ basis / n  # (k, n)
    if proj is not None:
        span = proj.T @ span  # to input space: w = S' v
    inv = inverse_eigs(e, lam.astype(dtype), max(feats.shape))
    qb, qv, qz = cb * inv, cv * inv, cz * inv
    ab = qb @ span.T - w1
    av = qv @ span.T
    az = qz @ span.T
    return test_errors(s, w1, ab, av, az)


@partial(jax.jit, static_argnames=("n", "m", "reps", "dtype", "batch"))
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
) -> Array:
    """Test errors of ``reps`` independent repetitions, shape (reps, P, 4)."""
    keys = jax.vmap(lambda r: draw_key(key, n, r))(jnp.arange(reps))
    fn = partial(one_draw, problem, lam=lam, n2=n2, n=n, m=m, dtype=dtype)
    return jax.lax.map(fn, keys, batch_size=batch)


def summarise(per_draw: np.ndarray) -> dict[str, np.ndarray]:
    """Mean of each part over repetitions and the standard error of the total."""
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
