"""Monte Carlo of ridge on real rows plus synthetic rows selected by a verifier.

The setting of Feng, Dohmatob, Yang, Charton and Kempe (2024), "Beyond Model Collapse: Scaling Up
with Synthesized Data Requires Verification" (arXiv 2406.07515), in the linear model of the
ridge engine. One repetition at sample size n and a point (lam, n2, n_c, c_v^2):

1. the engine's draw (``engine.draw_data``): X (n x d), eps, delta; rows [0, n - n2) are real,
   labelled y = x.w1 + eps;
2. n_c = round(n2 / keep) >= n2 candidate synthetic rows: candidate j < n2 is the engine's row
   n - n2 + j (its x and eps), candidate j >= n2 a fresh x ~ N(0, Sigma) and eps ~ N(0, sigma^2)
   from ``fold_in(rep_key, CANDIDATE_SALT)`` and j; each is labelled by the generator
   y = x.w2 + eps with w2 = w1 + delta;
3. the verifier w_v = w1 + sqrt(c_v^2) g / ||g||_Sigma, g ~ N(0, I_d) drawn once per repetition
   from ``fold_in(rep_key, VERIFIER_SALT)``, so ||w_v - w1||^2_Sigma = c_v^2 exactly (c_v^2 = 0 is
   an oracle that knows w1); each candidate's score is |y - x.w_v|;
4. the n2 candidates of smallest score fill rows [n - n2, n) (``lax.top_k``), and ridge
   w_hat = (X'X/n + lam)^+ X'y/n is fitted on the n rows; the test error on real data is
   ||w_hat - w1||^2_Sigma, exact from Sigma.

keep = 1 keeps every candidate, which are the engine's own synthetic rows (in score order):
the plain ridge mixture of ``simulate.ridge_error(..., estimator="plain")`` draw for draw, up to
rounding.

Parts. Given the selected rows, w_hat is linear in the labels, so w_hat - w1 splits into the fit
of the teacher labels x.w1 minus w1 (bias), of the noise eps of the rows (variance) and of the
shift x.delta on the selected synthetic rows (zeta), and each part's ||.||^2_Sigma is reported
beside that of the total. Unlike plain ridge, the selection couples the kept rows' noise to
their shift (an oracle keeps rows with eps close to -x.delta), so the cross terms do not average
to zero: total != bias + variance + zeta in the mean when keep < 1, and total is the error.

Large n. ``verified_limit`` is the n -> infinity limit at fixed d, lam -> 0 (docs/theory.md,
"Verified synthetic data"): the population least-squares fit of the mixture, in closed form given
delta and the verifier, averaged over both.
"""

from __future__ import annotations

from collections.abc import Mapping
from statistics import NormalDist
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from simcollapse._aliases import seed_keyword
from simcollapse._validate import (
    check_broadcast,
    check_common,
    check_count,
    check_memory,
    check_range,
    check_real,
)
from simcollapse.keys import as_seed
from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms
from simcollapse.simulate import driver, engine
from simcollapse.simulate.grid import flag_threshold
from simcollapse.simulate.mixing_draws import fit_columns

__all__ = ["candidate_rows", "select_rows", "verified_draw", "verified_error", "verified_limit"]

CANDIDATE_SALT = 104_729  # fold_in constant of the extra candidates' key
VERIFIER_SALT = 1_299_709  # fold_in constant of the verifier's direction


def candidate_rows(n2: Any, keep: Any) -> np.ndarray:
    """n_c = round(n2 / keep), halves rounded up: the candidates drawn to keep n2 of them.

    Example:
      >>> candidate_rows([0, 10, 10, 7], [0.5, 1.0, 0.1, 0.3]).tolist()
      [0, 10, 100, 23]
    """
    ratio = np.asarray(n2, np.float64) / np.asarray(keep, np.float64)
    # keep = 1 must give n2 exactly; a ratio a rounding above an integer stays that integer
    return np.floor(ratio + 0.5 - 1e-9).astype(np.int64)


def select_rows(
    x: Array,
    eps: Array,
    extra_x: Array,
    extra_eps: Array,
    delta: Array,
    verifier_error: Array,
    n2: Array,
    n_cand: Array,
    kept: int,
) -> tuple[Array, Array, Array, Array]:
    """The training set of one point: real rows [0, n - n2), the n2 best candidates after them.

    Candidate j < n2 is row n - n2 + j of (x, eps), candidate j >= n2 is row j of (extra_x,
    extra_eps); only the first ``n_cand`` candidates compete. Score: |x.delta + eps -
    x.verifier_error| = |y - x.w_v| for the generator's label y = x.(w1 + delta) + eps and the
    verifier w_v = w1 + verifier_error. The n2 of smallest score fill rows [n - n2, n) in
    increasing score (``lax.top_k`` of the ``kept`` >= n2 best).

    Args:
      x: (n, d).  eps: (n,).  extra_x: (pool, d).  extra_eps: (pool,).  delta, verifier_error:
      (d,).  n2, n_cand: synthetic rows and candidates (n2 <= n_cand <= pool).  kept: static.

    Returns:
      (X, eps, shift, slot): the n training rows, their noise, their shift x.delta (0 on the
      real rows) and the candidate slot of each row (-1 on the real rows).

    Example:
      >>> import jax.numpy as jnp
      >>> x = jnp.eye(3)
      >>> extra = jnp.array([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 1.0, 0.0]])
      >>> delta = jnp.array([1.0, 2.0, 3.0])
      >>> _, _, shift, slot = select_rows(x, jnp.zeros(3), extra, jnp.zeros(3), delta,
      ...                                 jnp.zeros(3), n2=1, n_cand=3, kept=1)
      >>> shift.tolist(), slot.tolist()  # candidates' shifts 3, 0, 3: slot 1 is kept
      ([0.0, 0.0, 0.0], [-1, -1, 1])
    """
    n, pool = x.shape[0], extra_x.shape[0]
    rows, slots = jnp.arange(n), jnp.arange(pool)
    first = n - n2
    own = slots < n2  # the engine's synthetic rows come first
    src = jnp.clip(first + slots, 0, n - 1)
    cx = jnp.where(own[:, None], x[src], extra_x)
    ce = jnp.where(own, eps[src], extra_eps)
    cu = cx @ delta  # y - x.w1 = x.delta + eps
    score = jnp.abs(cu + ce - cx @ verifier_error)  # |y - x.w_v|
    score = jnp.where(slots < n_cand, score, jnp.inf)
    _, best = jax.lax.top_k(-score, kept)
    syn = rows >= first
    pick = best[jnp.clip(rows - first, 0, kept - 1)]
    xt = jnp.where(syn[:, None], cx[pick], x)
    et = jnp.where(syn, ce[pick], eps)
    ut = jnp.where(syn, cu[pick], 0.0)
    return xt, et, ut, jnp.where(syn, pick, -1)


def verified_draw(
    problem: Problem,
    rep_key: Array,
    lam: Array,
    n2: Array,
    n_cand: Array,
    verifier_c2: Array,
    index: Array,
    *,
    n: int,
    pool: int,
    kept: int,
    dtype: Any,
) -> Array:
    """One repetition at every point: (P, 1, 4) [bias, variance, zeta, total].

    ``lam``, ``n2``, ``n_cand`` and ``verifier_c2`` hold the U distinct points, ``index`` (P,)
    each point's row among them. ``pool`` >= every n_c and ``kept`` >= every n2 are static
    sizes (module doc for the model); candidates past a point's n_c are never selected. The
    distinct points are mapped one at a time (``lax.map``), each with its own training set and
    factorisation.

    Returns:
      (P, 1, 4): row p is point p (the distinct point ``index[p]``), the last axis [bias,
      variance, zeta, total] of the exact test error ||w_hat - w1||^2_Sigma of this draw.

    Example:
      >>> import jax, jax.numpy as jnp, simcollapse as sc
      >>> prob = sc.Problem.isotropic(4, c2=1.0, sigma2=0.5)
      >>> kernel = jax.jit(verified_draw, static_argnames=("n", "pool", "kept", "dtype"))
      >>> out = kernel(prob, jax.random.key(0), jnp.array([0.1, 0.1]), jnp.array([4, 4]),
      ...              jnp.array([4, 8]), jnp.array([0.0, 0.0]), jnp.array([0, 1, 1]),
      ...              n=8, pool=8, kept=4, dtype="float32")  # n2 = 4 of 4 or of 8 candidates
      >>> out.shape, bool(jnp.isfinite(out).all())
      ((3, 1, 4), True)
    """
    x, eps, delta = engine.draw_data(problem, rep_key, n, dtype)
    s, w1 = engine.spectrum_and_teacher(problem, dtype)
    d = w1.shape[0]
    root_s = jnp.sqrt(s)
    sigma = jnp.sqrt(jnp.asarray(problem.sigma2, dtype))
    extra_key = jax.random.fold_in(rep_key, CANDIDATE_SALT)

    def extra(j: Array) -> tuple[Array, Array]:
        kx, ke = jax.random.split(jax.random.fold_in(extra_key, j))
        return jax.random.normal(kx, (d,), dtype) * root_s, jax.random.normal(ke, (), dtype) * sigma

    ex, ee = jax.vmap(extra)(jnp.arange(pool))
    g = jax.random.normal(jax.random.fold_in(rep_key, VERIFIER_SALT), (d,), dtype)
    direction = g / jnp.sqrt(jnp.sum(s * g * g))  # ||direction||_Sigma = 1

    def point(args: tuple[Array, Array, Array, Array]) -> Array:
        lam, n2, n_cand, c2v = args
        xt, et, ut, _ = select_rows(x, eps, ex, ee, delta, jnp.sqrt(c2v) * direction, n2, n_cand,
                                    kept)  # fmt: skip
        labels = jnp.stack([xt @ w1, et, ut], axis=1)
        parts = fit_columns(xt, labels[None], lam[None])[0]  # (3, d)
        return engine.real_test_errors(s, w1, parts[0] - w1, parts[1], parts[2])

    out = jax.lax.map(point, (lam, n2, n_cand, verifier_c2))  # (U, 4)
    return out[index, None]


def verified_error(
    problem: Problem,
    n: Any,
    lam: Any,
    p2: Any,
    keep: Any,
    verifier_c2: Any,
    key: Any,
    reps: int,
    *,
    dtype: str = "float64",
    batch: int | None = None,
) -> ErrorTerms:
    """Monte Carlo test error of ridge on real rows plus verifier-selected synthetic rows.

    Feng et al. (2024), in the linear model (module doc): n rows, n2 = round(p2 n) of them
    synthetic, chosen as the n2 of round(n2 / keep) generator-labelled candidates
    (y = x.(w1 + delta) + eps) with the smallest verifier score |y - x.w_v|, where
    ||w_v - w1||^2_Sigma = verifier_c2; E = ||w_hat - w1||^2_Sigma, exact. No closed form:
    simulation only. keep = 1 is ``simulate.ridge_error(..., estimator="plain")`` draw for draw.

    Args:
      problem: the spectrum, teacher, shift and noise.
      n: sample size(s), integers >= 1.  lam: penalty(ies) >= 0.  p2: fraction(s) in [0, 1].
      keep: the kept fraction of the candidates, in (0, 1].
      verifier_c2: the verifier's excess risk c_v^2 >= 0 (0: an oracle).
      key: a ``jax.random`` key or an int seed.  reps: repetitions (>= 2 for a standard error).
      dtype: "float64" or "float32".  batch: repetitions vmapped at once (None: the driver's).

    Returns:
      ErrorTerms of shape broadcast(n, lam, p2, keep, verifier_c2): the mean of total (the
      error) and of the bias, variance and zeta parts of the selected sample (module doc: their
      cross terms do not average to zero after selection), ``stderr`` that of total.

    Raises:
      ValueError: n not an integer >= 1, lam < 0, p2 outside [0, 1], keep outside (0, 1],
        verifier_c2 < 0, reps < 1, bad dtype, shapes that do not broadcast.

    Example:
      >>> import numpy as np, simcollapse as sc
      >>> prob = sc.Problem.isotropic(10, c2=1.0, sigma2=1.0)
      >>> out = verified_error(prob, 400, 1e-3, 0.5, keep=[1.0, 0.1], verifier_c2=0.0, key=0,
      ...                      reps=8)
      >>> plain = sc.simulate.ridge_error(prob, 400, 1e-3, 0.5, key=0, reps=8, estimator="plain")
      >>> bool(np.isclose(out.total[0], plain.total)), bool(out.total[1] < 0.2 * out.total[0])
      (True, True)
    """
    check_common(problem, n=n, lam=lam, p2=p2)
    check_range("keep", keep, 0.0, 1.0, low_open=True)
    check_range("verifier_c2", verifier_c2, 0.0)
    check_range("n", n, 1, integer=True)
    check_broadcast(n=n, lam=lam, p2=p2, keep=keep, verifier_c2=verifier_c2)
    n2_all = engine.synthetic_rows(n, np.asarray(p2, np.float64))
    # in floating point: round(n2 / keep) overflows int64 for a tiny keep
    pool = float(np.max(np.asarray(n2_all, np.float64) / np.asarray(keep, np.float64), initial=0))
    check_memory("keep", 16.0 * pool * (problem.d + 2), f"a pool of {pool:,.0f} candidates")
    mc = driver.MonteCarlo(key, reps, dtype, batch)
    dt = mc.np_dtype

    def prepare(shape: Mapping[str, int], f: Mapping[str, np.ndarray], dt: Any) -> tuple:
        n2 = engine.synthetic_rows(shape["n"], f["p2"])
        n_cand = candidate_rows(n2, f["keep"])
        sizes = {"pool": max(1, int(n_cand.max())), "kept": max(1, int(n2.max()))}
        cols = np.stack([f["lam"], n2, n_cand, f["verifier_c2"]], axis=1)
        uniq, index = np.unique(cols, axis=0, return_inverse=True)
        size = driver.bucket(len(uniq), minimum=1)  # distinct points, padded to a power of two
        uniq = np.concatenate([uniq, np.repeat(uniq[-1:], size - len(uniq), axis=0)])
        lam_u, n2_u, cand_u, c2v_u = uniq.T
        arrays = (lam_u.astype(dt), n2_u.astype(np.int64), cand_u.astype(np.int64),
                  c2v_u.astype(dt), index.ravel().astype(np.int32))  # fmt: skip
        return arrays, sizes

    grid = {"n": n, "lam": lam, "p2": p2, "keep": keep, "verifier_c2": verifier_c2}
    out = driver.run(verified_draw, problem, grid, mc, prepare=prepare, static={"dtype": dt})
    out = ErrorTerms(*(v[..., 0] for v in out))
    return flag_threshold(out, problem.d, n, lam)


@seed_keyword
def verified_limit(
    problem: Problem,
    p2: float,
    keep: float,
    verifier_c2: float,
    *,
    key: Any = 0,
    draws: int = 4096,
) -> tuple[float, float]:
    """The n -> infinity limit of ``verified_error`` (fixed d, lam -> 0): its floor.

    In whitened coordinates (x = Sigma^(1/2) xi), with the shift t = Sigma^(1/2) delta, the
    verifier's error v = Sigma^(1/2) (w_v - w1) and u = t - v: a candidate is kept when
    |z + eps| <= a s_r, where z = xi.u ~ N(0, s_u^2), s_r^2 = s_u^2 + sigma^2 and
    keep = 2 Phi(a) - 1.
    With T = E[Z^2 | |Z| <= a] = 1 - 2 a phi(a) / keep (Z standard normal), kappa = s_u T and
    beta = s_u^2 (T - 1) / s_r^2, ridge tends to the least-squares fit of the mixture, whose error
    is (docs/theory.md)

        E_inf = p2^2 [ |v_perp|^2 + ((1 + beta) (u^.v) + kappa)^2 / (1 + p2 beta)^2 ],

    u^ = u / s_u and v_perp = v - (u^.v) u^. keep = 1 gives p2^2 |t|^2 (mean p2^2 c^2), an oracle
    (v = 0) p2^2 kappa^2 / (1 + p2 beta)^2. The mean is taken over ``draws`` pairs (delta, w_v)
    drawn as the simulation draws them (delta ~ N(0, diag(delta_sq)), v of Sigma-norm
    sqrt(verifier_c2) along Sigma^(1/2) g, g ~ N(0, I_d)), by NumPy from ``key``.

    Args:
      problem: the spectrum, shift and noise.  p2: synthetic fraction in [0, 1].
      keep: kept fraction of the candidates, in (0, 1].  verifier_c2: c_v^2 >= 0.
      key: an int or a ``jax.random`` key; the draws are NumPy's, seeded by ``as_seed(key)``.
      draws: pairs (delta, w_v) averaged, >= 2.

    Returns:
      (mean, standard error) of E_inf over the draws.

    Raises:
      ValueError: p2 outside [0, 1], keep outside (0, 1], verifier_c2 < 0, draws < 2.

    Example:
      >>> import simcollapse as sc
      >>> prob = sc.Problem.isotropic(20, c2=1.0, sigma2=1.0)
      >>> plain, se = verified_limit(prob, 0.5, 1.0, 0.0)  # keep = 1: p2^2 c^2 = 0.25
      >>> bool(abs(plain - 0.25) < 3 * se)
      True
      >>> floor, _ = verified_limit(prob, 0.5, 0.1, 0.0)  # an oracle keeping 1 in 10
      >>> bool(floor < 1e-4)
      True
    """
    p2 = check_real("p2", p2, 0.0, 1.0)
    check_range("keep", keep, 0.0, 1.0, low_open=True)
    keep = check_real("keep", keep)
    c2v = check_real("verifier_c2", verifier_c2, 0.0)
    draws = check_count("draws", draws, 2)
    rng = np.random.default_rng(as_seed(key))
    eigs = np.asarray(problem.eigs, np.float64)
    root = np.sqrt(eigs)
    t = rng.standard_normal((draws, eigs.size)) * np.sqrt(np.asarray(problem.delta_sq)) * root
    g = rng.standard_normal((draws, eigs.size)) * root
    v = np.sqrt(c2v) * g / np.linalg.norm(g, axis=1, keepdims=True)
    u = t - v
    su2 = np.sum(u * u, axis=1)
    su = np.sqrt(su2)
    sr2 = su2 + float(problem.sigma2)
    if keep >= 1.0:
        tail = 1.0
    else:
        a = NormalDist().inv_cdf((1.0 + keep) / 2.0)
        tail = 1.0 - 2.0 * a * NormalDist().pdf(a) / keep
    kappa = su * tail
    beta = su2 * (tail - 1.0) / sr2
    par = np.sum(u * v, axis=1) / np.where(su > 0, su, 1.0)
    perp2 = np.maximum(np.sum(v * v, axis=1) - par**2, 0.0)
    err = p2**2 * (perp2 + ((1.0 + beta) * par + kappa) ** 2 / (1.0 + p2 * beta) ** 2)
    return float(err.mean()), float(err.std(ddof=1) / np.sqrt(draws))
