"""Multi-generation loops: replace (exact for OLS, Theorem 1 fed back for ridge), accumulate.

docs/theory.md, "Generations". Generation 0 is the truth w1; generation k is fitted on n
fresh rows labelled by generation k - 1 plus noise sigma^2 (replace), or on all rows so far, the
first n real (accumulate). Accumulate for least squares is exact at finite n in both designs (fresh
or fixed inputs, ``accumulate_ols_error``), beside its n >> d reference line. Ridge (lam > 0) in
the fixed design, both loops, is the deterministic equivalent of ``theory.fixed_design``; ridge
accumulate in the fresh design and accumulate-subsample are simulation only
(``simcollapse.simulate.mixing``).
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from simcollapse._validate import check_common, check_range
from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms, Status
from simcollapse.theory._common import raise_if_failed, run_x64
from simcollapse.theory._points import run_chunks
from simcollapse.theory.fixed_design import (
    fixed_design_batch,
    fixed_design_combine,
    fixed_design_parts,
)
from simcollapse.theory.iterative import check_count, recursion_terms
from simcollapse.theory.ols import check_ols

__all__ = [
    "accumulate_error",
    "accumulate_ols_error",
    "accumulate_reference",
    "check_design",
    "replace_error",
    "replace_ols_error",
    "replace_terms",
]

DESIGNS = ("fresh", "fixed")


def check_design(design: str, n: Any, n_synthetic: int | None = None) -> None:
    """A design of the generation loops ("fresh" or "fixed") and its synthetic block size.

    Raises:
      ValueError: design not "fresh" or "fixed"; n_synthetic not an integer >= 1, or given with
        the fixed design unequal to n (there every generation relabels the same n inputs).

    Example:
      >>> check_design("fixed", 32)
      >>> check_design("fixed", 32, n_synthetic=5)  # doctest: +ELLIPSIS
      Traceback (most recent call last):
      ...
      ValueError: n_synthetic must equal n (the same inputs relabelled) in the fixed design, ...
    """
    if not isinstance(design, str) or design not in DESIGNS:
        raise ValueError(f"design must be one of {', '.join(DESIGNS)}, got {design!r}")
    if n_synthetic is None:
        return
    check_range("n_synthetic", n_synthetic, 1.0, integer=True)
    if np.ndim(n_synthetic) != 0:
        raise ValueError(f"n_synthetic must be a single integer, got {n_synthetic!r}")
    if design == "fixed" and np.any(np.asarray(n) != n_synthetic):
        raise ValueError(
            f"n_synthetic must equal n (the same inputs relabelled) in the fixed design, "
            f"got n_synthetic={n_synthetic!r} with n={n!r}"
        )


def replace_terms(
    problem: Problem, n: Array, lam: Array, generations: int, ols: str = "equivalent"
) -> ErrorTerms:
    """Replace loop as a pure, jittable function (see ``replace_error``); shape A + (G,).

    Example:
      >>> import jax, jax.numpy as jnp, numpy as np, simcollapse as sc
      >>> prob = sc.Problem.isotropic(50, sigma2=1.0)
      >>> with jax.enable_x64(True):
      ...     terms = replace_terms(prob, jnp.array([400.0]), jnp.array([0.0]), 3)
      >>> terms.total.shape
      (1, 3)
      >>> bool(np.allclose(terms.total[0], replace_error(prob, 400, 0.0, 3).total))
      True
    """
    deq = recursion_terms(problem, n, lam, jnp.ones_like(n), generations, shift=False)
    if ols == "equivalent":
        return deq
    d = problem.eigs.shape[-1]
    k = jnp.arange(1, generations + 1, dtype=deq.total.dtype)
    n_ = jnp.asarray(n)[..., None]
    ridgeless = jnp.asarray(lam)[..., None] == 0
    exact = ridgeless & (n_ > d + 1)
    # n = d + 1: E (X'X)^{-1} diverges, so the exact OLS error is inf (a threshold, as n = d is
    # for ridge); with sigma^2 = 0 there is nothing to amplify and the error is 0.
    edge = ridgeless & (n_ == d + 1)
    noisy = jnp.asarray(problem.sigma2) > 0
    ols = k * problem.sigma2 * d / jnp.where(exact, n_ - d - 1, 1.0)
    variance = jnp.where(exact, ols, deq.variance)
    variance = jnp.where(edge, jnp.where(noisy, jnp.inf, 0.0), variance)
    bias = jnp.where(exact | edge, 0.0, deq.bias)
    total = bias + variance
    status = jnp.where(edge & noisy, Status.THRESHOLD, deq.status).astype(deq.status.dtype)
    return ErrorTerms(bias, variance, deq.zeta, total, deq.stderr, status)


_replace_terms_jit = jax.jit(replace_terms, static_argnums=(3, 4))


def replace_error(
    problem: Problem,
    n: Any,
    lam: Any,
    generations: int,
    *,
    design: str = "fresh",
    ols: str = "equivalent",
    throw: bool = True,
) -> ErrorTerms:
    """Test error of each generation of the replace loop, ridge (lam) on n fresh rows each.

    Generation k is ridge on n fresh rows labelled x.w_{k-1} + eps, w_0 = w1: one application of
    Theorem 1 with p2 = 1 whose "shift" is the previous generation's error w_{k-1} - w1, fed back
    through its per-direction mean m and second moment q (the iterative-mixing recursion of
    ``iterative_error`` with p2 = 1 and no initial shift, m = q = 0 at k = 0)::

        A   = sigma^2 + kappa^2 sum_j s_j (w_j^2 + 2 w_j m_j + q_j)/(s_j + kappa)^2
        q_j <- (1-e_j)^2 w_j^2 - 2 e_j (1-e_j) w_j m_j + e_j^2 q_j + chi_j A
        m_j <- -(1-e_j) w_j + e_j m_j,      E_k = sum_j s_j q_j

    Generation 1 is training on the teacher's own labels: Theorem 1 with p2 = 0. For OLS
    (lam = 0, n > d + 1) ``ols="exact"`` returns the exact finite-sample value instead, any
    Sigma::

        E_k = k sigma^2 d/(n - d - 1)

    and at n = d + 1 (lam = 0) it diverges: inf with ``Status.THRESHOLD`` (0 if sigma^2 = 0).

    (E (X'X)^{-1} = Sigma^{-1}/(n - d - 1); Dohmatob, Feng, Kempe 2024), where the deterministic
    equivalent (the default, ``ols="equivalent"``: the recursion as for ridge) gives
    k sigma^2 d/(n - d).
    Generation 1 at lam = 0 is the ridge setting's value under the same ``ols``
    (``simcollapse.theory.ols``). The shift ``problem.delta_sq`` is not used.

    The fixed design (``design="fixed"``: the same n inputs X relabelled every generation, fresh
    noise each time) has, for OLS, u_k = u_{k-1} + (X'X)^{-1} X' eps_k with independent eps_k, so
    the same mean E_k = k sigma^2 d/(n - d - 1). For ridge (lam > 0, any n) the two designs
    differ: w_k = A w_{k-1} + B eps_k with A = (Ghat + lam)^{-1} Ghat, a polynomial in the
    resolvent whose moments are the two-point deterministic equivalent
    (``simcollapse.theory.fixed_design``). At lam = 0 with n < d the fixed design has no formula
    here (a ValueError).

    Args:
      problem: the spectrum, teacher and noise.
      n: rows per generation, >= 1.  lam: penalty(ies) >= 0.
      generations: number of generations G, an integer >= 1.
      design: "fresh" (default) or "fixed" (where lam = 0, n >= d).
      ols: at lam = 0, "equivalent" (default: the deterministic equivalent, Theorem 1's value)
        or "exact" (the finite-n value above).
      throw: raise FixedPointError if kappa did not converge somewhere.

    Returns:
      ErrorTerms of float64 arrays of shape broadcast(n, lam) + (generations,) (k = 1..G); bias
      and variance are the parts propagated from the ridge bias and the noise, zeta is 0.

    Raises:
      ValueError: n < 1, lam < 0, generations not an integer >= 1, NaN, bad shapes; a bad
        design, or the fixed design with n < d at lam = 0 or n not an integer.

    Example:
      >>> import simcollapse as sc
      >>> prob = sc.Problem.isotropic(50, sigma2=1.0)
      >>> replace_error(prob, 400, 0.0, 3).total  # k * 50/350, the equivalent
      array([0.14285714, 0.28571429, 0.42857143])
      >>> replace_error(prob, 400, 0.0, 3, ols="exact").total  # k * 50/349
      array([0.14326648, 0.28653295, 0.42979943])
      >>> replace_error(prob, 400, 0.0, 3, design="fixed", ols="exact").total  # the same
      array([0.14326648, 0.28653295, 0.42979943])
      >>> replace_error(prob, 400, 1e-9, 3, design="fixed").total.round(6)  # ridge -> k 50/350
      array([0.142857, 0.285714, 0.428571])
    """
    check_common(problem, n=n, lam=lam)
    generations = check_count("generations", generations)
    check_design(design, n)
    check_ols(ols)
    if design == "fixed":
        check_fixed_ols(problem, n, lam)
    n_b, lam_b = np.broadcast_arrays(np.asarray(n, float), np.asarray(lam, float))
    out = run_x64(_replace_terms_jit, problem, n_b, lam_b, generations, ols)
    if design == "fixed":
        out = with_fixed_ridge(out, problem, n_b, lam_b, generations, "replace")
    if throw:
        raise_if_failed(out, "ridge kappa", n=n, lam=lam)
    return out


def check_fixed_ols(problem: Problem, n: Any, lam: Any) -> None:
    """The fixed design's theory: n an integer (the same n inputs every generation), and
    n >= d wherever lam = 0 (exact least squares; ridge, lam > 0, takes any n >= 1).

    Raises:
      ValueError: n not an integer, or n < d at a point with lam = 0, naming the parameter.

    Example:
      >>> import simcollapse as sc
      >>> check_fixed_ols(sc.Problem.isotropic(10), [8, 32], [0.1, 0.0])
      >>> check_fixed_ols(sc.Problem.isotropic(10), 8, 0.0)  # doctest: +ELLIPSIS
      Traceback (most recent call last):
      ...
      ValueError: n must be >= d = 10 where lam = 0 in the fixed design's theory, got n=8 ...
    """
    check_range("n", n, 1.0, integer=True)
    n_b, lam_b = np.broadcast_arrays(np.asarray(n), np.asarray(lam))
    if np.any((n_b < problem.d) & (lam_b == 0)):
        raise ValueError(
            f"n must be >= d = {problem.d} where lam = 0 in the fixed design's theory, got n={n!r} "
            f"with lam={lam!r} (ridge, lam > 0, has a theory at any n)"
        )


@functools.cache
def _fixed_design_kernel(generations: int, mode: str) -> Any:
    """``fixed_design_parts`` for G generations of one loop, jitted (one program per batch size)."""
    return jax.jit(functools.partial(fixed_design_parts, generations=generations, mode=mode))


def with_fixed_ridge(
    out: ErrorTerms, problem: Problem, n: np.ndarray, lam: np.ndarray, generations: int, mode: str
) -> ErrorTerms:
    """``out`` (shape A + (G,)) with its points at lam > 0 replaced by the fixed design's ridge
    deterministic equivalent (``theory.fixed_design``); n and lam have shape A.

    The points run in batches of ``fixed_design_batch(d, G)`` (the last one padded), so one
    compiled program serves every call with the same d and G.
    """
    ridge = np.asarray(lam) > 0
    if not ridge.any():
        return out
    at = np.flatnonzero(ridge)
    flat = [np.ravel(n).astype(np.float64)[at], np.ravel(lam).astype(np.float64)[at]]
    kernel = _fixed_design_kernel(generations, mode)
    with jax.enable_x64(True):
        parts = run_chunks(
            lambda prob, table, count, *points: kernel(prob, table, *points),  # every point runs
            problem,
            *flat,
            chunk=fixed_design_batch(problem.d, generations),
        )
    fixed = fixed_design_combine(parts, generations, np)
    merged = []
    for full, part in zip(out, fixed, strict=True):
        full = np.array(full).reshape(-1, generations)
        full = full.astype(np.result_type(full, part))
        full[at] = part
        merged.append(full.reshape(np.shape(n) + (generations,)))
    return ErrorTerms(*merged)


def replace_ols_error(problem: Problem, n: Any, generations: int) -> np.ndarray:
    """Exact replace loop for OLS: E_k = k sigma^2 d/(n - d - 1), k = 1..G (any Sigma).

    Args:
      problem: gives d and sigma^2.  n: rows per generation, integers > d + 1.
      generations: G, an integer >= 1.

    Returns:
      Float64 array of shape shape(n) + (G,).

    Raises:
      ValueError: n <= d + 1 or not an integer, generations < 1.

    Example:
      >>> import simcollapse as sc
      >>> replace_ols_error(sc.Problem.isotropic(50), 400, 3).round(4).tolist()  # k 50/349
      [0.1433, 0.2865, 0.4298]
    """
    check_range("n", n, problem.d + 1, low_open=True, integer=True)
    generations = check_count("generations", generations)
    k = np.arange(1, generations + 1, dtype=np.float64)
    n = np.asarray(n, np.float64)[..., None]
    return k * problem.sigma2 * problem.d / (n - problem.d - 1)


def accumulate_reference(problem: Problem, n: Any, generations: int) -> np.ndarray:
    """Asymptote of the accumulate loop for n >> d (Gerstgrasser et al. 2024; Dey & Donoho 2024)::

        E_k ~ sigma^2 (d/n) sum_{j <= k} 1/j^2  <=  (pi^2/6) sigma^2 d/n

    A reference line only: at finite n it is low (d = 50, n = 400: Monte Carlo 0.145 ... 0.209 at
    k = 1 ... 6 against 0.125 ... 0.186); the simulation gives the numbers
    (``simcollapse.simulate.mixing.accumulate_error``).

    Args:
      problem: gives d and sigma^2.  n: real rows (rows per generation), >= 1.
      generations: G, an integer >= 1.

    Returns:
      Float64 array of shape shape(n) + (G,), k = 1..G.

    Example:
      >>> import simcollapse as sc
      >>> accumulate_reference(sc.Problem.isotropic(50), 400, 3).round(4).tolist()
      [0.125, 0.1562, 0.1701]
    """
    check_range("n", n, 1.0)
    generations = check_count("generations", generations)
    k = np.arange(1, generations + 1, dtype=np.float64)
    n = np.asarray(n, np.float64)[..., None]
    return problem.sigma2 * (problem.d / n) * np.cumsum(1.0 / k**2)


def accumulate_error(
    problem: Problem,
    n: Any,
    lam: Any,
    generations: int,
    *,
    design: str = "fresh",
    n_synthetic: int | None = None,
    ols: str = "equivalent",
    throw: bool = True,
) -> ErrorTerms:
    """Test error of each generation of the accumulate loop: exact at finite n for least squares,
    the deterministic equivalent for ridge in the fixed design.

    The counterpart of ``simulate.mixing.accumulate_error`` (same arguments).

    Generation k fits OLS on all rows so far: n real rows (x.w1 + eps), then n_synthetic rows
    per generation j >= 2 labelled x.w_{j-1} + eps. With G_k the Gram matrix of the first N_k
    rows, u_k = w_k - w1 obeys u_k = u_{k-1} + G_k^{-1} X_k' eps_k (the new block's noise only),
    so u_k = sum_{i <= k} G_i^{-1} X_i' eps_i with uncorrelated terms, and
    E_k = sigma^2 sum_i E tr(Sigma G_i^{-1} X_i'X_i G_i^{-1}). docs/theory.md, "Generations".

    * ``design="fresh"`` (every block draws new inputs): the rows are exchangeable, so
      E[G_i^{-1} X_i'X_i G_i^{-1}] = (n_i/N_i) E G_i^{-1} and E G^{-1} = Sigma^{-1}/(N - d - 1)
      (Gaussian inputs)::

          E_k = sigma^2 d sum_{i <= k} n_i / (N_i (N_i - d - 1)),   N_i = n + (i - 1) n_syn

      (n_syn = n: sigma^2 sum_i d/(i (i n - d - 1))).
    * ``design="fixed"`` (every block relabels the same n inputs; Gerstgrasser et al. 2024,
      Dohmatob, Feng, Kempe 2024): G_i = i X'X, so u_k = sum_i (X'X)^{-1} X' eps_i / i and::

          E_k = sigma^2 d/(n - d - 1) sum_{i <= k} 1/i^2  <=  (pi^2/6) sigma^2 d/(n - d - 1)

    This is the exact finite-n value (``ols="exact"``, as ``replace_error`` gives it for OLS).
    The default, ``ols="equivalent"``, puts the deterministic equivalent E G^{-1} ~
    Sigma^{-1}/(N - d) in its place (N_i - d for N_i - d - 1 above, n - d for n - d - 1):
    generation 1 is then ridge's value at lam = 0, sigma^2 d/(n - d). At n = d (and, exact, at
    n = d + 1) E (X'X)^{-1} diverges: every generation is inf with ``Status.THRESHOLD`` (0 and
    CONVERGED if sigma^2 = 0), as ``replace_terms`` reports it.

    Ridge (lam > 0) in the fixed design, any n >= 1: the averaged Gram of k stacked copies of X
    is Ghat = X'X/n, so k w_k = (k - 1) w_{k-1} + A w_{k-1} + B eps_k with
    A = (Ghat + lam)^{-1} Ghat, B = (Ghat + lam)^{-1} X'/n; bias (from w1) and variance (from the
    noise) are moments of a polynomial in the resolvent, given by its two-point deterministic
    equivalent (``simcollapse.theory.fixed_design``; ``ols`` does not enter). Ridge in the fresh
    design has no formula here: with A_k = G_k + N_k lam (G_k the Gram of all N_k rows so far),
    w_k = (I - n_k lam A_k^{-1}) w_{k-1} + A_k^{-1} X_k' eps_k, and its error is a mean of
    products of resolvents of nested Gram matrices, which the one-matrix equivalent does not
    cover (a ValueError: simulate it).

    Args:
      problem: the spectrum, teacher and noise (at lam = 0 only d and sigma^2 enter).
      n: real rows, integers (any shape), >= d where lam = 0 and >= 1 elsewhere.
      lam: penalties >= 0, broadcast with n; lam > 0 in the fixed design only.
      generations: G, an integer >= 1.
      design: "fresh" or "fixed".
      n_synthetic: rows added per generation (fresh design only; default n).
      ols: at lam = 0, "equivalent" (default) or "exact" (``simcollapse.theory.ols``).
      throw: raise FixedPointError if kappa did not converge at a ridge point.

    Returns:
      ErrorTerms of float64 arrays of shape broadcast(n, lam) + (G,), k = 1..G: bias (propagated
      from w1: 0 at lam = 0), variance (propagated noise), zeta 0, stderr 0, status per point.

    Raises:
      ValueError: n not an integer, n < d at lam = 0 (n < 1 elsewhere), lam < 0, lam > 0 in
        the fresh design, a bad design, n_synthetic < 1 or given with the fixed design unequal
        to n.

    Example:
      >>> import simcollapse as sc
      >>> prob = sc.Problem.isotropic(50, sigma2=1.0)
      >>> exact = dict(ols="exact")
      >>> accumulate_error(prob, 400, 0.0, 3, **exact).total.round(4).tolist()  # 50/349, ...
      [0.1433, 0.1766, 0.1911]
      >>> accumulate_error(prob, 400, 0.0, 3, design="fixed", **exact).total.round(4).tolist()
      [0.1433, 0.1791, 0.195]
      >>> accumulate_error(prob, [50, 51], 0.0, 2, **exact).status.tolist()  # n = d, d + 1
      [[4, 4], [4, 4]]
      >>> accumulate_error(prob, 400, 0.0, 1).total.round(4).tolist()  # 50/350, the equivalent
      [0.1429]
      >>> accumulate_error(prob, 400, 1e-9, 3, design="fixed").total.round(4).tolist()  # ridge
      [0.1429, 0.1786, 0.1944]
    """
    check_range("n", n, 1.0, integer=True)
    check_range("lam", lam, 0.0)
    n_b, lam_b = np.broadcast_arrays(np.asarray(n), np.asarray(lam, np.float64))
    generations = check_count("generations", generations)
    check_design(design, n_b, n_synthetic)
    ridge = lam_b > 0
    if design == "fresh" and np.any(ridge):
        raise ValueError(
            f"lam must be 0 in the fresh design (its generations fit nested Gram matrices: no "
            f"formula for ridge there), got lam={lam!r}; use design='fixed' or simulate it"
        )
    if np.any(~ridge & (n_b < problem.d)):
        raise ValueError(
            f"n must hold integers in [{problem.d}, inf) where lam = 0 (least squares needs "
            f"n >= d = {problem.d}), got n={n!r}"
        )
    off = 1.0 if check_ols(ols) == "exact" else 0.0  # E G^{-1} = Sigma^{-1}/(N - d - off)
    k = np.arange(1, generations + 1, dtype=np.float64)
    d, s2 = problem.d, float(problem.sigma2)
    n_ = np.where(ridge, d + 2.0, n_b).astype(np.float64)[..., None]  # ridge points: set below
    finite = n_ > d + off
    safe_n = np.where(finite, n_, d + off + 1.0)  # the edge points are set below
    if design == "fixed":
        value = s2 * d / (safe_n - d - off) * np.cumsum(1.0 / k**2)
    else:
        n_syn = safe_n if n_synthetic is None else float(n_synthetic)
        rows = safe_n + (k - 1) * n_syn
        block = np.where(k == 1, safe_n, n_syn)
        value = s2 * d * np.cumsum(block / (rows * (rows - d - off)), axis=-1)
    value = np.broadcast_to(value, n_.shape[:-1] + (generations,))
    edge = np.broadcast_to(~finite, value.shape)
    total = np.where(edge, np.inf if s2 > 0 else 0.0, value)
    status = np.where(edge & (s2 > 0), Status.THRESHOLD, Status.CONVERGED).astype(np.int32)
    zero = np.zeros_like(total)
    out = ErrorTerms(zero, total, zero.copy(), total, zero.copy(), status)
    out = with_fixed_ridge(out, problem, n_b, lam_b, generations, "accumulate")
    if throw:
        raise_if_failed(out, "ridge kappa", n=n_b[..., None], lam=lam_b[..., None])
    return out


def accumulate_ols_error(
    problem: Problem,
    n: int,
    generations: int,
    *,
    design: str = "fresh",
    n_synthetic: int | None = None,
) -> np.ndarray:
    """Exact finite-n accumulate loop for least squares, k = 1..G: ``accumulate_error`` at
    lam = 0 as an array (as ``replace_ols_error`` is to ``replace_error``).

    Fixed design: E_k = sigma^2 d/(n - d - 1) sum_{i <= k} 1/i^2; fresh design:
    E_k = sigma^2 d sum_{i <= k} n_i/(N_i (N_i - d - 1)), N_i = n + (i - 1) n_synthetic.

    Args:
      problem: gives d and sigma^2.  n: real rows, an integer > d + 1.
      generations: G, an integer >= 1.  design, n_synthetic: as ``accumulate_error``.

    Returns:
      Float64 array of shape (G,).

    Raises:
      ValueError: n <= d + 1 or not an integer, a bad design, a bad n_synthetic.

    Example:
      >>> import simcollapse as sc
      >>> prob = sc.Problem.isotropic(50, sigma2=1.0)
      >>> accumulate_ols_error(prob, 400, 3, design="fixed").round(4).tolist()
      [0.1433, 0.1791, 0.195]
    """
    check_range("n", n, problem.d + 1, low_open=True, integer=True)
    out = accumulate_error(problem, n, 0.0, generations, design=design, n_synthetic=n_synthetic,
                           ols="exact")  # fmt: skip
    return np.asarray(out.total)
