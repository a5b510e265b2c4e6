"""A stored sweep as a zarr array store, written one chunk at a time.

The grid of a sweep is a product of its axes, so its terms fit an N-dimensional array with
dimensions ``method`` and every axis that varies: ``export_zarr`` creates those arrays on disk
(NaN, status -1, where nothing is written), then reads the stored chunks one at a time, each
verified as ``sweep_files`` verifies it, and writes its rows at their grid coordinates. Memory
holds one chunk, whatever the grid; the result opens lazily in xarray (``xr.open_zarr``).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
from tqdm.auto import tqdm

from simcollapse.store import ResultStore
from simcollapse.sweep.axes import axis_names, grid_groups
from simcollapse.sweep.labelled import TERMS
from simcollapse.sweep.run import sweep_files
from simcollapse.sweep.spec import Sweep

__all__ = ["export_zarr", "grid_coordinates"]

CHUNK_ELEMENTS = 1 << 20  # about 8 MiB of float64 per zarr chunk
METHODS = {"theory": ("theory",), "simulate": ("simulate",), "both": ("theory", "simulate")}


def grid_coordinates(spec: Sweep) -> dict[str, np.ndarray]:
    """The dimensions of a sweep's array form: ``method``, then each axis with several values,
    in grid order, with its values sorted.

    Raises:
      ValueError: the spec zips axes (its points are a list, not a product grid).

    Example:
      >>> spec = Sweep(d=50, axes={"n": [100, 1000], "p2": [0.0, 0.1]}, method="theory")
      >>> {k: v.tolist() for k, v in grid_coordinates(spec).items()}
      {'method': ['theory'], 'n': [100.0, 1000.0], 'p2': [0.0, 0.1]}
    """
    if spec.is_generic:
        groups = grid_groups(axis_names(spec.setting_obj), spec.zipped)
        zipped = [g for g in groups if len(g) > 1]
        if zipped:
            raise ValueError(
                f"axes {', '.join(zipped[0])} are zipped, so the sweep's points are a list, not "
                "a grid: read it as a table (sweep_dataset) instead of an array"
            )
        names = [g[0] for g in groups]
    else:
        names = [*spec.outer_axes, *spec.inner_axes]
    coords: dict[str, np.ndarray] = {"method": np.asarray(METHODS[spec.method])}
    for name in names:
        values = np.unique(spec.values(name))
        if values.size > 1:
            coords[name] = values
    return coords


def _chunk_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Whole trailing dimensions while they fit CHUNK_ELEMENTS, then a part of the next."""
    out = [1] * len(shape)
    room = CHUNK_ELEMENTS
    for i in reversed(range(len(shape))):
        take = max(1, min(shape[i], room))
        out[i] = take
        room //= take
        if take < shape[i] or room <= 1:
            break
    return tuple(out)


def _indices(coords: dict[str, np.ndarray], table: Any) -> tuple[np.ndarray, ...]:
    """Each row's index along each dimension (an exact match of its value)."""
    out = []
    for name, values in coords.items():
        column = table.column(name).to_numpy(zero_copy_only=False)
        if name == "method":  # in run order, not sorted
            codes = {v: i for i, v in enumerate(values)}
            idx = np.asarray([codes.get(v, 0) for v in np.unique(column)])[
                np.unique(column, return_inverse=True)[1]
            ]
        else:
            column = column.astype(np.float64)
            idx = np.clip(np.searchsorted(values, column), 0, values.size - 1)
        if not np.array_equal(values[idx], column):
            raise ValueError(f"a stored row's {name} is not on the sweep's grid: rerun the sweep")
        out.append(idx)
    return tuple(out)


def export_zarr(
    store: ResultStore | str | os.PathLike[str],
    spec: Sweep,
    path: str | os.PathLike[str],
    *,
    progress: bool = False,
    overwrite: bool = False,
) -> Path:
    """Write a finished, stored sweep to a zarr store at ``path``, one stored chunk at a time.

    Arrays: bias, variance, zeta, total, stderr (float64, NaN where nothing was computed) and
    status (int32, -1 there) over ``grid_coordinates(spec)``, each with its dimension names, and
    one coordinate array per dimension; the metadata is consolidated, so
    ``xarray.open_zarr(path)`` opens it lazily as a Dataset.

    Args:
      store: the folder (or ResultStore) the sweep was run with.
      spec: the sweep.
      path: the zarr store to create (a folder, ``*.zarr`` by convention).
      progress: a progress bar over the chunks.
      overwrite: replace an existing store at ``path``.

    Returns:
      ``path``.

    Raises:
      ImportError: zarr is not installed (``pip install 'simcollapse[export]'``).
      FileNotFoundError: the sweep has not finished under ``store``.
      FileExistsError: ``path`` exists and ``overwrite`` is False.
      ValueError: a chunk fails verification, or the spec zips axes.

    Example:
      >>> import tempfile, xarray as xr
      >>> from simcollapse.sweep import Sweep, run_sweep
      >>> spec = Sweep(d=50, axes={"n": [100, 1000], "p2": [0.0, 0.1]}, method="theory")
      >>> out = tempfile.mkdtemp()
      >>> _ = run_sweep(spec, out)
      >>> ds = xr.open_zarr(export_zarr(out, spec, f"{out}/grid.zarr"))
      >>> ds.total.dims, bool(ds.total.sel({"method": "theory", "n": 1000, "p2": 0.1}) > 0)
      (('method', 'n', 'p2'), True)
    """
    try:
        import zarr  # noqa: PLC0415 - optional extra
    except ImportError as err:  # optional extra
        raise ImportError("export to zarr needs zarr: pip install 'simcollapse[export]'") from err

    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists: choose another path or pass overwrite=True")
    files = sweep_files(store, spec)
    coords = grid_coordinates(spec)
    dims = list(coords)
    shape = tuple(v.size for v in coords.values())
    chunks = _chunk_shape(shape)
    group = zarr.open_group(str(path), mode="w")
    for name, values in coords.items():
        text = name == "method"
        axis = group.create_array(name, shape=values.shape, dtype=str if text else "float64",
                                  dimension_names=[name])  # fmt: skip
        axis[:] = values.astype(object) if text else values
    arrays = {
        term: group.create_array(
            term,
            shape=shape,
            chunks=chunks,
            dtype="int32" if term == "status" else "float64",
            fill_value=-1 if term == "status" else np.nan,
            dimension_names=dims,
        )
        for term in TERMS
    }
    for file in tqdm(files, desc="export", unit="chunk", disable=not progress):
        table = pq.read_table(file, columns=[*dims, *TERMS])
        where = _indices(coords, table)
        for term, array in arrays.items():
            array.set_coordinate_selection(where, table.column(term).to_numpy())
        del table
    with warnings.catch_warnings():  # consolidated metadata is a zarr-python v3 extension
        warnings.simplefilter("ignore", zarr.errors.ZarrUserWarning)
        zarr.consolidate_metadata(str(path))
    return path
