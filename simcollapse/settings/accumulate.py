"""Accumulate loop: generation k is fitted on all rows so far, the first n real."""

from __future__ import annotations

from typing import Any

import numpy as np

from simcollapse import theory as public
from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms
from simcollapse.settings._params import (
    DESIGN,
    GENERATIONS,
    LAM,
    N_SYNTHETIC,
    OLS,
    N,
    simulation_of,
)
from simcollapse.settings.base import Setting, SimulationOnly
from simcollapse.simulate import mixing
from simcollapse.theory.generations import check_design


def _theory(problem: Problem, p: dict[str, Any], throw: bool) -> ErrorTerms:
    """``theory.accumulate_error``: the exact least-squares value (lam = 0) in either design,
    ridge's deterministic equivalent (lam > 0) in the fixed design."""
    n, lam = np.broadcast_arrays(np.asarray(p["n"]), np.asarray(p["lam"]))
    if np.any((n < problem.d) & (lam == 0)):
        raise SimulationOnly(
            f"setting 'accumulate' is simulation only: least squares has an exact value only "
            f"for n >= d = {problem.d}"
        )
    return public.accumulate_error(problem, p["n"], p["lam"], p["generations"],
                                   design=p["design"], n_synthetic=p["n_synthetic"],
                                   ols=p["ols"], throw=throw)  # fmt: skip


def _fresh_ridge(p: dict[str, Any]) -> str | None:
    if p["design"] == "fresh" and ("lam" not in p or np.any(np.asarray(p["lam"]) != 0)):
        return (
            "no formula for ridge (lam > 0) in the fresh design (its generations fit nested Gram "
            "matrices); the fixed design has ridge's deterministic equivalent, least squares "
            "(lam = 0) has a theory in both, exact with ols='exact' (sc.theory.accumulate_error, "
            "accumulate_ols_error), and "
            "sc.theory.accumulate_reference gives the n >> d asymptote"
        )
    return None


SETTING = Setting(
    name="accumulate",
    doc="Generation k: ridge on all rows so far (the first n real, each later batch labelled "
    "by the generation before it). Fresh design: n_synthetic (default n) new rows per "
    "generation; fixed design: generation 1's n inputs relabelled. Theory: least squares "
    "(lam = 0) in both designs, the deterministic equivalent or, with ols='exact', the exact "
    "finite-n value; ridge (lam > 0) in the fixed design by the two-point deterministic "
    "equivalent of a polynomial in the resolvent. Trailing axis: generation.",
    params=(N, LAM, GENERATIONS, DESIGN, N_SYNTHETIC, OLS),
    theory_fn=_theory,
    simulate_fn=simulation_of(
        mixing.accumulate_error, ("n", "lam", "generations"), ("design", "n_synthetic")
    ),
    no_theory=_fresh_ridge,
    check=lambda p: check_design(p["design"], p["n"], p["n_synthetic"]),
    examples=(
        dict(n=[80, 120, 240], lam=[0.0, 0.0, 0.0], generations=3, ols="exact"),
        dict(n=[80, 120, 240], lam=[0.0, 0.0, 0.0], generations=3, design="fixed", ols="exact"),
        dict(n=[80, 120, 240], lam=[0.0, 0.0, 0.0], generations=3, n_synthetic=40, ols="exact"),
        dict(n=[40, 120, 240], lam=[1e-1, 1e-2, 1e-1], generations=3, design="fixed"),
    ),
    ridge_case=lambda n, lam: (dict(n=n, lam=lam, generations=1), 0.0),
)
