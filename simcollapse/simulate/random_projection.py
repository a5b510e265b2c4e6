"""Monte Carlo test error of random-projection models trained on a real/synthetic mix."""

from __future__ import annotations

from typing import Any

from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms
from simcollapse.simulate.driver import MonteCarlo
from simcollapse.simulate.grid import run_grid

__all__ = ["rp_error"]


def rp_error(
    problem: Problem,
    n: Any,
    m: Any,
    lam: Any,
    p2: Any,
    key: Any,
    reps: int,
    *,
    dtype: str = "float64",
    batch: int | None = None,
    estimator: str = "plain",
) -> ErrorTerms:
    """Monte Carlo counterpart of ``theory.rp_error``: same arguments, same result type.

    As ``simulate.ridge_error``, with the model f(x) = v' S x: S (m x d) with i.i.d. N(0, 1/d)
    entries drawn per repetition, v fitted by ridge on the features Z = X S'
    (v = (Z'Z/n + lam I)^{-1} Z'y/n, min-norm at lam = 0), predictor S' v in input space. One
    eigendecomposition per (repetition, n, m) serves every (lam, p2) point; X is the same for every
    width m at a given (key, n, repetition).

    Args:
      problem: the spectrum, teacher, shift and noise.
      n, m: sample size(s) and width(s), integers >= 1.  lam: >= 0.  p2: in [0, 1].
      key: a ``jax.random`` key or an int seed.  reps: repetitions.
      dtype: "float64" or "float32".  batch: repetitions vmapped at once (None: as in
        ``simulate.ridge_error``).
      estimator: "plain" (default) or "conditional" (X and S sampled, eps and delta
        integrated out), as in ``simulate.ridge_error``. With m well below d the projection S
        carries much of the spread and a conditional draw costs several plain ones, so plain is
        the cheaper for a given precision unless p2 is large.

    Returns:
      ErrorTerms with the broadcast shape of (n, m, lam, p2).

    Example:
      >>> import numpy as np, simcollapse as sc
      >>> prob = sc.Problem.isotropic(20, c2=1.0, sigma2=0.5)
      >>> mc = sc.simulate.rp_error(prob, n=100, m=40, lam=1e-2, p2=[0.0, 0.2], key=0, reps=32)
      >>> th = sc.theory.rp_error(prob, n=100, m=40, lam=1e-2, p2=[0.0, 0.2])
      >>> gap = np.abs(mc.total - th.total)  # theory: an equivalent, a few % off at d = 20
      >>> mc.total.shape, bool(np.all(gap < 4 * mc.stderr + 0.05 * th.total))
      ((2,), True)
    """
    return run_grid(
        problem, n, m, lam, p2, MonteCarlo(key, reps, dtype, batch), estimator=estimator
    )
