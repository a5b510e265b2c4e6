"""Simulation: Monte Carlo test errors with the same signatures and result type as the theory."""

from simcollapse.simulate.mixing import (
    accumulate_error,
    accumulate_subsample_error,
    iterative_error,
    replace_error,
    weighted_error,
)
from simcollapse.simulate.random_projection import rp_error
from simcollapse.simulate.ridge import ridge_error
from simcollapse.simulate.verified import verified_error

__all__ = [
    "accumulate_error",
    "accumulate_subsample_error",
    "iterative_error",
    "replace_error",
    "ridge_error",
    "rp_error",
    "verified_error",
    "weighted_error",
]
