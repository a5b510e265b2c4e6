"""Simulation: Monte Carlo test errors with the same signatures and result type as the theory."""

from simcollapse.simulate.random_projection import rp_error
from simcollapse.simulate.ridge import ridge_error

__all__ = ["ridge_error", "rp_error"]
