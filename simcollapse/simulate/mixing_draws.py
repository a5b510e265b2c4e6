"""The per-draw kernels of the mixing and multi-generation Monte Carlo (jittable, vmapped by the
driver): one ridge fit for several label columns, weighted mixing, iterative mixing,
golden-ratio weighting and the replace / accumulate / accumulate-subsample loops.

Each kernel tracks three weight vectors per model, w - w1 = (bias part) + (noise part) + (shift
part), and returns each part's exact test error ||.||^2_Sigma and that of the total. The public
entry points, with validation and the draw schedule, are in ``simcollapse.simulate.mixing``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax import Array

from simcollapse.problem import Problem
from simcollapse.simulate import engine

__all__ = ["fit_columns", "golden_draw", "iterative_draw", "loop_draw", "weighted_draw"]


# --------------------------------------------------------------------------------------------
# One ridge fit, several label columns
# --------------------------------------------------------------------------------------------
def fit_columns(feats: Array, labels: Array, lam: Array, norm: Any = None) -> Array:
    """Ridge weights (X'X/N + lam_p)^+ X'y/N for every point p and label column k.

    One factorisation of ``feats`` (``engine.factorise``: primal n >= d, dual n < d) serves all
    points and columns; directions outside the row space get 0 (the min-norm solution, exact at
    lam = 0). ``norm`` is N (default: the number of rows); rows of zeros are allowed (they drop
    out of the fit).

    Args:
      feats: (n, d).  labels: (P, n, K).  lam: (P,).  norm: N, a number or a traced scalar.

    Returns:
      (P, K, d) weights.

    Example:
      >>> import jax.numpy as jnp
      >>> x = jnp.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
      >>> y = x @ jnp.array([1.0, -2.0])  # noiseless labels of w = (1, -2)
      >>> w = fit_columns(x, jnp.stack([y, 2 * y], axis=-1)[None], jnp.array([0.0]))
      >>> w.shape, w.round(4).tolist()  # lam = 0 recovers w for each column
      ((1, 2, 2), [[[1.0, -2.0], [2.0, -4.0]]])
    """
    n, d = feats.shape
    norm = n if norm is None else norm
    e, basis, primal = engine.factorise(feats)
    e = e * (n / norm)  # eigenvalues of the Gram divided by N instead of n
    inv = engine.inverse_eigs(e, lam, max(n, d))  # (P, r)
    if primal:
        coef = jnp.einsum("dr,pdk->prk", basis, jnp.einsum("nd,pnk->pdk", feats, labels)) / norm
        span = basis
    else:
        coef = jnp.einsum("nr,pnk->prk", basis, labels)
        span = feats.T @ basis / norm  # (d, n)
    return jnp.einsum("dr,prk->pkd", span, inv[:, :, None] * coef)


def _errors(s: Array, w1: Array, parts: Array) -> Array:
    """(3, d) weight parts [bias, noise, shift] -> (4,) [bias, variance, zeta, total] errors."""
    return engine.real_test_errors(s, w1, parts[0] - w1, parts[1], parts[2])


def _round_key(rep_key: Array, t: Array) -> Array:
    """Round t >= 1: the repetition key itself for t = 1, fold_in(rep_key, t) after."""
    return jax.lax.cond(t == 1, lambda: rep_key, lambda: jax.random.fold_in(rep_key, t))


def _weighted_fit(x: Array, labels: Array, syn: Array, a1: Array, a2: Array, lam: Array) -> Array:
    """Weighted ridge of one point, (K, d): loss weight a1 on the real rows, a2 on the synthetic
    rows (``syn``), solved exactly as ridge on sqrt(a_i) x_i, sqrt(a_i) y_i (``fit_columns``)."""
    root = jnp.sqrt(jnp.where(syn, a2, a1))[:, None]
    return fit_columns(root * x, (root * labels)[None], lam[None])[0]


def _fed_back_labels(x: Array, eps: Array, syn: Array, parts: Array, w1: Array) -> Array:
    """Label parts (n, 3) [bias, noise, shift] of a round fed by the previous model ``parts``.

    Real rows: [x.w1, eps, 0]; synthetic rows (``syn``): the previous model's parts
    [x.b, x.v + eps, x.z], its weights w_{t-1} = b + v + z split as the state is.
    """
    zero = jnp.zeros_like(eps)
    real = jnp.stack([x @ w1, eps, zero], axis=1)
    synth = x @ parts.T + jnp.stack([zero, eps, zero], axis=1)
    return jnp.where(syn[:, None], synth, real)


def _model_rounds(
    problem: Problem,
    rep_key: Array,
    n: int,
    dtype: Any,
    points: int,
    rounds: int,
    fit_round: Callable[[Array, Array, Array], Array],
) -> Array:
    """Rounds t = 1..T, each fitted on n fresh rows labelled partly by the previous round's model.

    The state is every point's model split into its parts [bias, noise, shift], (P, 3, d),
    starting at w_0 = w1 + delta as [w1, 0, delta] (delta from the engine's draw at ``rep_key``).
    Round t draws X and eps at ``_round_key(rep_key, t)`` (round 1: the engine's draw) and
    ``fit_round(x, eps, state)`` returns the new state.

    Returns:
      (P, rounds, 4) test errors [bias, variance, zeta, total] of every point and round.
    """
    _, _, delta = engine.draw_data(problem, rep_key, n, dtype)
    s, w1 = engine.spectrum_and_teacher(problem, dtype)
    start = jnp.broadcast_to(jnp.stack([w1, jnp.zeros_like(w1), delta]), (points, 3, w1.shape[0]))

    def body(state: Array, t: Array) -> tuple[Array, Array]:
        x, eps, _ = engine.draw_data(problem, _round_key(rep_key, t), n, dtype)
        new = fit_round(x, eps, state)
        return new, jax.vmap(lambda p: _errors(s, w1, p))(new)

    _, errs = jax.lax.scan(body, start, jnp.arange(1, rounds + 1))
    return jnp.moveaxis(errs, 0, 1)


# --------------------------------------------------------------------------------------------
# Per-draw kernels (one repetition, all points of one sample size)
# --------------------------------------------------------------------------------------------
def weighted_draw(
    problem: Problem,
    rep_key: Array,
    lam: Array,
    n2: Array,
    a1: Array,
    a2: Array,
    *,
    n: int,
    dtype: Any,
) -> Array:
    """Weighted ridge at every point (lam, n2, a1, a2): (P, 1, 4); one factorisation per point.

    Rows [0, n - n2) are real (x.w1 + eps) with loss weight a1, rows [n - n2, n) synthetic
    (x.(w1 + delta) + eps) with weight a2; the weighted ridge fit is ridge on sqrt(a_i) x_i,
    sqrt(a_i) y_i (the estimator of Section 5, Corollary 2).

    Returns:
      (P, 1, 4): row p is point p, the last axis [bias, variance, zeta, total] of the exact test
      error ||w_hat - w1||^2_Sigma of this draw.

    Example:
      >>> import jax, jax.numpy as jnp, simcollapse as sc
      >>> prob = sc.Problem.isotropic(4, c2=1.0, sigma2=0.5)
      >>> kernel = jax.jit(weighted_draw, static_argnames=("n", "dtype"))  # as the driver runs it
      >>> out = kernel(prob, jax.random.key(0), jnp.array([0.1, 1.0]), jnp.array([0, 4]),
      ...              jnp.array([1.0, 0.5]), jnp.array([1.0, 1.5]), n=8, dtype="float32")
      >>> out.shape, bool(jnp.isfinite(out).all())
      ((2, 1, 4), True)
    """
    x, eps, delta = engine.draw_data(problem, rep_key, n, dtype)
    s, w1 = engine.spectrum_and_teacher(problem, dtype)
    rows = jnp.arange(n)
    u = x @ delta
    yt = x @ w1

    def point(lam: Array, n2: Array, a1: Array, a2: Array) -> Array:
        syn = rows >= n - n2
        labels = jnp.stack([yt, eps, jnp.where(syn, u, 0.0)], axis=1)
        return _errors(s, w1, _weighted_fit(x, labels, syn, a1, a2, lam))[None]

    return jax.vmap(point)(lam, n2, a1, a2)


def iterative_draw(
    problem: Problem,
    rep_key: Array,
    lam: Array,
    n2: Array,
    *,
    n: int,
    rounds: int,
    reuse: bool,
    dtype: Any,
) -> Array:
    """Iterative mixing at every point (lam, n2): (P, rounds, 4).

    Round t: rows [0, n - n2) real (x.w1 + eps), rows [n - n2, n) synthetic (x.w_{t-1} + eps),
    w_0 = w1 + delta. Fresh rows: a new X and eps every round, one factorisation per round shared
    by all points. Reused real rows: the real rows of round 1 are kept (X and eps), only the
    synthetic rows are new; the factorisation then depends on n2, one per point and round.

    Returns:
      (P, rounds, 4): entry [p, t - 1] is point p after round t, the last axis [bias,
      variance, zeta, total] of the exact test error ||w_t - w1||^2_Sigma.

    Example:
      >>> import jax, jax.numpy as jnp, simcollapse as sc
      >>> prob = sc.Problem.isotropic(4, c2=1.0, sigma2=0.5)
      >>> kernel = jax.jit(iterative_draw, static_argnames=("n", "rounds", "reuse", "dtype"))
      >>> out = kernel(prob, jax.random.key(0), jnp.array([0.1, 1.0]), jnp.array([0, 4]),
      ...              n=8, rounds=3, reuse=False, dtype="float32")
      >>> out.shape, bool(jnp.isfinite(out).all())
      ((2, 3, 4), True)
    """
    w1 = engine.spectrum_and_teacher(problem, dtype)[1]
    rows = jnp.arange(n)
    if reuse:
        x0, eps0, _ = engine.draw_data(problem, rep_key, n, dtype)

    def labels_for(x: Array, eps: Array, syn: Array, parts: Array) -> Array:
        return _fed_back_labels(x, eps, syn, parts, w1)

    def fit_round(x: Array, eps: Array, state: Array) -> Array:
        def point(lam: Array, n2: Array, parts: Array) -> Array:
            syn = rows >= n - n2
            if reuse:
                xt = jnp.where(syn[:, None], x, x0)
                et = jnp.where(syn, eps, eps0)
            else:
                xt, et = x, eps
            return fit_columns(xt, labels_for(xt, et, syn, parts)[None], lam[None])[0]

        if reuse:
            return jax.vmap(point)(lam, n2, state)
        return _shared_fit(x, eps, lam, n2, state, rows, n, labels_for)

    return _model_rounds(problem, rep_key, n, dtype, lam.shape[0], rounds, fit_round)


def _shared_fit(
    x: Array,
    eps: Array,
    lam: Array,
    n2: Array,
    state: Array,
    rows: Array,
    n: int,
    labels_for: Callable[[Array, Array, Array, Array], Array],
) -> Array:
    """Fresh rows: one factorisation of X serves every point's labels and penalty."""
    labels = jax.vmap(lambda n2, p: labels_for(x, eps, rows >= n - n2, p))(n2, state)
    return fit_columns(x, labels, lam)


def golden_draw(
    problem: Problem,
    rep_key: Array,
    lam: Array,
    n2: Array,
    a1: Array,
    a2: Array,
    *,
    n: int,
    generations: int,
    dtype: Any,
) -> Array:
    """Golden-ratio weighting at every point (lam, n2, a1, a2): (P, generations, 4).

    Generation t: n fresh rows, [0, n - n2) real (x.w1 + eps) with row weight a1 and
    [n - n2, n) synthetic (x.w_{t-1} + eps) with row weight a2, w_0 = w1 + delta; weighted
    ridge solved exactly as ridge on sqrt(a_i) x_i, sqrt(a_i) y_i. The weights differ from point
    to point, so each point and generation has its own factorisation (the rows are shared).
    Generation 1 is ``weighted_draw`` at the same (lam, n2, a1, a2) draw for draw.

    Returns:
      (P, generations, 4): entry [p, t - 1] is point p at generation t, the last axis [bias,
      variance, zeta, total] of the exact test error ||w_t - w1||^2_Sigma.

    Example:
      >>> import jax, jax.numpy as jnp, simcollapse as sc
      >>> prob = sc.Problem.isotropic(4, c2=1.0, sigma2=0.5)
      >>> kernel = jax.jit(golden_draw, static_argnames=("n", "generations", "dtype"))
      >>> out = kernel(prob, jax.random.key(0), jnp.array([0.1, 1.0]), jnp.array([0, 4]),
      ...              jnp.array([1.0, 0.5]), jnp.array([1.0, 1.5]), n=8, generations=3,
      ...              dtype="float32")
      >>> out.shape, bool(jnp.isfinite(out).all())
      ((2, 3, 4), True)
    """
    w1 = engine.spectrum_and_teacher(problem, dtype)[1]
    rows = jnp.arange(n)

    def fit_round(x: Array, eps: Array, state: Array) -> Array:
        def point(lam: Array, n2: Array, a1: Array, a2: Array, parts: Array) -> Array:
            syn = rows >= n - n2
            labels = _fed_back_labels(x, eps, syn, parts, w1)
            return _weighted_fit(x, labels, syn, a1, a2, lam)

        return jax.vmap(point)(lam, n2, a1, a2, state)

    return _model_rounds(problem, rep_key, n, dtype, lam.shape[0], generations, fit_round)


def loop_draw(
    problem: Problem,
    rep_key: Array,
    lam: Array,
    *,
    n: int,
    generations: int,
    mode: str,
    sample: int,
    dtype: Any,
    design: str = "fresh",
    n_synthetic: int | None = None,
) -> Array:
    """Replace / accumulate / accumulate-subsample at every penalty: (P, generations, 4).

    Generation 1 fits the engine's draw (n real rows x.w1 + eps). Generation k >= 2 adds rows
    labelled x.w_{k-1} + eps with fresh noise: in the fresh design ``n_synthetic`` (default n)
    new inputs, in the fixed design the same n inputs X of generation 1 again. replace fits on
    generation k's rows only; accumulate on all rows so far (the loss averaged over them);
    subsample on ``sample`` rows drawn without replacement from all rows so far. Generation 1 is
    the same in both designs, draw for draw.

    Returns:
      (P, generations, 4): entry [p, k - 1] is penalty p at generation k, the last axis [bias,
      variance, zeta, total] of the exact test error ||w_k - w1||^2_Sigma (zeta 0: the loop
      starts from w1).

    Example:
      >>> import jax, jax.numpy as jnp, simcollapse as sc
      >>> prob = sc.Problem.isotropic(4, c2=1.0, sigma2=0.5)
      >>> static = ("n", "generations", "mode", "sample", "dtype")
      >>> kernel = jax.jit(loop_draw, static_argnames=static)  # as the driver runs it
      >>> out = kernel(prob, jax.random.key(0), jnp.array([0.1, 1.0]), n=8, generations=3,
      ...              mode="accumulate", sample=8, dtype="float32")
      >>> out.shape, bool(jnp.isfinite(out).all()), float(out[..., 2].max())
      ((2, 3, 4), True, 0.0)
    """
    s, w1 = engine.spectrum_and_teacher(problem, dtype)
    d = w1.shape[0]
    npts = lam.shape[0]
    fixed = design == "fixed"
    n_syn = n if fixed or n_synthetic is None else n_synthetic
    start = jnp.broadcast_to(jnp.stack([w1, jnp.zeros_like(w1)]), (npts, 2, d))
    pool_rows = n + (generations - 1) * n_syn if mode != "replace" else n
    x0, eps0, _ = engine.draw_data(problem, rep_key, n, dtype)

    def step(carry: tuple[Array, ...], key: Array, x: Array, eps: Array, offset: Any,
             count: Any) -> tuple[tuple[Array, ...], Array]:  # fmt: skip
        parts, pool_x, pool_y = carry
        new_y = jax.vmap(lambda p: jnp.stack([x @ p[0], eps + x @ p[1]], axis=1))(parts)
        if mode == "replace":
            fx, fy, norm = x, new_y, n
        else:
            pool_x = jax.lax.dynamic_update_slice(pool_x, x, (offset, 0))
            pool_y = jax.lax.dynamic_update_slice(pool_y, new_y, (0, offset, 0))
            valid = jnp.arange(pool_rows) < count
        if mode == "accumulate":
            fx = jnp.where(valid[:, None], pool_x, 0.0)
            fy = jnp.where(valid[None, :, None], pool_y, 0.0)
            norm = jnp.asarray(count, dtype)
        elif mode == "subsample":
            u = jax.random.uniform(jax.random.fold_in(key, 7_919), (pool_rows,))
            u = jnp.where(valid, u, 2.0)
            _, idx = jax.lax.top_k(-u, sample)
            fx, fy, norm = pool_x[idx], pool_y[:, idx], sample
        new = fit_columns(fx, fy, lam, norm)  # (P, 2, d): one factorisation for all points
        full = jnp.concatenate([new, jnp.zeros_like(new[:, :1])], axis=1)
        errs = jax.vmap(lambda p: _errors(s, w1, p))(full)
        return (new, pool_x, pool_y), errs

    pool_x = jnp.zeros((pool_rows, d), dtype)
    pool_y = jnp.zeros((npts, pool_rows, 2), dtype)  # labels depend on each point's models
    carry, first = step((start, pool_x, pool_y), rep_key, x0, eps0, 0, n)

    def body(carry: tuple[Array, ...], k: Array) -> tuple[tuple[Array, ...], Array]:
        key = jax.random.fold_in(rep_key, k)
        x, eps, _ = engine.draw_data(problem, key, n_syn, dtype)
        offset = n + (k - 2) * n_syn
        return step(carry, key, x0 if fixed else x, eps, offset, offset + n_syn)

    _, errs = jax.lax.scan(body, carry, jnp.arange(2, generations + 1))
    return jnp.concatenate([first[:, None], jnp.moveaxis(errs, 0, 1)], axis=1)
