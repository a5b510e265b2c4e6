"""Scaling-law analysis: power laws with a floor, the worth of synthetic data, best model sizes.

Public API:
  fit_power_law, fit_curve, power_law, PowerLawFits, FitStatus  - E(n) = E_inf + A n^(-a)
  fit_joint_law, fit_collapse_law, joint_law, compute_optimal   - E + A x1^-alpha + B x2^-beta
  plateau_onset, plateau_onset_theory                           - where a curve meets its floor
  synthetic_worth, synthetic_worth_fitted                       - n_eff: E_clean(n_eff) = E_mix(n)
  optimal_width, optimal_ridge, frontier_keeps_floor            - m*(n), lam*(n), the frontier
  mean_se                                                       - mean +- SE over seeds
"""

from simcollapse.analysis.joint import (
    JointLawFits,
    compute_optimal,
    fit_collapse_law,
    fit_joint_law,
    joint_law,
)
from simcollapse.analysis.optimal import frontier_keeps_floor, optimal_ridge, optimal_width
from simcollapse.analysis.powerlaw import (
    FitStatus,
    PowerLawFits,
    fit_curve,
    fit_power_law,
    power_law,
)
from simcollapse.analysis.seeds import mean_se
from simcollapse.analysis.worth import (
    plateau_onset,
    plateau_onset_theory,
    synthetic_worth,
    synthetic_worth_fitted,
)

__all__ = [
    "FitStatus",
    "JointLawFits",
    "compute_optimal",
    "fit_collapse_law",
    "fit_joint_law",
    "joint_law",
    "PowerLawFits",
    "fit_curve",
    "frontier_keeps_floor",
    "optimal_ridge",
    "optimal_width",
    "plateau_onset",
    "plateau_onset_theory",
    "fit_power_law",
    "mean_se",
    "power_law",
    "synthetic_worth",
    "synthetic_worth_fitted",
]
