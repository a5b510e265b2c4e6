"""Theory: deterministic equivalents of the test error, in float64 (THEORY.md)."""

from simcollapse.theory.fixed_points import df1, df2, ridge_kappa, rp_theta, solve_monotone
from simcollapse.theory.random_projection import rp_error, rp_terms
from simcollapse.theory.ridge import isotropic_ridgeless_error, ridge_error, ridge_terms

__all__ = [
    "df1",
    "df2",
    "isotropic_ridgeless_error",
    "ridge_error",
    "ridge_kappa",
    "ridge_terms",
    "rp_error",
    "rp_terms",
    "rp_theta",
    "solve_monotone",
]
