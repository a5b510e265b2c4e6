"""Sweeps: declarative grids over (n, m, lam, p2, c2, sigma2), sharded, stored and resumable."""

from simcollapse.sweep.export import export_zarr
from simcollapse.sweep.labelled import to_xarray
from simcollapse.sweep.run import (
    describe_plan,
    iter_sweep,
    plan,
    run_sweep,
    sweep_dataset,
    sweep_files,
)
from simcollapse.sweep.spec import AXES, SpecError, Sweep, problem_of_row

__all__ = [
    "AXES",
    "SpecError",
    "Sweep",
    "describe_plan",
    "export_zarr",
    "iter_sweep",
    "plan",
    "problem_of_row",
    "run_sweep",
    "sweep_dataset",
    "sweep_files",
    "to_xarray",
]
