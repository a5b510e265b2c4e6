"""Where a scaling curve meets its floor, and how much real data a synthetic-laden sample is worth.

For ridge regression on a mix with a fraction p2 of synthetic labels of quality c^2 (Theorem 1 of
Dohmatob et al., Strong Model Collapse, ICLR 2025; docs/theory.md), the error E_mix(n) tends to
the floor p2^2 c^2 at fixed d. The effective real sample size n_eff(n) solves

    E_clean(n_eff) = E_mix(n),

with E_clean the p2 = 0 curve. n_eff <= n, with equality when p2 = 0 or c^2 = 0; otherwise
n_eff(n) rises to a finite ceiling E_clean^{-1}(E_mix(inf)), which for ridgeless regression is
E_clean^{-1}(p2^2 c^2) (isotropic: d + sigma^2 d / (p2^2 c^2), from Corollary 1).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from simcollapse._validate import check_common, check_range
from simcollapse.analysis._solvers import bisect_decreasing
from simcollapse.problem import Problem
from simcollapse.theory.ridge import ridge_terms

__all__ = ["plateau_onset", "plateau_onset_theory", "synthetic_worth", "synthetic_worth_fitted"]

N_LIMIT = 1e15  # "n -> infinity" for the ceiling: far beyond any d of a dense spectrum


def plateau_onset(e_inf: Any, amp: Any, a: Any, within: float = 0.1) -> np.ndarray:
    """Smallest x where a fitted E = E_inf + A x^-a is within a factor (1 + within) of E_inf.

    A x^-a = within E_inf  gives  x = (A / (within E_inf))^(1/a); inf where E_inf = 0.

    Args:
      e_inf, amp, a: fitted parameters (arrays broadcast; e.g. columns of ``fit_power_law``).
      within: relative distance to the floor, > 0.

    Returns:
      Float64 array of onsets.

    Example:
      >>> float(plateau_onset(0.01, 1.0, 1.0, within=0.1))
      1000.0
    """
    check_range("within", within, 0.0, low_open=True)
    e_inf, amp, a = (np.asarray(v, dtype=np.float64) for v in (e_inf, amp, a))
    with np.errstate(divide="ignore"):
        return np.where(e_inf > 0, (amp / (within * e_inf)) ** (1.0 / a), np.inf)


def _lower_end(problem: Problem, lam: float) -> float:
    """Left end of the n bracket: just past the interpolation threshold n = d.

    Beyond it the clean ridge curve decreases in n (for lam = 0 it is infinite at n = d; a small
    lam leaves a bump there), so the bisection has a single crossing.
    """
    return problem.d * (1.0 + 1e-6)


@jax.jit
def _ridge_total(prob: Problem, n: jax.Array, lam: jax.Array, p2: jax.Array) -> jax.Array:
    return ridge_terms(prob, n, lam, p2).total


@jax.jit
def _clean_root(
    prob: Problem, lam: jax.Array, target: jax.Array, log_lo: jax.Array, log_hi: jax.Array
) -> jax.Array:
    def clean(log_n: jax.Array) -> jax.Array:
        n = jnp.exp(log_n)
        return _ridge_total(prob, n, jnp.broadcast_to(lam, n.shape), 0.0)

    return jnp.exp(bisect_decreasing(clean, target, log_lo, log_hi))


def _clean_inverse(problem: Problem, lam: float, target: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """n in [threshold, hi] with E_clean(n) = target (bisection in log n, float64)."""
    log_lo = np.full(hi.shape, np.log(_lower_end(problem, lam)))
    with jax.enable_x64(True):
        root = _clean_root(
            problem,
            jnp.asarray(lam, jnp.float64),
            jnp.asarray(target),
            jnp.asarray(log_lo),
            jnp.log(jnp.asarray(hi)),
        )
        return np.asarray(root)


def plateau_onset_theory(problem: Problem, p2: Any, lam: float = 0.0) -> np.ndarray:
    """n where the clean part of the ridge error equals the floor: E_clean(n) = p2^2 c^2.

    Beyond it the synthetic floor dominates the error. inf where p2 c^2 = 0 (no floor).

    Args:
      problem: the spectrum, teacher, shift (c^2 = problem.c2) and noise.
      p2: synthetic fraction(s) in [0, 1].
      lam: ridge penalty >= 0 (lam = 0: min-norm interpolator; n beyond the threshold d).

    Returns:
      Float64 array with the shape of p2.

    Example:
      >>> prob = Problem.isotropic(100, c2=1.0, sigma2=1.0)
      >>> float(np.round(plateau_onset_theory(prob, 0.1), 3))  # d + sigma^2 d / (p2^2 c^2)
      10100.0
    """
    check_common(problem, p2=p2, lam=lam)
    p2 = np.asarray(p2, dtype=np.float64)
    floor = np.atleast_1d(p2**2 * float(problem.c2))
    onset = _clean_inverse(
        problem, lam, np.where(floor > 0, floor, 1.0), np.full(floor.shape, N_LIMIT)
    )
    return np.where(floor > 0, onset, np.inf).reshape(p2.shape)


def synthetic_worth(problem: Problem, n: Any, p2: Any, lam: float = 0.0) -> pd.DataFrame:
    """The effective real sample size n_eff(n) of n mixed samples, its ratio and its ceiling.

    n_eff solves E_clean(n_eff) = E_mix(n) on the ridge theory (Theorem 1), by bisection in
    log n on [d, n]; the ceiling is n_eff at n = 1e15 (inf where p2 c^2 = 0).

    Args:
      problem: the spectrum, teacher, shift and noise.
      n: sample size(s) > d (past the interpolation threshold, where E_clean decreases).
      p2: synthetic fraction(s) in [0, 1], broadcasting against n.
      lam: ridge penalty >= 0.

    Returns:
      DataFrame with columns n, p2, c2, E_mix, n_eff, ratio (n_eff / n), ceiling.

    Raises:
      ValueError: n, p2 or lam out of range (n <= d).

    Example:
      >>> prob = Problem.isotropic(100, c2=1.0, sigma2=1.0)
      >>> w = synthetic_worth(prob, [1e3, 1e6], 0.0)
      >>> np.allclose(w.n_eff, w.n, rtol=1e-9)
      True
    """
    check_common(problem, n=n, p2=p2, lam=lam)
    check_range("n", n, problem.d, low_open=True)
    n, p2 = (np.ravel(v) for v in np.broadcast_arrays(np.asarray(n, float), np.asarray(p2, float)))
    c2 = float(problem.c2)
    with jax.enable_x64(True):
        lam_b, p2_b = jnp.full(n.shape, lam), jnp.asarray(p2)
        e_mix = np.asarray(_ridge_total(problem, jnp.asarray(n), lam_b, p2_b))
        e_inf = np.asarray(_ridge_total(problem, jnp.full(n.shape, N_LIMIT), lam_b, p2_b))
    n_eff = _clean_inverse(problem, lam, e_mix, n)
    ceiling = _clean_inverse(problem, lam, e_inf, np.full(n.shape, N_LIMIT))
    ceiling = np.where(p2 * c2 > 0, ceiling, np.inf)
    return pd.DataFrame(
        {
            "n": n,
            "p2": p2,
            "c2": c2,
            "E_mix": e_mix,
            "n_eff": n_eff,
            "ratio": n_eff / n,
            "ceiling": ceiling,
        }
    )


def synthetic_worth_fitted(clean: Any, mixed: Any, n: Any) -> pd.DataFrame:
    """n_eff(n) from two fitted power laws: E_clean(n_eff) = E_mix(n).

    With clean (E0, A0, a0) and mixed (E1, A1, a1):
    n_eff = (A0 / (E_mix(n) - E0))^(1/a0) where E_mix(n) > E0 (else inf), and the ceiling
    (A0 / (E1 - E0))^(1/a0) where E1 > E0 (else inf).

    Args:
      clean, mixed: fitted parameters with fields E_inf, A, a (rows of ``fit_power_law``'s fits,
        dicts, or DataFrames aligned row by row).
      n: sample size(s) at which the mixed curve is evaluated.

    Returns:
      DataFrame with columns n, E_mix, n_eff, ratio, ceiling.

    Example:
      >>> clean = {"E_inf": 0.0, "A": 1.0, "a": 1.0}
      >>> mixed = {"E_inf": 0.01, "A": 1.0, "a": 1.0}
      >>> synthetic_worth_fitted(clean, mixed, 100.0).n_eff.round(6).tolist()
      [50.0]
    """
    e0, a0_amp, a0 = (np.asarray(clean[k], dtype=np.float64) for k in ("E_inf", "A", "a"))
    e1, a1_amp, a1 = (np.asarray(mixed[k], dtype=np.float64) for k in ("E_inf", "A", "a"))
    n = np.asarray(n, dtype=np.float64)
    e_mix = e1 + a1_amp * n**-a1
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = e_mix - e0
        n_eff = np.where(gap > 0, (a0_amp / gap) ** (1.0 / a0), np.inf)
        ceiling = np.where(e1 > e0, (a0_amp / (e1 - e0)) ** (1.0 / a0), np.inf)
    shape = np.broadcast_shapes(n.shape, n_eff.shape)
    cols = {"n": n, "E_mix": e_mix, "n_eff": n_eff, "ratio": n_eff / n, "ceiling": ceiling}
    return pd.DataFrame({k: np.ravel(np.broadcast_to(v, shape)) for k, v in cols.items()})
