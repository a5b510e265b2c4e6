"""Monte Carlo for the mixing strategies and the multi-generation loops.

Same draws as the ridge engine (``simulate.engine``): repetition r at sample size n uses the key
``draw_key(key, n, r)``, and its first round (or generation) uses exactly the X, eps and delta that
``engine.draw_data`` gives the plain ridge simulation. So weighted mixing at alpha = p2, round 1 of
iterative mixing and generation 1 of every loop reproduce ``simulate.ridge_error`` on the same
key draw for draw (common random numbers). Later rounds use ``fold_in(rep_key, t)``.

Each fitted model is linear in its label sources, so the simulation tracks three weight vectors
per model, w - w1 = (bias part) + (noise part) + (shift part), and reports the mean over
repetitions of each part's test error ||.||^2_Sigma beside that of the total (as the engine does).
Test errors are exact: ||w_hat - w1||^2_Sigma = sum_j s_j (w_hat - w1)_j^2, no test sample.

Everything is jit-compiled per static (n, rounds, reps, dtype, strategy); lam, the synthetic
row count and the weights are traced, so a sweep over them at one n compiles once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from simcollapse._validate import check_broadcast, check_common, check_count, check_range
from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms
from simcollapse.simulate import driver, engine
from simcollapse.theory.weighted import check_weights

__all__ = [
    "accumulate_error",
    "accumulate_subsample_error",
    "iterative_error",
    "replace_error",
    "weighted_error",
]


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
    return engine.test_errors(s, w1, parts[0] - w1, parts[1], parts[2])


def _round_key(rep_key: Array, t: Array) -> Array:
    """Round t >= 1: the repetition key itself for t = 1, fold_in(rep_key, t) after."""
    return jax.lax.cond(t == 1, lambda: rep_key, lambda: jax.random.fold_in(rep_key, t))


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
    """Weighted ridge at every point (lam, n2, a1, a2): (P, 1, 4); one factorisation per point."""
    x, eps, delta = engine.draw_data(problem, rep_key, n, dtype)
    s = jnp.asarray(problem.eigs, dtype)
    w1 = jnp.sqrt(jnp.asarray(problem.w1_sq, dtype))
    rows = jnp.arange(n)
    u = x @ delta
    yt = x @ w1

    def point(lam: Array, n2: Array, a1: Array, a2: Array) -> Array:
        syn = rows >= n - n2
        root = jnp.sqrt(jnp.where(syn, a2, a1))
        labels = root[:, None] * jnp.stack([yt, eps, jnp.where(syn, u, 0.0)], axis=1)
        parts = fit_columns(root[:, None] * x, labels[None], lam[None])[0]
        return _errors(s, w1, parts)[None]

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
    """
    x0, eps0, delta = engine.draw_data(problem, rep_key, n, dtype)
    s = jnp.asarray(problem.eigs, dtype)
    w1 = jnp.sqrt(jnp.asarray(problem.w1_sq, dtype))
    rows = jnp.arange(n)
    npts = lam.shape[0]
    start = jnp.broadcast_to(jnp.stack([w1, jnp.zeros_like(w1), delta]), (npts, 3, w1.shape[0]))

    def labels_for(x: Array, eps: Array, syn: Array, parts: Array) -> Array:
        prev = x @ parts.T  # (n, 3): x.b, x.v, x.z of the previous model
        real = jnp.stack([x @ w1, eps, jnp.zeros_like(eps)], axis=1)
        synth = prev + jnp.stack([jnp.zeros_like(eps), eps, jnp.zeros_like(eps)], axis=1)
        return jnp.where(syn[:, None], synth, real)

    def body(state: Array, t: Array) -> tuple[Array, Array]:
        x, eps, _ = engine.draw_data(problem, _round_key(rep_key, t), n, dtype)

        def point(lam: Array, n2: Array, parts: Array) -> Array:
            syn = rows >= n - n2
            if reuse:
                xt = jnp.where(syn[:, None], x, x0)
                et = jnp.where(syn, eps, eps0)
            else:
                xt, et = x, eps
            return fit_columns(xt, labels_for(xt, et, syn, parts)[None], lam[None])[0]

        if reuse:
            new = jax.vmap(point)(lam, n2, state)
        else:
            new = _shared_fit(x, eps, lam, n2, state, rows, n, labels_for)
        return new, jax.vmap(lambda p: _errors(s, w1, p))(new)

    _, errs = jax.lax.scan(body, start, jnp.arange(1, rounds + 1))
    return jnp.moveaxis(errs, 0, 1)


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
) -> Array:
    """Replace / accumulate / accumulate-subsample at every penalty: (P, generations, 4).

    Generation k draws n fresh rows labelled x.w_{k-1} + eps (w_0 = w1: generation 1's rows are
    real). replace fits on those n rows; accumulate on all k n rows so far (the loss averaged over
    them); subsample on ``sample`` rows drawn without replacement from those k n rows.
    """
    s = jnp.asarray(problem.eigs, dtype)
    w1 = jnp.sqrt(jnp.asarray(problem.w1_sq, dtype))
    d = w1.shape[0]
    npts = lam.shape[0]
    start = jnp.broadcast_to(jnp.stack([w1, jnp.zeros_like(w1)]), (npts, 2, d))
    pool_rows = n * generations if mode != "replace" else n
    pool_x = jnp.zeros((pool_rows, d), dtype)
    pool_y = jnp.zeros((npts, pool_rows, 2), dtype)  # labels depend on each point's models

    def body(carry: tuple[Array, Array, Array], k: Array) -> tuple[tuple[Array, ...], Array]:
        parts, pool_x, pool_y = carry
        key = _round_key(rep_key, k)
        x, eps, _ = engine.draw_data(problem, key, n, dtype)
        new_y = jax.vmap(lambda p: jnp.stack([x @ p[0], eps + x @ p[1]], axis=1))(parts)
        offset = 0 if mode == "replace" else (k - 1) * n
        pool_x = jax.lax.dynamic_update_slice(pool_x, x, (offset, 0))
        pool_y = jax.lax.dynamic_update_slice(pool_y, new_y, (0, offset, 0))
        valid = jnp.arange(pool_rows) < k * n if mode == "accumulate" else None
        if mode == "replace":
            fx, fy, norm = x, new_y, n
        elif mode == "accumulate":
            fx = jnp.where(valid[:, None], pool_x, 0.0)
            fy = jnp.where(valid[None, :, None], pool_y, 0.0)
            norm = (k * n).astype(dtype)
        else:
            u = jax.random.uniform(jax.random.fold_in(key, 7_919), (pool_rows,))
            u = jnp.where(jnp.arange(pool_rows) < k * n, u, 2.0)
            _, idx = jax.lax.top_k(-u, sample)
            fx, fy, norm = pool_x[idx], pool_y[:, idx], sample
        new = fit_columns(fx, fy, lam, norm)  # (P, 2, d): one factorisation for all points
        full = jnp.concatenate([new, jnp.zeros_like(new[:, :1])], axis=1)
        errs = jax.vmap(lambda p: _errors(s, w1, p))(full)
        return (new, pool_x, pool_y), errs

    _, errs = jax.lax.scan(body, (start, pool_x, pool_y), jnp.arange(1, generations + 1))
    return jnp.moveaxis(errs, 0, 1)


def _run(
    problem: Problem,
    n: Any,
    points: dict[str, Any],
    mc: driver.MonteCarlo,
    kernel: Callable[..., Array],
    static: dict[str, Any],
    prepare: Callable[[int, dict[str, np.ndarray]], tuple[np.ndarray, ...]],
    per_n: Callable[[int], dict[str, Any]] | None = None,
) -> ErrorTerms:
    """Run ``kernel`` through the Monte Carlo driver, grouped by n; floats cast to mc's dtype.

    ``per_n(n)`` gives static keywords that depend on the group's n."""
    check_range("n", n, 1, integer=True)
    check_broadcast(n=n, **points)
    dt = mc.np_dtype

    def prep(group: tuple[int, ...], f: dict[str, np.ndarray]) -> tuple[tuple, dict]:
        arrays = prepare(group[0], f)
        extra = per_n(group[0]) if per_n else {}
        return tuple(a.astype(dt) if a.dtype.kind == "f" else a for a in arrays), extra

    grid = {"n": n, **points}
    return driver.run(kernel, problem, grid, mc, prepare=prep, static={**static, "dtype": dt})


# --------------------------------------------------------------------------------------------
# Public functions: the theory's signatures plus key, reps, dtype, batch
# --------------------------------------------------------------------------------------------
def weighted_error(
    problem: Problem,
    n: Any,
    lam: Any,
    p2: Any,
    alpha: Any,
    key: Any,
    reps: int,
    *,
    dtype: str = "float64",
    batch: int | None = None,
) -> ErrorTerms:
    """Monte Carlo counterpart of ``theory.weighted.weighted_error`` (weighted ridge, Corollary 2).

    Per repetition: the engine's draw (X, eps, delta; the last n2 = round(p2 n) rows synthetic),
    row weights a1 = (1 - alpha)/p1 on the real rows and a2 = alpha/p2 on the synthetic rows, and
    w_hat = (X'AX/n + lam)^+ X'Ay/n solved exactly (ridge on sqrt(a_i) x_i, sqrt(a_i) y_i).
    alpha = p2 reproduces ``simulate.ridge_error`` draw for draw.

    Returns:
      ErrorTerms of shape broadcast(n, lam, p2, alpha), as the theory; ``stderr`` of ``total``.

    Raises:
      ValueError: as the theory, plus n not an integer, reps < 1, bad dtype.

    Example:
      >>> import numpy as np, simcollapse as sc
      >>> prob = sc.Problem.isotropic(20, c2=1.0, sigma2=0.5)
      >>> mc = weighted_error(prob, 100, 1e-2, 0.2, [0.1, 0.2], key=0, reps=32)
      >>> th = sc.theory.weighted_error(prob, 100, 1e-2, 0.2, [0.1, 0.2])
      >>> mc.total.shape, bool(np.all(np.abs(mc.total - th.total) < 4 * mc.stderr))
      ((2,), True)
    """
    check_common(problem, n=n, lam=lam, p2=p2)
    check_weights(p2, alpha)

    def prepare(n_g: int, f: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
        n2 = engine.synthetic_rows(n_g, f["p2"])
        n1 = n_g - n2
        # the weights of the rows actually drawn: a_k = (loss share)/(row share)
        a1 = np.where(n1 > 0, (1.0 - f["alpha"]) * n_g / np.maximum(n1, 1), 0.0)
        a2 = np.where(n2 > 0, f["alpha"] * n_g / np.maximum(n2, 1), 0.0)
        return f["lam"], n2, a1, a2

    mc = driver.MonteCarlo(key, reps, dtype, batch)
    out = _run(problem, n, {"lam": lam, "p2": p2, "alpha": alpha}, mc, weighted_draw, {}, prepare)
    return ErrorTerms(*(v[..., 0] for v in out))


def iterative_error(
    problem: Problem,
    n: Any,
    lam: Any,
    p2: Any,
    rounds: int,
    key: Any,
    reps: int,
    *,
    reuse_real: bool = False,
    dtype: str = "float64",
    batch: int | None = None,
) -> ErrorTerms:
    """Monte Carlo of iterative mixing: counterpart of ``theory.iterative.iterative_error``.

    Round t = 1..T: ridge on n - n2 real rows (x.w1 + eps) and n2 = round(p2 n) synthetic rows
    labelled by the previous round's model (x.w_{t-1} + eps), w_0 = w1 + delta. Fresh rows
    (``reuse_real=False``, the setting of the theory): new X and eps for all rows every round.
    Reused real rows (``reuse_real=True``, simulation only: no closed form): the real rows and
    their noise are drawn once and kept; the synthetic rows are fresh every round.

    Round 1 is the engine's plain mixture draw for draw.

    Returns:
      ErrorTerms of shape broadcast(n, lam, p2) + (rounds,), the last axis the round t = 1..T.

    Raises:
      ValueError: as the theory, plus n not an integer, reps < 1, bad dtype.

    Example:
      >>> import numpy as np, simcollapse as sc
      >>> prob = sc.Problem.isotropic(20, c2=1.0, sigma2=0.5)
      >>> mc = iterative_error(prob, 100, 1e-2, 0.5, rounds=3, key=0, reps=32)
      >>> th = sc.theory.iterative_error(prob, 100, 1e-2, 0.5, rounds=3)
      >>> mc.total.shape, bool(np.all(np.abs(mc.total - th.total) < 4 * mc.stderr))
      ((3,), True)
    """
    check_common(problem, n=n, lam=lam, p2=p2)
    rounds = check_count("rounds", rounds)

    def prepare(n_g: int, f: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
        return f["lam"], engine.synthetic_rows(n_g, f["p2"])

    mc = driver.MonteCarlo(key, reps, dtype, batch)
    static = {"rounds": rounds, "reuse": bool(reuse_real)}
    return _run(problem, n, {"lam": lam, "p2": p2}, mc, iterative_draw, static, prepare)


def _loop(
    problem: Problem,
    n: Any,
    lam: Any,
    generations: int,
    key: Any,
    reps: int,
    dtype: str,
    batch: int | None,
    mode: str,
    sample: int | None,
) -> ErrorTerms:
    check_common(problem, n=n, lam=lam)
    generations = check_count("generations", generations)
    if sample is not None:
        check_range("sample_size", sample, 1, integer=True)

    def prepare(n_g: int, f: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
        return (f["lam"],)

    mc = driver.MonteCarlo(key, reps, dtype, batch)
    static = {"generations": generations, "mode": mode}
    per_n = None
    if mode == "subsample" and sample is None:  # n rows per fit: static per group of n
        per_n = lambda n_g: {"sample": n_g}  # noqa: E731
    else:
        static["sample"] = sample or 0
    return _run(problem, n, {"lam": lam}, mc, loop_draw, static, prepare, per_n)


def replace_error(
    problem: Problem,
    n: Any,
    lam: Any,
    generations: int,
    key: Any,
    reps: int,
    *,
    dtype: str = "float64",
    batch: int | None = None,
) -> ErrorTerms:
    """Monte Carlo of the replace loop: counterpart of ``theory.generations.replace_error``.

    Generation k: ridge on n fresh rows labelled x.w_{k-1} + eps, w_0 = w1 (generation 1 is the
    engine's clean draw, p2 = 0). ``problem.delta_sq`` is not used.

    Returns:
      ErrorTerms of shape broadcast(n, lam) + (generations,); zeta is 0.

    Example:
      >>> import numpy as np, simcollapse as sc
      >>> prob = sc.Problem.isotropic(20, sigma2=1.0)
      >>> mc = replace_error(prob, 200, 0.0, generations=3, key=0, reps=32)
      >>> th = sc.theory.replace_error(prob, 200, 0.0, 3)  # k d/(n - d - 1) sigma^2
      >>> mc.total.shape, bool(np.all(np.abs(mc.total - th.total) < 4 * mc.stderr))
      ((3,), True)
    """
    return _loop(problem, n, lam, generations, key, reps, dtype, batch, "replace", None)


def accumulate_error(
    problem: Problem,
    n: Any,
    lam: Any,
    generations: int,
    key: Any,
    reps: int,
    *,
    dtype: str = "float64",
    batch: int | None = None,
) -> ErrorTerms:
    """Monte Carlo of the accumulate loop (simulation only at finite n).

    Generation k: ridge on all k n rows so far, the loss averaged over them,
    (1/(k n)) ||X w - y||^2 + lam ||w||^2; the first n rows are real (x.w1 + eps), the n rows
    added at generation j >= 2 are labelled x.w_{j-1} + eps and keep those labels. Compare with
    ``theory.generations.accumulate_reference`` (an n >> d asymptote).

    Returns:
      ErrorTerms of shape broadcast(n, lam) + (generations,); zeta is 0.

    Example:
      >>> import numpy as np, simcollapse as sc
      >>> prob = sc.Problem.isotropic(20, sigma2=1.0)
      >>> mc = accumulate_error(prob, 400, 0.0, generations=3, key=0, reps=32)
      >>> ref = sc.theory.accumulate_reference(prob, 400, 3)  # (d/n) sum_{j<=k} 1/j^2
      >>> mc.total.shape, bool(np.all(np.abs(mc.total - ref) < 0.2 * ref))
      ((3,), True)
    """
    return _loop(problem, n, lam, generations, key, reps, dtype, batch, "accumulate", None)


def accumulate_subsample_error(
    problem: Problem,
    n: Any,
    lam: Any,
    generations: int,
    key: Any,
    reps: int,
    *,
    sample_size: int | None = None,
    dtype: str = "float64",
    batch: int | None = None,
) -> ErrorTerms:
    """Monte Carlo of the accumulate-subsample loop (simulation only).

    As ``accumulate_error``, but generation k is fitted on ``sample_size`` rows (default n) drawn
    uniformly without replacement from the k n rows so far: the training-set size stays fixed
    while the pool grows.

    Returns:
      ErrorTerms of shape broadcast(n, lam) + (generations,); zeta is 0.

    Raises:
      ValueError: sample_size < 1 or above n (generation 1's pool), and as
        ``accumulate_error``. Without ``sample_size`` each n uses n rows.

    Example:
      >>> import simcollapse as sc
      >>> prob = sc.Problem.isotropic(20, sigma2=1.0)
      >>> err = accumulate_subsample_error(prob, 200, 1e-3, generations=3, key=0, reps=16)
      >>> err.total.shape, bool(err.total[-1] > err.total[0])  # a fixed sample: errors pile up
      ((3,), True)
    """
    if sample_size is not None:
        check_range("sample_size", sample_size, 1, integer=True)
        if np.any(np.asarray(n) < sample_size):
            raise ValueError(
                f"sample_size must be at most n (the first generation's pool), "
                f"got sample_size={sample_size}, n={n}"
            )
    return _loop(problem, n, lam, generations, key, reps, dtype, batch, "subsample", sample_size)
