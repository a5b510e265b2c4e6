"""Result types shared by theory and simulation, so both can sit side by side in one table."""

from __future__ import annotations

import enum
from typing import Any, NamedTuple

import numpy as np

__all__ = ["ErrorTerms", "FixedPoint", "FixedPointError", "Status"]


class Status(enum.IntEnum):
    """Outcome of a fixed-point solve, stored per grid point.

    CONVERGED: the value is trusted. MAX_STEPS, NONFINITE, RESIDUAL: the solve failed (the value
    is not trusted; ``throw=True`` raises). THRESHOLD: the point lies exactly on an interpolation
    threshold of a ridgeless model (lam = 0 and n = d for ridge, n = min(m, d) for random
    projections, as many weighted rows as dimensions for weighted mixing), where the lam -> 0+
    limit of the error diverges: the value is ``inf`` by design, not a failed solve, so
    ``throw=True`` does not raise for it. A point on a threshold whose error stays finite (no
    noise and no synthetic term to amplify) keeps CONVERGED.
    """

    CONVERGED = 0
    MAX_STEPS = 1
    NONFINITE = 2
    RESIDUAL = 3  # stopped, but the equation's residual is far above rounding: not trusted
    THRESHOLD = 4  # lam = 0 on an interpolation threshold: the error is inf (a divergent limit)


class FixedPoint(NamedTuple):
    """A solved one-dimensional fixed point, as data (value, status, steps taken, residual)."""

    value: Any
    status: Any
    steps: Any
    residual: Any


class ErrorTerms(NamedTuple):
    """Test error on real data and its parts, one entry per grid point.

    total = bias + variance + zeta for theory; for simulation ``total`` is the mean over
    repetitions of the test error of each fitted model, and bias/variance/zeta the means of its
    three parts (their sum equals ``total`` up to cross terms whose mean is zero).

    Attributes:
      bias: error from the ridge (or projection) bias in learning w1.
      variance: error from the label noise sigma^2.
      zeta: the extra error that synthetic data adds (zero when p2 = 0).
      total: test error E_test = ||w_hat - w1||^2_Sigma (mean over repetitions for simulation).
      stderr: standard error of ``total`` over repetitions (0 for theory, NaN for one repetition).
      status: ``Status`` code per point (theory: the fixed point; simulation: always 0).
    """

    bias: Any
    variance: Any
    zeta: Any
    total: Any
    stderr: Any
    status: Any

    @property
    def converged(self) -> Any:
        """Boolean array: True where the point's fixed point converged."""
        return np.asarray(self.status) == Status.CONVERGED

    def to_dict(self) -> dict[str, np.ndarray]:
        """The fields as flat NumPy arrays (for a pandas DataFrame)."""
        return {k: np.ravel(np.asarray(v)) for k, v in self._asdict().items()}


class FixedPointError(RuntimeError):
    """Raised when a fixed point did not converge and the caller asked for ``throw=True``."""
