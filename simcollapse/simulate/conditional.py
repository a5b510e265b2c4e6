"""Variance-reduced Monte Carlo: only the design is sampled, labels and shift are integrated out.

The plain estimator draws X, the label noise eps and the shift delta, fits, and records the test
error. Given X, the error is a quadratic form in (eps, delta) with known covariances, so its
conditional expectation over them is a closed form; averaging that over draws of X alone has the
same mean (the law of total expectation) and a smaller variance (the law of total variance). The
gain is largest for power-law spectra, where one draw's synthetic term is dominated by the shift
along the few top eigendirections and is heavy-tailed.

With features F (n x k; F = X for ridge, F = X S' for random projections), the map T from
feature weights to input space (T = I or S'), F'F/n = V diag(e) V', r = 1/(e + lam) on the
range of F'F (0 on its null space: the min-norm fit at lam = 0), C = Sigma^{1/2} T V (d x k),
a = V'F'X w1/n, and J = V' F_s' X_s / n over the n2 synthetic rows (k x d)::

    bias     = || C (r * a) - Sigma^{1/2} w1 ||^2
    variance = (sigma^2 / n) sum_k r_k^2 e_k (C'C)_kk
    zeta     = sum_{k,j} r_k r_j (C'C)_kj (J Delta J')_kj,     Delta = diag(delta_sq)

and total = bias + variance + zeta exactly (the cross terms vanish in expectation). These are
the expectations, given X (and S), of the three parts the plain estimator records.

The kernel ``one_draw`` has the signature of ``engine.one_draw`` (distinct lam and n2 values,
indices per point, one repetition's key in, test errors (P, 4) out), so any Monte Carlo driver
that maps the engine's kernel over repetitions can map this one instead.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax import Array

from simcollapse.problem import Problem
from simcollapse.simulate.engine import (
    draw_data,
    features,
    inverse_eigs,
    kernel_form,
    point_indices,
    reverse_cumsum_rows,
    spectrum_and_teacher,
)

ROW_BLOCKS = 32  # row blocks of the tail sums of the shift term


def tail_products(feats: Array, x: Array, starts: Array) -> tuple[Array, Array]:
    """F'X (k, d) and the tail products F_s'X_s over the rows i >= starts[q], (Q, k, d).

    The rows are cut into ROW_BLOCKS blocks: one product per block (2 n k d flops in all, for
    ridge the Gram itself), cumulative sums from the last block (the first of them is F'X),
    then per q the whole blocks after its start plus its own block, masked (2 (n/ROW_BLOCKS) k d
    flops per distinct n2).
    """
    n, k = feats.shape
    size = -(-n // ROW_BLOCKS)
    pad = size * ROW_BLOCKS - n
    fb = jnp.pad(feats, ((0, pad), (0, 0))).reshape(ROW_BLOCKS, size, k)
    xb = jnp.pad(x, ((0, pad), (0, 0))).reshape(ROW_BLOCKS, size, x.shape[1])
    blocks = jnp.einsum("bik,bid->bkd", fb, xb)
    after = reverse_cumsum_rows(blocks)  # after[b] = sum of blocks b.. end, after[B] = 0

    def one(start: Array) -> Array:
        block = jnp.minimum(start // size, ROW_BLOCKS - 1)  # start = n: the last block, masked
        rows = block * size + jnp.arange(size)
        mask = (rows >= start).astype(x.dtype)[:, None]
        return after[block + 1] + jnp.einsum("ik,id->kd", fb[block] * mask, xb[block])

    return after[0], jax.vmap(one)(jnp.clip(starts, 0, n))


def shift_gram(tails: Array, basis: Array, delta_sq: Array, n: int) -> Array:
    """H_q = J_q Delta J_q', J_q = V' F_s'X_s / n (``tails`` from ``tail_products``): (Q, k, k)."""
    j = jnp.einsum("ck,qcd->qkd", basis, tails) / n
    return jnp.einsum("qkd,qjd->qkj", j * delta_sq, j)


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
    """Conditional test errors (P, 4) of one repetition: [bias, variance, zeta, total].

    Same arguments as ``engine.one_draw`` and the same design X (and projection S) for the same
    key; eps and delta are not used but integrated out (module doc). Point p is
    (lam[lam_index[p]], n2[n2_index[p]]). Costs per draw: the products F_b'X_b of row blocks
    (``tail_products``: for ridge they sum to the Gram, for random projections F'F = F'X T
    follows from them), the eigendecomposition, and per distinct n2 a masked block and two
    (k x k x d) products.
    """
    lam_index, n2_index = point_indices(lam, n2, lam_index, n2_index)
    x = draw_data(problem, key, n, dtype, prng)[0]
    s, w1 = spectrum_and_teacher(problem, dtype)
    feats, back = features(x, key, m, dtype)
    fx, tails = tail_products(feats, x, n - n2)  # F'X (k, d), (Q, k, d)
    gram = fx if back is None else fx @ back  # F'F = F'X T
    e, basis = jnp.linalg.eigh(gram / n)
    c = basis if back is None else back @ basis  # T V, (d, k)
    c = jnp.sqrt(s)[:, None] * c
    cc = c.T @ c
    inv = inverse_eigs(e, lam.astype(dtype), max(feats.shape))  # (L, k)
    a = basis.T @ (fx @ w1) / n
    resid = (inv * a) @ c.T - jnp.sqrt(s) * w1  # (L, d)
    bias = jnp.sum(resid * resid, axis=-1)
    variance = jnp.asarray(problem.sigma2, dtype) / n * ((inv * inv) @ (e * jnp.diag(cc)))
    h = shift_gram(tails, basis, jnp.asarray(problem.delta_sq, dtype), n)  # (Q, k, k)
    zeta = jnp.einsum("lk,qkj,lj->lq", inv, cc[None] * h, inv)  # (L, Q)
    parts = jnp.stack([bias[lam_index], variance[lam_index], zeta[lam_index, n2_index]], axis=-1)
    return jnp.concatenate([parts, jnp.sum(parts, axis=-1, keepdims=True)], axis=-1)


# ``one_draw`` with every traced input positional: the per-draw kernel form of a driver that
# calls ``kernel(problem, rep_key, *arrays, n=n, **static)``.
kernel = kernel_form(one_draw)
