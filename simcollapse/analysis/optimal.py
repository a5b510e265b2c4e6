"""The best model size and ridge penalty under collapse, solved on the theory (continuous).

Random projections of width m (Theorem 2 of Dohmatob et al., Strong Model Collapse, ICLR 2025;
docs/theory.md): with lam -> 0 the error is infinite at the interpolation threshold m = n when
n < d, so m*(n) = argmin_m E(n, m) is searched in log m separately below and above m = n (an
even grid then golden section on each side) and the better side kept. The frontier
E*(n) = E(n, m*(n)) keeps the floor p2^2 c^2: a larger model mitigates the synthetic term but
does not remove it. The same search in log lam gives the best ridge penalty lam*(n).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from simcollapse._validate import check_common, check_range
from simcollapse.analysis._solvers import grid_golden
from simcollapse.problem import Problem
from simcollapse.theory.random_projection import rp_terms
from simcollapse.theory.ridge import ridge_terms

__all__ = ["frontier_keeps_floor", "optimal_ridge", "optimal_width"]

GAP = 1e-6  # relative distance kept from the threshold m = n
TIE_BREAK = 1e-9  # relative preference for smaller m per unit of log m


@jax.jit
def _best_width(prob: Problem, n: jax.Array, lam: jax.Array, p2: jax.Array,
                m_max: jax.Array) -> tuple[jax.Array, ...]:  # fmt: skip
    def error(log_m: jax.Array) -> jax.Array:
        shape = log_m.shape
        args = (jnp.broadcast_to(v, shape) for v in (n, jnp.exp(log_m), lam))
        return rp_terms(prob, *args, jnp.broadcast_to(p2, shape)).total

    def tie_broken(log_m: jax.Array) -> jax.Array:
        # Past n > d with lam = 0 every m >= d gives the same error (OLS): favour the smallest.
        return error(log_m) * (1.0 + TIE_BREAK * log_m)

    log_n = jnp.log(n)
    below = grid_golden(tie_broken, jnp.zeros_like(log_n), log_n + jnp.log1p(-GAP))
    above = grid_golden(tie_broken, log_n + jnp.log1p(GAP), jnp.log(m_max))
    take_below = below[1] <= above[1]
    log_m = jnp.where(take_below, below[0], above[0])
    return jnp.exp(log_m), error(log_m), take_below


def optimal_width(
    problem: Problem, n: Any, p2: Any, lam: float = 0.0, m_max: float | None = None
) -> pd.DataFrame:
    """m*(n) = argmin over real m in [1, m_max] of the random-projection error, and E*(n).

    Where the error is flat in m (ridgeless, n > d: every m >= d is ordinary least squares), m*
    is the smallest width that reaches the minimum (a relative tie-break of 1e-9 per unit of
    log m).

    Args:
      problem: the spectrum, teacher, shift and noise.
      n: sample size(s) > 1.  p2: synthetic fraction(s) in [0, 1], broadcasting against n.
      lam: ridge penalty >= 0 on the projected features.
      m_max: largest width searched (default 1e3 max(n, d)).

    Returns:
      DataFrame with columns n, p2, c2, m_star, E_star, side ("below" or "above" m = n).

    Raises:
      ValueError: n <= 1, p2 outside [0, 1], lam < 0, m_max <= n.

    Example:
      >>> prob = Problem.isotropic(50, c2=1.0, sigma2=0.5)
      >>> best = optimal_width(prob, [25.0, 400.0], 0.2)
      >>> bool(best.E_star.iloc[1] > 0.2**2 * 1.0)  # the frontier stays above the floor
      True
    """
    check_common(problem, n=n, p2=p2, lam=lam)
    check_range("n", n, 1.0, low_open=True)
    n, p2 = (np.ravel(v) for v in np.broadcast_arrays(np.asarray(n, float), np.asarray(p2, float)))
    if m_max is None:
        top = 1e3 * np.maximum(n, problem.d)
    else:
        check_range("m_max", m_max, float(n.max()), low_open=True)
        top = np.full(n.shape, float(m_max))
    with jax.enable_x64(True):
        m, e, below = (
            np.asarray(v)
            for v in _best_width(
                problem,
                jnp.asarray(n),
                jnp.asarray(lam, jnp.float64),
                jnp.asarray(p2),
                jnp.asarray(top),
            )
        )
    return pd.DataFrame(
        {
            "n": n,
            "p2": p2,
            "c2": float(problem.c2),
            "m_star": m,
            "E_star": e,
            "side": np.where(below, "below", "above"),
        }
    )


def frontier_keeps_floor(problem: Problem, p2: Any, lam: float = 0.0) -> pd.DataFrame:
    """Whether the best-width frontier E*(n) stops falling: E* at n = 1e11 and 1e12.

    A frontier that still follows a power law falls by a factor 10^a over that decade; one that
    keeps a floor does not (ratio below 1.5).

    Returns:
      DataFrame with columns p2, E_star_limit (E* at n = 1e12), floor (p2^2 c^2), keeps_floor.

    Example:
      >>> prob = Problem.isotropic(50, c2=1.0, sigma2=0.5)
      >>> frontier_keeps_floor(prob, [0.0, 0.2]).keeps_floor.tolist()
      [False, True]
    """
    p2 = np.ravel(np.asarray(p2, float))
    far = optimal_width(problem, np.repeat([1e11, 1e12], p2.size), np.tile(p2, 2), lam)
    e11, e12 = far.E_star.to_numpy().reshape(2, p2.size)
    return pd.DataFrame(
        {
            "p2": p2,
            "E_star_limit": e12,
            "floor": p2**2 * float(problem.c2),
            "keeps_floor": e11 / e12 < 1.5,
        }
    )


@jax.jit
def _best_ridge(
    prob: Problem, n: jax.Array, p2: jax.Array, lo: jax.Array, hi: jax.Array
) -> tuple[jax.Array, jax.Array]:
    def error(log_lam: jax.Array) -> jax.Array:
        shape = log_lam.shape
        lam = jnp.exp(log_lam)
        return ridge_terms(prob, jnp.broadcast_to(n, shape), lam, jnp.broadcast_to(p2, shape)).total

    log_lam, e = grid_golden(
        error, jnp.broadcast_to(jnp.log(lo), n.shape), jnp.broadcast_to(jnp.log(hi), n.shape)
    )
    return jnp.exp(log_lam), e


def optimal_ridge(
    problem: Problem, n: Any, p2: Any, lam_range: tuple[float, float] = (1e-8, 1e3)
) -> pd.DataFrame:
    """lam*(n) = argmin over lam in ``lam_range`` (log scale) of the ridge error (Theorem 1).

    Args:
      problem: the spectrum, teacher, shift and noise.
      n: sample size(s) >= 1.  p2: synthetic fraction(s) in [0, 1], broadcasting against n.
      lam_range: (low, high) with 0 < low < high.

    Returns:
      DataFrame with columns n, p2, c2, lam_star, E_star.

    Example:
      >>> prob = Problem.isotropic(100, c2=1.0, sigma2=1.0, signal=1.0)
      >>> best = optimal_ridge(prob, 50.0, 0.0)  # isotropic: lam* = sigma^2 d / (n signal)
      >>> round(float(best.lam_star.iloc[0]), 3)
      2.0
    """
    check_common(problem, n=n, p2=p2)
    low, high = lam_range
    check_range("lam_range", np.array([low, high]), 0.0, low_open=True)
    if not low < high:
        raise ValueError(f"lam_range must be (low, high) with low < high, got {lam_range!r}")
    n, p2 = (np.ravel(v) for v in np.broadcast_arrays(np.asarray(n, float), np.asarray(p2, float)))
    with jax.enable_x64(True):
        lam, e = (
            np.asarray(v)
            for v in _best_ridge(
                problem, jnp.asarray(n), jnp.asarray(p2), jnp.asarray(low), jnp.asarray(high)
            )
        )
    return pd.DataFrame({"n": n, "p2": p2, "c2": float(problem.c2), "lam_star": lam, "E_star": e})
