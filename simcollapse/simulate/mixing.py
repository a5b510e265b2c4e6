"""Monte Carlo for the mixing strategies and the multi-generation loops.

Same draws as the ridge engine (``simulate.engine``): repetition r at sample size n uses the key
``draw_key(key, n, r)``, and its first round (or generation) uses exactly the X, eps and delta that
``engine.draw_data`` gives the plain ridge simulation. So weighted mixing at alpha = p2, round 1 of
iterative mixing and generation 1 of every loop reproduce ``simulate.ridge_error(...,
estimator="plain")`` on the same key draw for draw (common random numbers). Later rounds use
``fold_in(rep_key, t)``.

Each fitted model is linear in its label sources, so the simulation tracks three weight vectors
per model, w - w1 = (bias part) + (noise part) + (shift part), and reports the mean over
repetitions of each part's test error ||.||^2_Sigma beside that of the total (as the engine does).
Test errors are exact: ||w_hat - w1||^2_Sigma = sum_j s_j (w_hat - w1)_j^2, no test sample.

Everything is jit-compiled per static (n, rounds, reps, dtype, strategy); lam, the synthetic
row count and the weights are traced, so a sweep over them at one n compiles once. The per-draw
kernels live in ``simcollapse.simulate.mixing_draws`` (re-exported here).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from jax import Array

from simcollapse._validate import check_broadcast, check_common, check_count, check_range
from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms
from simcollapse.simulate import driver, engine
from simcollapse.simulate.grid import flag_threshold
from simcollapse.simulate.mixing_draws import (
    fit_columns,
    golden_draw,
    iterative_draw,
    loop_draw,
    weighted_draw,
)
from simcollapse.theory.generations import check_design
from simcollapse.theory.golden import check_golden
from simcollapse.theory.weighted import check_weights

__all__ = [
    "accumulate_error",
    "accumulate_subsample_error",
    "fit_columns",
    "golden_draw",
    "golden_error",
    "iterative_draw",
    "iterative_error",
    "loop_draw",
    "replace_error",
    "weighted_draw",
    "weighted_error",
]


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

    def prep(shape: Mapping[str, int], f: Mapping[str, np.ndarray], dtype: Any) -> tuple:
        arrays = prepare(shape["n"], dict(f))
        extra = per_n(shape["n"]) if per_n else {}
        return tuple(a.astype(dtype) if a.dtype.kind == "f" else a for a in arrays), extra

    grid = {"n": n, **points}
    return driver.run(kernel, problem, grid, mc, prepare=prep, static={**static, "dtype": dt})


def _row_weights(
    n: int, n2: np.ndarray, real_share: np.ndarray, synthetic_share: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Row weights (a1, a2) of the n - n2 real and n2 synthetic rows actually drawn.

    a_k = (loss share)/(row share) = share_k n / n_k, so that the weighted loss
    (1/n) sum_i a_i (y_i - x_i.w)^2 gives each group its loss share; 0 for an empty group.
    """
    n1 = n - n2
    a1 = np.where(n1 > 0, real_share * n / np.maximum(n1, 1), 0.0)
    a2 = np.where(n2 > 0, synthetic_share * n / np.maximum(n2, 1), 0.0)
    return a1, a2


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
    alpha = p2 reproduces ``simulate.ridge_error(..., estimator="plain")`` draw for draw.

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
        return f["lam"], n2, *_row_weights(n_g, n2, 1.0 - f["alpha"], f["alpha"])

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
    out = _run(problem, n, {"lam": lam, "p2": p2}, mc, iterative_draw, static, prepare)
    # every round at n = d, lam = 0 diverges
    return flag_threshold(out, problem.d, n, lam, trailing=1)


def golden_error(
    problem: Problem,
    n: Any,
    lam: Any,
    ratio: Any,
    real_weight: Any,
    generations: int,
    key: Any,
    reps: int,
    *,
    dtype: str = "float64",
    batch: int | None = None,
) -> ErrorTerms:
    """Monte Carlo of golden-ratio weighting: counterpart of ``theory.golden.golden_error``.

    Generation t = 1..T: n fresh real rows (x.w1 + eps) and n_s = round(ratio n) fresh synthetic
    rows labelled by the previous generation (x.w_{t-1} + eps), w_0 = w1 + delta, fitted with the
    loss w/n sum_real + (1 - w)/n_s sum_syn + lam ||v||^2 (w = ``real_weight``): row weights
    a1 = w N/n and a2 = (1 - w) N/n_s on N = n + n_s rows. The N rows of generation 1 are the
    engine's draw at sample size N (key ``draw_key(key, N, r)``): generation 1 reproduces
    ``weighted_error(problem, N, lam, n_s/N, 1 - w)`` and, at w = n/N, round 1 of
    ``iterative_error`` draw for draw; later generations use ``fold_in(rep_key, t)``.

    Returns:
      ErrorTerms of shape broadcast(n, lam, ratio, real_weight) + (generations,).

    Raises:
      ValueError: as the theory, plus n not an integer, reps < 1, bad dtype.

    Example:
      >>> import numpy as np, simcollapse as sc
      >>> prob = sc.Problem.isotropic(20, c2=1.0, sigma2=0.5)
      >>> mc = golden_error(prob, 100, 1e-2, 1.0, 0.6, generations=3, key=0, reps=32)
      >>> th = sc.theory.golden_error(prob, 100, 1e-2, 1.0, 0.6, generations=3)
      >>> mc.total.shape, bool(np.all(np.abs(mc.total - th.total) < 4 * mc.stderr))
      ((3,), True)
    """
    check_common(problem, n=n, lam=lam)
    check_range("n", n, 1, integer=True)
    check_golden(ratio, real_weight)
    generations = check_count("generations", generations)
    check_broadcast(n=n, lam=lam, ratio=ratio, real_weight=real_weight)
    arrays = (np.asarray(v, np.float64) for v in (n, ratio, real_weight))
    n_b, r_b, w_b = np.broadcast_arrays(*arrays)
    n2 = engine.synthetic_rows(n_b, r_b)
    rows = n_b + n2

    def prepare(n_g: int, f: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
        n2_g, w = f["n2"], f["real_weight"]
        return f["lam"], n2_g.astype(np.int64), *_row_weights(n_g, n2_g, w, 1.0 - w)

    mc = driver.MonteCarlo(key, reps, dtype, batch)
    points = {"lam": lam, "n2": n2, "real_weight": w_b}
    out = _run(problem, rows, points, mc, golden_draw, {"generations": generations}, prepare)
    # the rows with positive weight: every row, the real ones only (w = 1) or the synthetic ones
    # only (w = 0); lam = 0 with exactly d of them diverges in every generation
    n_eff = np.where(w_b == 1.0, n_b, np.where(w_b == 0.0, n2, rows))
    return flag_threshold(out, problem.d, n_eff, lam, trailing=1)


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
    design: str = "fresh",
    n_synthetic: int | None = None,
) -> ErrorTerms:
    check_common(problem, n=n, lam=lam)
    generations = check_count("generations", generations)
    if sample is not None:
        check_range("sample_size", sample, 1, integer=True)
    check_design(design, n, n_synthetic)
    if n_synthetic is not None:
        n_synthetic = int(n_synthetic)

    def prepare(n_g: int, f: dict[str, np.ndarray]) -> tuple[np.ndarray, ...]:
        return (f["lam"],)

    mc = driver.MonteCarlo(key, reps, dtype, batch)
    static = {"generations": generations, "mode": mode, "design": design,
              "n_synthetic": None if design == "fixed" else n_synthetic}  # fmt: skip
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
    design: str = "fresh",
    dtype: str = "float64",
    batch: int | None = None,
) -> ErrorTerms:
    """Monte Carlo of the replace loop: counterpart of ``theory.generations.replace_error``.

    Generation k: ridge on n rows labelled x.w_{k-1} + eps, w_0 = w1 (generation 1 is the
    engine's clean draw, p2 = 0); fresh inputs every generation (``design="fresh"``) or the same
    n inputs relabelled (``design="fixed"``). For least squares both designs have the mean error
    k sigma^2 d/(n - d - 1). ``problem.delta_sq`` is not used.

    Returns:
      ErrorTerms of shape broadcast(n, lam) + (generations,); zeta is 0.

    Raises:
      ValueError: as the theory, plus a design other than "fresh" or "fixed".

    Example:
      >>> import numpy as np, simcollapse as sc
      >>> prob = sc.Problem.isotropic(20, sigma2=1.0)
      >>> mc = replace_error(prob, 200, 0.0, generations=3, key=0, reps=32)
      >>> th = sc.theory.replace_error(prob, 200, 0.0, 3)  # k d/(n - d - 1) sigma^2
      >>> mc.total.shape, bool(np.all(np.abs(mc.total - th.total) < 4 * mc.stderr))
      ((3,), True)
      >>> fixed = replace_error(prob, 200, 0.0, generations=3, key=0, reps=32, design="fixed")
      >>> bool(fixed.total[0] == mc.total[0])  # generation 1: the same draws
      True
    """
    out = _loop(problem, n, lam, generations, key, reps, dtype, batch, "replace", None, design)
    # every generation at n = d, lam = 0 diverges; so does every one at n = d + 1 with noise, where
    # the exact OLS error k sigma^2 d/(n - d - 1) of the theory is infinite
    out = flag_threshold(out, problem.d, n, lam, trailing=1)
    if float(problem.sigma2) > 0:
        out = flag_threshold(out, problem.d + 1, n, lam, trailing=1)
    return out


def accumulate_error(
    problem: Problem,
    n: Any,
    lam: Any,
    generations: int,
    key: Any,
    reps: int,
    *,
    design: str = "fresh",
    n_synthetic: int | None = None,
    dtype: str = "float64",
    batch: int | None = None,
) -> ErrorTerms:
    """Monte Carlo of the accumulate loop: counterpart of ``theory.generations.accumulate_error``.

    Generation k: ridge on all rows so far, the loss averaged over them,
    (1/N_k) ||X w - y||^2 + lam ||w||^2; the first n rows are real (x.w1 + eps), the rows added
    at generation j >= 2 are labelled x.w_{j-1} + eps and keep those labels. Fresh design:
    ``n_synthetic`` (default n) new rows per generation, N_k = n + (k - 1) n_synthetic. Fixed
    design: the n inputs of generation 1 again, N_k = k n. Compare with
    ``theory.generations.accumulate_error`` (exact, lam = 0) and ``accumulate_reference``
    (an n >> d asymptote).

    Returns:
      ErrorTerms of shape broadcast(n, lam) + (generations,); zeta is 0.

    Raises:
      ValueError: as the theory, a bad design, n_synthetic < 1 or given with the fixed design.

    Example:
      >>> import numpy as np, simcollapse as sc
      >>> prob = sc.Problem.isotropic(20, sigma2=1.0)
      >>> mc = accumulate_error(prob, 400, 0.0, generations=3, key=0, reps=32, design="fixed")
      >>> th = sc.theory.accumulate_error(prob, 400, 0.0, 3, design="fixed")
      >>> mc.total.shape, bool(np.all(np.abs(mc.total - th.total) < 4 * mc.stderr))
      ((3,), True)
    """
    return _loop(problem, n, lam, generations, key, reps, dtype, batch, "accumulate", None,
                 design, n_synthetic)  # fmt: skip


def accumulate_subsample_error(
    problem: Problem,
    n: Any,
    lam: Any,
    generations: int,
    key: Any,
    reps: int,
    *,
    sample_size: int | None = None,
    design: str = "fresh",
    n_synthetic: int | None = None,
    dtype: str = "float64",
    batch: int | None = None,
) -> ErrorTerms:
    """Monte Carlo of the accumulate-subsample loop (simulation only, in both designs).

    As ``accumulate_error`` (the same pool of rows, in the fresh or the fixed design), but
    generation k is fitted on ``sample_size`` rows (default n) drawn uniformly without
    replacement from all rows so far: the training-set size stays fixed while the pool grows.

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
    return _loop(problem, n, lam, generations, key, reps, dtype, batch, "subsample", sample_size,
                 design, n_synthetic)  # fmt: skip
