"""Theory: deterministic equivalents of the test error, in float64 (docs/theory.md)."""

from simcollapse.theory._common import exact_terms, raise_if_failed, run_x64
from simcollapse.theory.fixed_points import df1, df2, ridge_kappa, rp_theta, solve_monotone
from simcollapse.theory.generations import (
    accumulate_error,
    accumulate_ols_error,
    accumulate_reference,
    replace_error,
    replace_ols_error,
    replace_terms,
)
from simcollapse.theory.golden import (
    golden_error,
    golden_reference,
    golden_terms,
    optimal_weight,
    optimal_weight_limit,
)
from simcollapse.theory.iterative import (
    isotropic_iterative_error,
    isotropic_iterative_limit,
    iterative_error,
    iterative_terms,
)
from simcollapse.theory.random_projection import rp_error, rp_terms
from simcollapse.theory.ridge import isotropic_ridgeless_error, ridge_error, ridge_terms
from simcollapse.theory.weighted import weighted_error, weighted_terms

__all__ = [
    "accumulate_error",
    "accumulate_ols_error",
    "accumulate_reference",
    "df1",
    "df2",
    "exact_terms",
    "golden_error",
    "golden_reference",
    "golden_terms",
    "isotropic_iterative_error",
    "isotropic_iterative_limit",
    "iterative_error",
    "iterative_terms",
    "optimal_weight",
    "optimal_weight_limit",
    "replace_error",
    "replace_ols_error",
    "replace_terms",
    "weighted_error",
    "weighted_terms",
    "isotropic_ridgeless_error",
    "ridge_error",
    "ridge_kappa",
    "raise_if_failed",
    "ridge_terms",
    "rp_error",
    "rp_terms",
    "rp_theta",
    "run_x64",
    "solve_monotone",
]
