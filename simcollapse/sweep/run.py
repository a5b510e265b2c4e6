"""Run a sweep: plan chunks from a memory budget, compute them sharded over devices, store them.

Data flow: ``Sweep`` -> ``plan`` (chunks, ``sweep.planning``) -> per chunk, through the setting's
``fast_path`` when it declares one: theory (fixed points solved once per point of its solve axes,
e.g. (n, m, lam), then combined with every c2, sigma2, p2) or simulation (one factorisation per
draw and shape, e.g. (n, m), every (lam, p2) from it); else point by point (``sweep.generic``)
-> a tidy DataFrame per chunk written atomically under
``DIR/sweeps/<spec hash>/`` -> the concatenated table.

A rerun skips every finished chunk (the file exists), so a sweep killed at any moment loses at most
the chunk in flight; ``force`` recomputes. A changed spec has a new hash, hence a new folder: old
and new results never mix.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jax
import numpy as np
import pandas as pd
import pyarrow.dataset as ds
from tqdm.auto import tqdm

from simcollapse._validate import machine_memory
from simcollapse._version import __version__
from simcollapse.provenance import add_provenance, library_version
from simcollapse.results import ErrorTerms, Status
from simcollapse.simulate import driver, engine
from simcollapse.store import (
    ResultStore,
    StoreReadError,
    StoreWarning,
    atomic_write_parquet,
    canonical_json,
    config_hash,
    read_verified,
    stored_key,
    sweep_debris,
    temporary_path,
)
from simcollapse.sweep import devices as dev
from simcollapse.sweep import generic
from simcollapse.sweep.axes import grid_points
from simcollapse.sweep.planning import (
    Chunk,
    chunk_cost,
    default_memory_budget,
    describe_plan,
    outer_grid,
    plan,
    shapes,
)
from simcollapse.sweep.spec import Sweep

__all__ = [
    "Chunk",
    "check_table_fits",
    "default_memory_budget",
    "describe_plan",
    "iter_sweep",
    "plan",
    "run_sweep",
    "sweep_dataset",
    "sweep_files",
]

TERMS = ("bias", "variance", "zeta", "total", "stderr", "status")


# ---------------------------------------------------------------------------- computing


def _theory_chunk(spec: Sweep, chunk: Chunk) -> pd.DataFrame:
    """A range of solve points of the fast path (``Setting.fast_path``), each solved once, then
    recombined with every value of the other grid axes, c2 and sigma2."""
    fast = spec.fast_path
    setting = spec.setting_obj
    grid = outer_grid(spec)
    start, stop = chunk.outer
    outer = {a: v[start:stop] for a, v in grid.items()}
    inner = fast.recombined(setting)
    inner_values = tuple(spec.values(a) for a in inner)
    # Unit problem: zeta is linear in the shift (c2) and variance in sigma2; the fixed points
    # depend on neither, so they are solved once per outer point.
    unit = spec.problem(c2=1.0, sigma2=1.0)

    # The declared outer function (module level), the problem and the other axes' values passed
    # as a constant: one compile per shape serves every chunk and every later sweep.
    with jax.enable_x64(True):
        out = dev.sharded_points(fast.outer, *outer.values(), const=(unit, *inner_values))
    size = int(np.prod([v.size for v in inner_values]))
    out = ErrorTerms(*(np.asarray(v).reshape(-1, size) for v in out))
    sig = spec.values("sigma2")
    if spec.teacher_n0 is None:  # label shift: zeta is linear in c2
        zeta_scale = spec.values("c2")[:, None] * np.ones((1, sig.size))
        c2_reported = zeta_scale
    else:  # the teacher's shift is proportional to sigma2
        zeta_scale = np.ones((1, 1)) * sig[None, :]
        c2_reported = float(unit.c2) * zeta_scale
    terms = fast.recombine(out, zeta_scale, sig)._asdict()
    shape = terms["total"].shape  # (outer, c2, sigma2, inner)
    coords = {a: np.broadcast_to(v[:, None, None, None], shape) for a, v in outer.items()}
    coords["c2"] = np.broadcast_to(c2_reported[None, :, :, None], shape)
    coords["sigma2"] = np.broadcast_to(sig[None, None, :, None], shape)
    for a, v in grid_points(inner, dict(zip(inner, inner_values, strict=True))).items():
        coords[a] = np.broadcast_to(v[None, None, None, :], shape)
    return frame(spec, "theory", coords, terms)


def _simulate_chunk(spec: Sweep, chunk: Chunk) -> pd.DataFrame:
    """One simulated shape of the fast path (n, and m for random projections): one
    factorisation per draw serves every point of the other grid axes."""

    fast = spec.fast_path
    setting = spec.setting_obj
    shape = {a: int(v) for a, v in zip(fast.shape_axes, shapes(spec)[chunk.outer[0]], strict=True)}
    dt = driver.DTYPES[spec.dtype]
    names = tuple(a for a in setting.axes if a not in fast.shape_axes)
    points = grid_points(names, {a: spec.values(a) for a in names})
    size = next(iter(points.values())).size if points else 1
    frames = []
    for c2 in spec.values("c2"):
        for sigma2 in spec.values("sigma2"):
            prob = spec.problem(c2=c2, sigma2=sigma2)
            if fast.kernel is None:  # the setting's own Monte Carlo at the shape's points
                mc = driver.MonteCarlo(spec.seed, spec.reps, spec.dtype)
                out = setting.simulate(prob, mc, **{a: float(v) for a, v in shape.items()},
                                       **points)  # fmt: skip
                terms = {k: np.asarray(v) for k, v in out._asdict().items()}
            else:
                with jax.enable_x64(spec.dtype == "float64"):  # the kernel's inputs too
                    arrays, static = driver.prepared_inputs(fast.prepare(shape, points, dt))
                    static = {**static, "dtype": dt, "prng": engine.check_prng(None)}
                    per_draw = driver.map_draws(
                        fast.kernel, prob, jax.random.key(spec.seed), arrays, n=shape["n"],
                        reps=spec.reps, static=static,
                    )  # fmt: skip
                summary = driver.summarise(per_draw)
                terms = {k: summary[k] for k in ("bias", "variance", "zeta", "total", "stderr")}
            coords = {a: np.full(size, float(v)) for a, v in shape.items()}
            coords.update(points)
            if fast.kernel is not None and fast.status is not None:
                terms["status"] = fast.status(prob.d, coords)
            elif fast.kernel is not None:
                terms["status"] = np.full(size, Status.CONVERGED, np.int32)
            coords["c2"] = np.full(size, float(prob.c2))
            coords["sigma2"] = np.full(size, float(sigma2))
            frames.append(frame(spec, "simulate", coords, terms))
    return pd.concat(frames, ignore_index=True)


def frame(
    spec: Sweep, method: str, coords: dict[str, np.ndarray], terms: dict[str, np.ndarray]
) -> pd.DataFrame:
    """The stored rows of one piece of a sweep: ``method``, the grid coordinates (n, m, lam, p2
    first, c2 and sigma2 last), the error terms, then the sweep's fixed values (problem, run,
    setting and its options, spec hash, version) and the provenance columns."""
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


# ---------------------------------------------------------------------------- chunk identity


def chunk_columns(spec: Sweep) -> tuple[str, ...]:
    """The columns a stored chunk of ``spec`` must have to be reused: the method, the setting's
    grid axes and length (replace and accumulate have no p2), the terms and the spec hash."""
    setting = spec.setting_obj
    return ("method", *setting.axes, *setting.names("length"), *TERMS, "config_hash")


def _modules_of(setting: Any) -> list[str]:
    """The modules defining a setting's functions, and the functions they wrap: a partial's
    function and callable arguments (``from_terms`` binds the kernel and prepare so), a
    ``__wrapped__`` target."""
    fast = getattr(setting, "fast_path", None)
    todo = [
        setting.theory_fn, setting.terms_fn, setting.simulate_fn, setting.check,
        setting.no_theory, setting.ridge_case,
        *(() if fast is None else (fast.outer, fast.recombine, fast.kernel, fast.prepare)),
    ]  # fmt: skip
    names, seen = set(), set()
    while todo:
        fn = todo.pop()
        if fn is None or id(fn) in seen:
            continue
        seen.add(id(fn))
        if isinstance(fn, functools.partial):
            todo += [fn.func, *(a for a in (*fn.args, *fn.keywords.values()) if callable(a))]
            continue
        todo.append(getattr(fn, "__wrapped__", None))
        name = getattr(fn, "__module__", None)
        if callable(fn) and name:
            names.add(name)
    return sorted(names)


COMPUTING_CODE = ("theory", "simulate", "settings", "problem.py", "_moments.py", "families.py",
                  "data_problems.py", "_validate.py")  # fmt: skip


@functools.cache
def library_sources() -> tuple[Path, ...]:
    """The package's source files a setting's numbers may depend on (theory, simulation, the
    settings, problems and input checks), in a fixed order."""
    root = Path(__file__).resolve().parent.parent
    files: list[Path] = []
    for part in COMPUTING_CODE:
        path = root / part
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return tuple(f for f in files if f.is_file())


def setting_identity(setting: Any) -> dict[str, str]:
    """The setting as it enters a chunk's key: its name and its explicit ``version``, or else a
    fingerprint (SHA-256) of the source of the modules that define its functions and of every
    module of the library they may call (``library_sources``), so a setting whose formulas or
    helpers were edited is recomputed, not served its old numbers.

    Example:
      >>> import simcollapse as sc
      >>> identity = setting_identity(sc.settings.get("ridge"))
      >>> identity["name"], len(identity["code"])
      ('ridge', 16)
    """
    if getattr(setting, "version", None) is not None:
        return {"name": setting.name, "version": str(setting.version)}
    digest = hashlib.sha256()
    for source in library_sources():
        digest.update(source.read_bytes())
    for name in _modules_of(setting):
        module = sys.modules.get(name)
        source = getattr(module, "__file__", None)
        digest.update(name.encode())
        try:
            digest.update(Path(source).read_bytes())  # type: ignore[arg-type]
        except (OSError, TypeError):  # no source file: the loaded functions' bytecode
            for value in vars(module).values() if module else ():
                code = getattr(value, "__code__", None)
                if code is not None:
                    digest.update(code.co_code)
    return {"name": setting.name, "code": digest.hexdigest()[:16]}


def prng_impl() -> str:
    """The random generator ``jax.random.key`` uses now (``JAX_DEFAULT_PRNG_IMPL``)."""
    return str(jax.config.jax_default_prng_impl)


def sweep_key(spec: Sweep, plan_id: str) -> dict[str, Any]:
    """What every chunk of ``spec`` under plan ``plan_id`` depends on: the resolved spec, the
    setting's identity, the library version and the plan; simulated chunks add the JAX and
    jaxlib versions and the random generator (their draws depend on them)."""

    return {
        "spec": spec.to_dict(),
        "setting": setting_identity(spec.setting_obj),
        "library": __version__,
        "plan": plan_id,
        "random": {
            "jax": jax.__version__,
            "jaxlib": library_version("jaxlib"),
            "prng": prng_impl(),
        },
    }


def chunk_key(base: dict[str, Any], chunk: Chunk) -> dict[str, Any]:
    """The key of one chunk: ``sweep_key`` and the chunk's place in the plan (theory chunks
    leave the random generator out: they draw nothing)."""
    key = {k: v for k, v in base.items() if k != "random" or chunk.method == "simulate"}
    key["chunk"] = [chunk.method, chunk.index, list(chunk.outer), chunk.rows]
    return key


def compute_chunk(spec: Sweep, chunk: Chunk) -> pd.DataFrame:
    """One chunk: through the setting's fast path when it declares one, else point by point."""
    if spec.fast_path is not None:
        return COMPUTE[chunk.method](spec, chunk)
    pieces = generic.pieces(spec, chunk.method, chunk.outer[0])
    frames = [frame(spec, chunk.method, coords, terms) for coords, terms in pieces]
    return pd.concat(frames, ignore_index=True)


def chunk_path(folder: Path, chunk: Chunk, key: dict[str, Any]) -> Path:
    """A chunk's file, named by the hash of its full key: chunks of different sweeps, plans,
    settings or generators never share a name."""
    return folder / f"{chunk.method}-{config_hash(key)}-{chunk.index:05d}.parquet"


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

    The table is built in memory; one larger than the memory this machine has available is
    refused before any work, with a ValueError: store the sweep (``store``), then read its
    chunks lazily (``sweep_dataset``) or one at a time (``iter_sweep``).

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
    check_table_fits(spec, memory_budget)
    frames = [t for _, t in iter_sweep(spec, store, force=force, progress=progress,
                                       memory_budget=memory_budget)]  # fmt: skip
    return pd.concat(frames, ignore_index=True)


TABLE_ROW_BYTES = 400  # a row of the whole table in pandas (axes, terms, constant columns)


def host_memory() -> int:
    """Memory this process may use in bytes (``machine_memory``; 8 GiB when it cannot be told)."""
    have = machine_memory()
    return int(have) if np.isfinite(have) else 8 << 30


def check_table_fits(spec: Sweep, memory_budget: int | None = None) -> None:
    """A ValueError (one line) when the whole table of ``spec`` cannot be held in this
    machine's available memory (with room for the concatenation's copy).

    Need: 2 x rows x ``TABLE_ROW_BYTES``, against ``host_memory()``.

    Raises:
      ValueError: the table does not fit; the message says how to read the sweep lazily.

    Example:
      >>> from simcollapse.sweep import Sweep
      >>> check_table_fits(Sweep(d=50, axes={"n": [100, 1000]}, method="theory"))  # fits
      >>> def axis(start, stop, num):
      ...     return {"start": start, "stop": stop, "num": num}
      >>> huge = Sweep(d=50, method="theory", axes={"n": axis(100, 1000, 1000),
      ...              "lam": axis(0.1, 1, 1000), "p2": axis(0, 1, 1000), "c2": axis(0.5, 1, 100)})
      >>> check_table_fits(huge)  # doctest: +ELLIPSIS
      Traceback (most recent call last):
      ...
      ValueError: the whole table of ... GiB this machine has: store the sweep and read it ...
    """
    rows = sum(c.rows for c in plan(spec, memory_budget))
    need = 2 * rows * TABLE_ROW_BYTES
    have = host_memory()
    if need > have:
        raise ValueError(
            f"the whole table of {rows:,} rows needs about {need / 2**30:.1f} GiB, more than the "
            f"{have / 2**30:.1f} GiB this machine has: store the sweep and read it lazily "
            "(simcollapse sweep --out DIR, or iter_sweep / sweep_dataset)"
        )


def iter_sweep(
    spec: Sweep,
    store: ResultStore | str | os.PathLike[str] | None = None,
    *,
    force: bool = False,
    progress: bool = False,
    memory_budget: int | None = None,
) -> Iterator[tuple[Chunk, pd.DataFrame]]:
    """Evaluate ``spec`` chunk by chunk: yields (chunk, its table) in plan order, so a sweep
    of any size runs in the memory of one chunk. Arguments as ``run_sweep``.

    With a store, the finished sweep's folder gets ``manifest.json`` (its chunk files in plan
    order, with their rows): ``sweep_dataset`` opens them as one lazy pyarrow dataset.

    Example:
      >>> from simcollapse.sweep import Sweep, iter_sweep
      >>> spec = Sweep(d=50, axes={"n": [100, 1000], "p2": [0.0, 0.1]}, method="theory")
      >>> [len(table) for _, table in iter_sweep(spec)]
      [4]
    """

    budget = dev.agreed_budget(memory_budget)
    chunks = plan(spec, budget)
    plan_id = plan_id_of(chunks)
    base = sweep_key(spec, plan_id)
    dev.check_same(_plan_fields(spec, budget, plan_id, base))
    folder = None if store is None else sweep_folder(store, spec)
    if folder is not None:
        _write_spec(folder, spec)
        dev.check_shared_folder(folder)
    # The bar counts estimated work, not rows: a theory row costs microseconds, a simulated
    # one milliseconds, and the time left must say so.
    costs = [chunk_cost(spec, c) for c in chunks]
    with tqdm(
        total=sum(costs),
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}",
        disable=not progress,
        desc=f"sweep {spec.hash[:8]}",
    ) as bar:
        yield from _tracked(_chunks(spec, chunks, folder, base, force), bar, costs)
    if folder is not None and dev.is_writer():
        _write_manifest(folder, spec, chunks, base)


def _tracked(
    pieces: Iterator[tuple[Chunk, pd.DataFrame]], bar: Any, costs: list[float]
) -> Iterator[tuple[Chunk, pd.DataFrame]]:
    for chunk, table in pieces:
        bar.update(costs[chunk.index])
        yield chunk, table


def _plan_fields(spec: Sweep, budget: int, plan_id: str, base: dict[str, Any]) -> dict[str, Any]:
    """What every process of a multi-process run must agree on, by the option that sets it."""
    return {
        "the sweep spec (the TOML file)": spec.hash,
        "the memory budget (--memory-budget)": budget,
        "the chunk plan": plan_id,
        "the simcollapse version": base["library"],
        f"the code of setting {spec.setting!r}": base["setting"],
        "the JAX version": base["random"]["jax"],
        "the random generator (JAX_DEFAULT_PRNG_IMPL)": base["random"]["prng"],
    }


def _chunks(
    spec: Sweep, chunks: list[Chunk], folder: Path | None, base: dict[str, Any], force: bool
) -> Iterator[tuple[Chunk, pd.DataFrame]]:
    keys = [chunk_key(base, c) for c in chunks]
    paths = [
        None if folder is None else chunk_path(folder, c, k)
        for c, k in zip(chunks, keys, strict=True)
    ]
    # Which chunks are stored is decided by process 0 alone, from verified reads (footer, key,
    # checksums); the tables are dropped and read again when used, so that only one chunk's
    # table is in memory at a time, whatever the sweep's size.
    columns = chunk_columns(spec)
    valid = [
        p is not None and not force and dev.is_writer()
        and read_verified(p, rows=c.rows, columns=columns, key=k) is not None
        for c, k, p in zip(chunks, keys, paths, strict=True)
    ]  # fmt: skip
    have = dev.agree(np.array(valid, dtype=bool))
    for chunk, key, path, ok in zip(chunks, keys, paths, have, strict=True):
        table = _read_elsewhere(path, chunk, key, columns) if ok else None
        if table is None:
            table = _with_generator(compute_chunk(spec, chunk), chunk)
            if path is not None and dev.is_writer():
                atomic_write_parquet(table, path, key=key)
        yield chunk, table


def _with_generator(table: pd.DataFrame, chunk: Chunk) -> pd.DataFrame:
    """The random generator as a column: the draws of simulated rows depend on it."""
    table["prng_impl"] = prng_impl() if chunk.method == "simulate" else ""
    return table


def _read_elsewhere(
    path: Path, chunk: Chunk, key: dict[str, Any], columns: tuple[str, ...]
) -> pd.DataFrame:
    """A chunk process 0 has stored and verified, read (and verified) where it is used."""
    table = (
        read_verified(path, rows=chunk.rows, columns=columns, key=key) if path.exists() else None
    )
    if table is None:
        raise StoreReadError(
            f"cannot read {path}, which process 0 stored and verified: every process must see "
            "the same --out folder (a shared file system), and nothing else may change it"
        )
    return table


def plan_id_of(chunks: list[Chunk]) -> str:
    return config_hash([(c.method, c.outer) for c in chunks], length=8)


def _write_spec(folder: Path, spec: Sweep) -> None:
    """spec.json, written once and atomically (a private temporary file, renamed): identical
    sweeps started together each write the same text, and the last rename wins whole."""
    target = folder / "spec.json"
    if target.exists() or not dev.is_writer():
        if dev.is_writer():
            sweep_debris(folder)
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        sweep_debris(folder)
        tmp = temporary_path(target)
        try:
            tmp.write_text(json.dumps(spec.to_dict(), indent=1, default=str))
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                tmp.unlink()
    except OSError as err:
        raise OSError(f"cannot write the sweep store under {folder}: {err.strerror}") from err


MANIFEST = "manifest.json"


def _write_manifest(folder: Path, spec: Sweep, chunks: list[Chunk], base: dict[str, Any]) -> None:
    files = [
        {"file": chunk_path(folder, c, chunk_key(base, c)).name, "method": c.method,
         "rows": c.rows}
        for c in chunks
    ]  # fmt: skip
    manifest = {"spec": spec.hash, "plan": base["plan"], "rows": sum(c.rows for c in chunks),
                "chunks": files}  # fmt: skip
    tmp = temporary_path(folder / MANIFEST)
    tmp.write_text(json.dumps(manifest, indent=1))
    os.replace(tmp, folder / MANIFEST)


def sweep_files(store: ResultStore | str | os.PathLike[str], spec: Sweep) -> list[Path]:
    """The chunk files of a finished, stored sweep, in plan order (from its manifest), each
    verified as the runner verifies it before use (``read_verified``): the parquet footer, the
    key the chunk was written under (it must be this sweep's, under the manifest's plan, and hash
    to the file's name), its rows and columns, and every data page's checksum. This reads each
    chunk once, one at a time.

    A chunk that fails (a flipped bit, a truncated or foreign file) is moved aside to
    ``<name>.corrupt`` and a ValueError names it: run the sweep again with the same store
    (``simcollapse sweep --out DIR`` or ``run_sweep(spec, DIR)``), which recomputes only that
    chunk. Nothing is recomputed here.

    Raises:
      FileNotFoundError: the sweep has not finished under ``store`` (no manifest).
      ValueError: a chunk fails verification.

    Example:
      >>> import tempfile
      >>> from simcollapse.sweep import Sweep, run_sweep
      >>> spec = Sweep(d=50, axes={"n": [100, 1000], "p2": [0.0, 0.1]}, method="theory")
      >>> out = tempfile.mkdtemp()
      >>> _ = run_sweep(spec, out)
      >>> [p.name.split("-")[0] for p in sweep_files(out, spec)]
      ['theory']
    """
    folder = sweep_folder(store, spec)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except FileNotFoundError as err:
        raise FileNotFoundError(
            f"no finished sweep {spec.hash} under {folder} (no {MANIFEST}): run it first"
        ) from err
    files = [folder / entry["file"] for entry in manifest["chunks"]]
    columns = chunk_columns(spec)
    for path, entry in zip(files, manifest["chunks"], strict=True):
        _verify_stored_chunk(path, spec, manifest["plan"], entry["rows"], columns)
    return files


def _verify_stored_chunk(
    path: Path, spec: Sweep, plan_id: str, rows: int, columns: tuple[str, ...]
) -> None:
    """``read_verified`` on one chunk of a finished sweep, with the key it was written under
    checked against the sweep, the plan and the file's name; a ValueError when it fails."""

    heal = (
        "run the sweep again with the same store (simcollapse sweep --out DIR, or "
        "run_sweep(spec, DIR)) to recompute it"
    )
    if not path.exists():
        raise ValueError(f"stored sweep chunk {path} is missing: {heal}")
    try:
        key = stored_key(path)
    except Exception:  # noqa: BLE001 - an unreadable footer: read_verified says why below
        key = None
    ours = (
        isinstance(key, dict)
        and key.get("spec") == canonical_json(spec.to_dict())
        and key.get("plan") == plan_id
        and f"-{config_hash(key)}-" in path.name
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StoreWarning)
        # A key that is not this chunk's is checked against one it cannot match, so that the
        # file fails and is moved aside like any other bad chunk.
        table = read_verified(
            path, rows=rows, columns=columns, key=key if ours else {"sweep": spec.hash}
        )
    if table is None:
        why = next((str(w.message) for w in caught), f"{path} fails verification")
        why = why.split("; moved to")[0].split("; could not be moved")[0]
        raise ValueError(f"{why}; moved aside to {path.name}.corrupt: {heal}")


def sweep_dataset(store: ResultStore | str | os.PathLike[str], spec: Sweep) -> Any:
    """A finished, stored sweep as one lazy ``pyarrow.dataset.Dataset`` (nothing is kept in
    memory: filter, project, scan in batches, or hand it to DuckDB / polars).

    Every chunk is verified when the dataset is opened, as ``sweep_files`` does (key, rows,
    columns, page checksums; one chunk read at a time): a damaged chunk raises a ValueError
    naming it, and running the sweep again with the same store recomputes it.

    Raises:
      FileNotFoundError: the sweep has not finished under ``store``.
      ValueError: a chunk fails verification.

    Example:
      >>> import tempfile
      >>> from simcollapse.sweep import Sweep, run_sweep
      >>> spec = Sweep(d=50, axes={"n": [100, 1000], "p2": [0.0, 0.1]}, method="theory")
      >>> out = tempfile.mkdtemp()
      >>> _ = run_sweep(spec, out)
      >>> sweep_dataset(out, spec).count_rows()
      4
    """

    return ds.dataset([str(p) for p in sweep_files(store, spec)], format="parquet")
