"""Run a sweep: plan chunks from a memory budget, compute them sharded over devices, store them.

Data flow: ``Sweep`` -> ``plan`` (chunks, ``sweep.planning``) -> per chunk: theory (fixed points
solved once per (n, m, lam), then combined with every c2, sigma2, p2) or simulation (one
factorisation per draw and (n, m), every (lam, p2) from it) -> a tidy DataFrame per chunk written
atomically under
``DIR/sweeps/<spec hash>/`` -> the concatenated table.

A rerun skips every finished chunk (the file exists), so a sweep killed at any moment loses at most
the chunk in flight; ``force`` recomputes. A changed spec has a new hash, hence a new folder: old
and new results never mix.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jax
import numpy as np
import pandas as pd

from simcollapse._version import __version__
from simcollapse.provenance import add_provenance
from simcollapse.results import Status
from simcollapse.store import ResultStore, atomic_write_parquet, read_verified
from simcollapse.sweep import devices as dev
from simcollapse.sweep.planning import (
    Chunk,
    default_memory_budget,
    describe_plan,
    outer_grid,
    plan,
    shapes,
)
from simcollapse.sweep.spec import Sweep

__all__ = ["Chunk", "plan", "describe_plan", "run_sweep", "default_memory_budget"]

TERMS = ("bias", "variance", "zeta", "total", "stderr", "status")


# ---------------------------------------------------------------------------- computing


def _theory_chunk(spec: Sweep, chunk: Chunk) -> pd.DataFrame:
    from simcollapse.theory import ridge_terms, rp_terms

    grid = outer_grid(spec)
    start, stop = chunk.outer
    outer = {a: v[start:stop] for a, v in grid.items()}
    p2 = spec.values("p2")
    # Unit problem: zeta is linear in the shift (c2) and variance in sigma2; the fixed points
    # depend on neither, so they are solved once per outer point.
    unit = spec.problem(c2=1.0, sigma2=1.0)

    def fn(n: Any, m: Any, lam: Any) -> Any:
        if spec.model == "rp":
            return rp_terms(unit, n[:, None], m[:, None], lam[:, None], p2[None, :])
        return ridge_terms(unit, n[:, None], lam[:, None], p2[None, :])

    m_arr = outer.get("m", np.zeros_like(outer["n"]))
    with jax.enable_x64(True):
        out = dev.sharded_points(fn, outer["n"], m_arr, outer["lam"])
    bias, var_u, zeta_u, status = (
        np.asarray(getattr(out, k)) for k in ("bias", "variance", "zeta", "status")
    )
    sig = spec.values("sigma2")
    if spec.teacher_n0 is None:  # label shift: zeta is linear in c2
        zeta_scale = spec.values("c2")[:, None] * np.ones((1, sig.size))
        c2_reported = zeta_scale
    else:  # the teacher's shift is proportional to sigma2
        zeta_scale = np.ones((1, 1)) * sig[None, :]
        c2_reported = float(unit.c2) * zeta_scale
    shape = (bias.shape[0], *zeta_scale.shape, p2.size)  # (outer, c2, sigma2, p2)
    terms = {
        "bias": np.broadcast_to(bias[:, None, None, :], shape),
        "variance": np.broadcast_to(var_u[:, None, None, :] * sig[None, None, :, None], shape),
        "zeta": np.broadcast_to(zeta_u[:, None, None, :] * zeta_scale[None, :, :, None], shape),
    }
    terms["total"] = terms["bias"] + terms["variance"] + terms["zeta"]
    terms["stderr"] = np.zeros(shape)
    terms["status"] = np.broadcast_to(status[:, None, None, :], shape)
    coords = {a: np.broadcast_to(v[:, None, None, None], shape) for a, v in outer.items()}
    coords["c2"] = np.broadcast_to(c2_reported[None, :, :, None], shape)
    coords["sigma2"] = np.broadcast_to(sig[None, None, :, None], shape)
    coords["p2"] = np.broadcast_to(p2[None, None, None, :], shape)
    return frame(spec, "theory", coords, terms)


def _simulate_chunk(spec: Sweep, chunk: Chunk) -> pd.DataFrame:
    from simcollapse.simulate import driver, engine

    n, m = (int(v) for v in shapes(spec)[chunk.outer[0]])
    dt = driver.DTYPES[spec.dtype]
    static = {"m": m if spec.model == "rp" else None, "dtype": dt, "prng": engine.check_prng(None)}
    lam = spec.values("lam")
    p2 = spec.values("p2")
    lam_g, p2_g = (v.ravel() for v in np.meshgrid(lam, p2, indexing="ij"))
    n2 = engine.synthetic_rows(n, p2_g)
    frames = []
    for c2 in spec.values("c2"):
        for sigma2 in spec.values("sigma2"):
            prob = spec.problem(c2=c2, sigma2=sigma2)
            with jax.enable_x64(spec.dtype == "float64"):
                per_draw = driver.map_draws(
                    engine.ridge_kernel, prob, jax.random.key(spec.seed),
                    engine.ridge_arrays(lam_g, n2, dt), n=n, reps=spec.reps, static=static,
                )  # fmt: skip
            summary = driver.summarise(per_draw)
            terms = {k: summary[k] for k in ("bias", "variance", "zeta", "total", "stderr")}
            terms["status"] = np.full(lam_g.size, Status.CONVERGED, np.int32)
            coords = {"n": np.full(lam_g.size, float(n)), "lam": lam_g, "p2": p2_g}
            if spec.model == "rp":
                coords["m"] = np.full(lam_g.size, float(m))
            coords["c2"] = np.full(lam_g.size, float(prob.c2))
            coords["sigma2"] = np.full(lam_g.size, float(sigma2))
            frames.append(frame(spec, "simulate", coords, terms))
    return pd.concat(frames, ignore_index=True)


def frame(
    spec: Sweep, method: str, coords: dict[str, np.ndarray], terms: dict[str, np.ndarray]
) -> pd.DataFrame:
    data: dict[str, Any] = {"method": method}
    first, last = ("n", "m", "lam", "p2"), ("c2", "sigma2")
    order = [*first, *(a for a in coords if a not in first + last), *last]
    for a in order:
        if a in coords:
            data[a] = np.ravel(coords[a])
    for k in TERMS:
        data[k] = np.ravel(terms[k])
    table = pd.DataFrame(data)
    table["n"] = table["n"].astype(np.int64)
    if "m" in table:
        table["m"] = table["m"].astype(np.int64)
    table["status"] = table["status"].astype(np.int32)
    if spec.setting_obj.length in table:
        table[spec.setting_obj.length] = table[spec.setting_obj.length].astype(np.int64)
    fixed = {
        "model": spec.model,
        "family": spec.family,
        "d": spec.d,
        "alpha": spec.alpha,
        "source": spec.source,
        "signal": spec.signal,
        "teacher_n0": -1 if spec.teacher_n0 is None else spec.teacher_n0,
        "reps": spec.reps if method == "simulate" else 0,
        "seed": spec.seed,
        "dtype": spec.dtype if method == "simulate" else "float64",
        "config_hash": spec.hash,
        "version": __version__,
    }
    if spec.path is not None:
        fixed["problem_file"] = str(spec.path)
    if spec.is_generic:
        fixed["setting"] = spec.setting
        for name in spec.setting_obj.names("option"):
            value = spec.params.get(name, spec.setting_obj.param(name).default)
            fixed[name] = -1 if value is None else value
    for k, v in fixed.items():
        # a setting parameter named like a problem one (weighted's alpha) keeps its name; the
        # problem's value is stored as problem_<name>
        table[f"problem_{k}" if k in coords else k] = v
    return add_provenance(table)


COMPUTE = {"theory": _theory_chunk, "simulate": _simulate_chunk}


def chunk_columns(spec: Sweep) -> tuple[str, ...]:
    """The columns a stored chunk of ``spec`` must have to be reused: the method, the setting's
    grid axes and length (replace and accumulate have no p2), the terms and the spec hash."""
    setting = spec.setting_obj
    return ("method", *setting.axes, *setting.names("length"), *TERMS, "config_hash")


def _compute(spec: Sweep, chunk: Chunk) -> pd.DataFrame:
    if spec.is_generic:
        from simcollapse.sweep import generic

        return generic.chunk(spec, chunk.method, chunk.outer[0])
    return COMPUTE[chunk.method](spec, chunk)


def _chunk_path(folder: Path, chunk: Chunk, plan_id: str) -> Path:
    return folder / f"{chunk.method}-{plan_id}-{chunk.index:05d}.parquet"


def sweep_folder(store: ResultStore | str | os.PathLike[str], spec: Sweep) -> Path:
    """Where the chunks of ``spec`` live: ROOT/sweeps/<spec hash>/."""
    root = store.root if isinstance(store, ResultStore) else Path(store)
    return root / "sweeps" / spec.hash


def run_sweep(
    spec: Sweep,
    store: ResultStore | str | os.PathLike[str] | None = None,
    *,
    force: bool = False,
    progress: bool = False,
    memory_budget: int | None = None,
) -> pd.DataFrame:
    """Evaluate every grid point of ``spec`` and return the tidy table.

    Args:
      spec: the sweep.
      store: a ResultStore or folder to keep finished chunks in (resumable); None keeps nothing.
      force: recompute chunks already stored.
      progress: show a progress bar (points done, points per second, time left).
      memory_budget: bytes a chunk may use (default: half of the device's memory).

    Returns:
      One row per grid point and method: the axes (n, [m,] lam, p2, c2, sigma2), bias, variance,
      zeta, total, stderr, status, the fixed parameters, reps, seed, config_hash and version.
      Rows come in plan order (theory chunks, then simulation shapes), whatever was resumed.

    Example:
      >>> from simcollapse.sweep import Sweep, run_sweep
      >>> spec = Sweep(d=50, axes={"n": [100, 1000], "p2": [0.0, 0.1]}, method="theory")
      >>> table = run_sweep(spec)  # run_sweep(spec, "runs/") stores the chunks and resumes
      >>> len(table), bool((table.total > 0).all())
      (4, True)
    """
    from tqdm.auto import tqdm

    chunks = plan(spec, memory_budget)
    plan_id = _plan_id(chunks)
    folder = None if store is None else sweep_folder(store, spec)
    if folder is not None:
        _write_spec(folder, spec)
    from simcollapse.sweep.cost import chunk_cost

    frames: list[pd.DataFrame] = []
    # The bar counts estimated work, not rows: a theory row costs microseconds, a simulated
    # one milliseconds, and the time left must say so.
    costs = [chunk_cost(spec, c) for c in chunks]
    with tqdm(
        total=sum(costs),
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}",
        disable=not progress,
        desc=f"sweep {spec.hash[:8]}",
    ) as bar:
        for chunk, table in _chunks(spec, chunks, folder, plan_id, force):
            frames.append(table)
            bar.update(costs[chunk.index])
    return pd.concat(frames, ignore_index=True)


def _chunks(
    spec: Sweep, chunks: list[Chunk], folder: Path | None, plan_id: str, force: bool
) -> Iterator[tuple[Chunk, pd.DataFrame]]:
    paths = [None if folder is None else _chunk_path(folder, c, plan_id) for c in chunks]
    stored = [None] * len(chunks)
    if folder is not None and not force and dev.is_writer():
        # Verified reads: a truncated or foreign chunk is quarantined and recomputed.
        stored = [
            read_verified(p, rows=c.rows, columns=chunk_columns(spec))
            for c, p in zip(chunks, paths, strict=True)
        ]
    # Every process follows process 0's view of the store (they must compute the same chunks).
    have = dev.agree(np.array([t is not None for t in stored]))
    for chunk, path, table, ok in zip(chunks, paths, stored, have, strict=True):
        if ok:
            yield chunk, table if table is not None else _read_elsewhere(path)
            continue
        table = _compute(spec, chunk)
        if path is not None and dev.is_writer():
            atomic_write_parquet(table, path)
        yield chunk, table


def _read_elsewhere(path: Path) -> pd.DataFrame:
    """A chunk process 0 has stored, read by another process (empty if it cannot see it)."""
    table = read_verified(path) if path.exists() else None
    return pd.DataFrame() if table is None else table


def _plan_id(chunks: list[Chunk]) -> str:
    from simcollapse.store import config_hash

    return config_hash([(c.method, c.outer) for c in chunks], length=8)


def _write_spec(folder: Path, spec: Sweep) -> None:
    target = folder / "spec.json"
    if target.exists() or not dev.is_writer():
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / ".spec.json.tmp"
        tmp.write_text(json.dumps(spec.to_dict(), indent=1, default=str))
        os.replace(tmp, target)
    except OSError as err:
        raise OSError(f"cannot write the sweep store under {folder}: {err.strerror}") from err
