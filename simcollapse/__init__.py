"""simcollapse: model collapse in scaling laws, theory and simulation side by side.

Implements the Strong Model Collapse paper (Dohmatob, Feng, Subramonian, Kempe, ICLR 2025,
arXiv 2410.04840): test error of models trained on a mix of real and synthetic data.

Public API:
  Problem, ErrorTerms, Status, FixedPoint, FixedPointError  - the problem and the result types
  Problem.from_covariance / from_data, data_problem         - problems built from real data
  theory.ridge_error / rp_error / isotropic_ridgeless_error - deterministic equivalents (float64)
  simulate.ridge_error / rp_error                           - Monte Carlo, same signatures
  settings.get(name), Setting, MonteCarlo                   - one protocol for every setting
                                                              (mixing strategies, loops: Section 5)
  Sweep, run_sweep, ResultStore                             - grids, stored and resumable
  iter_sweep, sweep_dataset, export_zarr                    - a sweep chunk by chunk; a stored one,
                                                              verified, as a lazy dataset or a
                                                              zarr grid written chunk by chunk
  cached_run, StoreWarning                                  - cached experiments; a healed store
  optimal_weight                                            - best loss weight on the real rows
                                                              when each generation refits on its
                                                              own labels (tends to 1/phi)
  analysis.fit_power_law / synthetic_worth / optimal_width  - fitted floors and exponents, n_eff,
                                                              best width (docs/analysis.md)
  figures, neural, lm                                       - figures, MNIST and language-model
                                                              experiments (imported on first use)
  enable_compilation_cache                                  - opt-in on-disk cache of compiled
                                                              programs (the CLI turns it on)
  keys.as_key / as_seed                                     - randomness: every function that
                                                              draws takes key= (an int or a
                                                              jax.random key)
"""

from __future__ import annotations

import importlib
from typing import Any

from simcollapse import analysis, keys, settings, simulate, theory
from simcollapse._cache import compilation_cache_dir, enable_compilation_cache
from simcollapse._version import __version__
from simcollapse.data_problems import (
    DataProblem,
    DroppedDirectionsWarning,
    data_problem,
    problem_from_covariance,
)
from simcollapse.grid import grid
from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms, FixedPoint, FixedPointError, Status
from simcollapse.settings import Setting, SimulationOnly
from simcollapse.simulate.driver import MonteCarlo
from simcollapse.store import ResultStore, StoreWarning, cached_run
from simcollapse.sweep import SpecError, Sweep, export_zarr, iter_sweep, run_sweep, sweep_dataset
from simcollapse.theory.golden import optimal_weight

_LAZY = ("figures", "neural", "lm")

__all__ = [
    "DataProblem",
    "DroppedDirectionsWarning",
    "ErrorTerms",
    "FixedPoint",
    "FixedPointError",
    "MonteCarlo",
    "Problem",
    "ResultStore",
    "Setting",
    "SimulationOnly",
    "SpecError",
    "Status",
    "StoreWarning",
    "Sweep",
    "__version__",
    "analysis",
    "cached_run",
    "compilation_cache_dir",
    "data_problem",
    "grid",
    "enable_compilation_cache",
    "figures",
    "lm",
    "neural",
    "optimal_weight",
    "export_zarr",
    "iter_sweep",
    "keys",
    "problem_from_covariance",
    "run_sweep",
    "settings",
    "simulate",
    "sweep_dataset",
    "theory",
]


def __getattr__(name: str) -> Any:
    """Import the heavier subpackages (matplotlib, flax) only when they are first used."""
    if name in _LAZY:
        module = importlib.import_module(f"simcollapse.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'simcollapse' has no attribute {name!r}")
