"""A stored chunk is used only when it is whole and is the chunk asked for.

Its name and its stored key carry the spec, the setting's code, the library and (for simulated
rows) the JAX versions and the random generator, and the plan; its data pages carry checksums.
A foreign, stale or damaged chunk is quarantined and recomputed; a chunk that cannot be read for
a passing reason (memory, permission) stops the run and is left alone.
"""

from __future__ import annotations

import errno
import importlib.util
import json
import os
import random
import sys
import threading
import time
import warnings
from pathlib import Path

import jax
import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from simcollapse import settings
from simcollapse.cli import main
from simcollapse.store import (
    TMP_FOLDER,
    StoreReadError,
    StoreWarning,
    atomic_write_parquet,
    read_verified,
)
from simcollapse.sweep import Sweep, iter_sweep, run_sweep, sweep_dataset, sweep_files
from simcollapse.sweep import run as sweep_run
from simcollapse.sweep.planning import ROW_BYTES

GRID = {"n": [30, 60], "lam": [0.0, 0.01], "p2": [0.0, 0.2]}


def _chunks(out: Path, spec: Sweep) -> list[Path]:
    return sorted((out / "sweeps" / spec.hash).glob("*.parquet"))


def test_a_same_shaped_chunk_of_another_sweep_is_recomputed(tmp_path: Path) -> None:
    a, b = Sweep(d=20, c2=0.5, axes=GRID), Sweep(d=20, c2=0.6, axes=GRID)
    first = run_sweep(a, tmp_path)
    run_sweep(b, tmp_path)
    (mine,), (foreign,) = _chunks(tmp_path, a), _chunks(tmp_path, b)
    assert mine.name != foreign.name  # the names differ already
    mine.write_bytes(foreign.read_bytes())  # and a copy under A's name is refused
    with pytest.warns(StoreWarning, match="another computation.*'spec'") as record:
        again = run_sweep(a, tmp_path)
    assert len(record) == 1
    pd.testing.assert_frame_equal(again, first)
    assert again.total.sum() != pytest.approx(run_sweep(b).total.sum())


def test_every_bit_flip_is_caught_or_harmless(tmp_path: Path) -> None:
    table = pd.DataFrame({"x": np.linspace(0.0, 1.0, 64), "n": np.arange(64), "m": ["theory"] * 64})
    clean = tmp_path / "clean.parquet"
    atomic_write_parquet(table, clean, key={"spec": "s"})
    data = clean.read_bytes()
    rng = random.Random(0)
    caught = harmless = 0
    for trial in range(300):
        offset = rng.randrange(len(data))
        flipped = bytearray(data)
        flipped[offset] ^= 1 << rng.randrange(8)
        path = tmp_path / f"f{trial}.parquet"
        path.write_bytes(bytes(flipped))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StoreWarning)
            got = read_verified(path, rows=64, columns=["x", "n", "m"], key={"spec": "s"})
        if got is None:
            caught += 1
            assert not path.exists()  # quarantined
        else:  # a flip in bytes that carry no value (statistics, padding) changes nothing
            pd.testing.assert_frame_equal(got, table)
            harmless += 1
    assert caught + harmless == 300 and caught > 200


def test_resume_under_another_generator_recomputes(tmp_path: Path) -> None:
    spec = Sweep(d=10, axes={"n": [20], "lam": [0.01], "p2": [0.0, 0.3]}, method="simulate",
                 reps=4)  # fmt: skip
    before = jax.config.jax_default_prng_impl
    threefry = run_sweep(spec, tmp_path)
    try:
        jax.config.update("jax_default_prng_impl", "rbg")
        resumed = run_sweep(spec, tmp_path)  # the threefry chunk is not served
        pure = run_sweep(spec)
    finally:
        jax.config.update("jax_default_prng_impl", before)
    pd.testing.assert_frame_equal(resumed, pure)
    assert set(resumed.prng_impl) == {"rbg"} and set(threefry.prng_impl) == {before}
    assert not np.allclose(resumed.total, threefry.total)
    assert len(_chunks(tmp_path, spec)) == 2  # one per generator, side by side


EDITABLE = """
import dataclasses
from simcollapse import settings

RIDGE = settings.get("ridge")
SCALE = {scale}


def terms(problem, *values):
    out = RIDGE.terms_fn(problem, *values)
    zeta = out.zeta * SCALE
    return out._replace(zeta=zeta, total=out.bias + out.variance + zeta)


# new terms: ridge's fast path (which computes its own) is dropped
SETTING = dataclasses.replace(RIDGE, name="edited_ridge", terms_fn=terms, fast_path=None)
"""


def _load_setting(folder: Path, scale: float) -> None:
    source = folder / "edited_setting.py"
    source.write_text(EDITABLE.format(scale=scale))
    spec = importlib.util.spec_from_file_location("edited_setting", source)
    module = importlib.util.module_from_spec(spec)
    sys.modules["edited_setting"] = module
    spec.loader.exec_module(module)
    settings.register(module.SETTING, replace=True)


def test_a_setting_edited_between_runs_is_recomputed(tmp_path: Path) -> None:
    grid = {"n": [40, 80], "lam": [0.01], "p2": [0.3]}
    try:
        _load_setting(tmp_path, 1.0)
        spec = Sweep(d=20, c2=0.5, setting="edited_ridge", axes=grid, method="theory")
        old = run_sweep(spec, tmp_path / "out")
        _load_setting(tmp_path, 0.5)  # the formula changed, the spec did not
        new = run_sweep(spec, tmp_path / "out")
    finally:
        settings.unregister("edited_ridge")
        sys.modules.pop("edited_setting", None)
    np.testing.assert_allclose(new.zeta, 0.5 * old.zeta, rtol=1e-12)
    assert (old.zeta > 0).all()


def test_an_edited_library_helper_changes_every_setting_identity(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A helper the setting calls (not only the module defining it) enters the fingerprint."""
    names = {(p.parent.name, p.name) for p in sweep_run.library_sources()}
    assert {("theory", "_common.py"), ("simulate", "engine.py"), ("settings", "base.py")} <= names
    helper = tmp_path / "_common.py"
    before = sweep_run.setting_identity(settings.get("ridge"))
    helper.write_text("# edited\n")
    sources = (*sweep_run.library_sources(), helper)
    monkeypatch.setattr(sweep_run, "library_sources", lambda: sources)
    assert sweep_run.setting_identity(settings.get("ridge")) != before


@pytest.mark.parametrize(
    "failure, cause",
    [(MemoryError(), "out of memory"),
     (PermissionError(errno.EACCES, "Permission denied"), "Permission denied")],
)  # fmt: skip
def test_a_transient_read_failure_stops_and_quarantines_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, failure: Exception, cause: str
) -> None:
    config = tmp_path / "s.toml"
    config.write_text('[problem]\nd = 20\n[run]\nmethod = "theory"\n[axes]\nn = [30, 60]\n')
    out = tmp_path / "out"
    assert main(["sweep", str(config), "--out", str(out), "--no-progress"]) == 0
    (chunk,) = out.glob("sweeps/*/theory-*.parquet")
    stored = chunk.read_bytes()

    def refuse(*args: object, **kwargs: object) -> None:
        raise failure

    monkeypatch.setattr(pq, "ParquetFile", refuse)
    capsys.readouterr()
    assert main(["sweep", str(config), "--out", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(chunk) in err[0] and cause in err[0], err
    assert chunk.read_bytes() == stored and not list(out.glob("sweeps/*/*.corrupt"))
    with pytest.raises(StoreReadError, match=cause):
        run_sweep(Sweep.from_toml(config), out)


def test_temporary_files_are_hidden_and_swept(tmp_path: Path) -> None:
    spec = Sweep(d=20, axes=GRID)
    run_sweep(spec, tmp_path)
    folder = tmp_path / "sweeps" / spec.hash
    host = __import__("socket").gethostname().replace("-", "_")
    dead = folder / TMP_FOLDER / f"{host}-999999999-abc.part"  # a writer killed mid-write
    dead.write_bytes(b"PAR1 half a chunk")
    legacy = folder / ".tmp-x1.parquet"  # what older versions left
    legacy.write_bytes(b"PAR1")
    os.utime(legacy, (time.time() - 3600,) * 2)
    live = folder / TMP_FOLDER / f"{host}-{os.getpid()}-def.part"  # a writer still running
    live.write_bytes(b"PAR1")
    run_sweep(spec, tmp_path)
    assert not dead.exists() and not legacy.exists() and live.exists()
    assert all(p.name.startswith("theory-") for p in folder.glob("*.parquet"))
    assert not list(folder.rglob("*.parquet.part"))


@pytest.mark.parametrize("pairs", [200])
def test_identical_sweeps_started_together_write_one_spec(tmp_path: Path, pairs: int) -> None:
    spec = Sweep(d=20, axes=GRID)
    errors: list[BaseException] = []

    def write(folder: Path, barrier: threading.Barrier) -> None:
        barrier.wait()
        try:
            sweep_run._write_spec(folder, spec)
        except BaseException as err:  # noqa: BLE001 - collected for the assertion
            errors.append(err)

    for i in range(pairs):
        folder = tmp_path / f"s{i}"
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=write, args=(folder, barrier)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert json.loads((folder / "spec.json").read_text()) == json.loads(
            json.dumps(spec.to_dict(), default=str)
        )
    assert not errors, errors[:3]
    assert not list(tmp_path.rglob("*.part"))


def test_the_stored_sweep_is_a_lazy_dataset(tmp_path: Path) -> None:
    spec = Sweep(d=20, axes=GRID)
    whole = run_sweep(spec, tmp_path, memory_budget=4 * (ROW_BYTES + 64 * 20))  # 2 chunks
    files = sweep_files(tmp_path, spec)
    assert len(files) == 2 and all(f.exists() for f in files)
    data = sweep_dataset(tmp_path, spec)
    assert data.count_rows() == len(whole)
    lazily = data.to_table(columns=["n", "total"], filter=ds.field("n") == 60).to_pandas()
    np.testing.assert_array_equal(lazily.total, whole.total[whole.n == 60])
    assert sum(len(t) for _, t in iter_sweep(spec, tmp_path)) == len(whole)


def test_a_table_too_large_for_the_machine_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sweep_run, "host_memory", lambda: 1 << 20)
    with pytest.raises(ValueError, match="8,000 rows needs about .* lazily"):
        run_sweep(
            Sweep(d=20, axes={"n": list(range(30, 50)), "p2": list(np.linspace(0, 0.5, 400))})
        )


@pytest.mark.parametrize(
    "spec, match",
    [(dict(d=10**9, axes={"n": [30]}), "d=1,000,000,000 .* lower d"),
     (dict(d=20, axes={"n": [30]}, method="simulate", reps=10**9),
      "reps=1,000,000,000 .* lower reps")],
)  # fmt: skip
def test_requests_beyond_memory_are_refused_before_allocation(spec: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        sweep_run.plan(Sweep(**spec), 1 << 30)


def test_reading_a_stored_sweep_verifies_every_chunk(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    spec = Sweep(d=20, axes=GRID)
    whole = run_sweep(spec, tmp_path, memory_budget=4 * (ROW_BYTES + 64 * 20))  # 2 chunks
    bad = sweep_files(tmp_path, spec)[1]
    column = pq.ParquetFile(bad).metadata.row_group(0).column(0)
    offset = column.data_page_offset + column.total_compressed_size - 4  # in the page's values
    data = bytearray(bad.read_bytes())
    data[offset] ^= 0x10
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=f"{bad.name}.*checksum.*run the sweep again"):
        sweep_dataset(tmp_path, spec)
    assert not bad.exists() and bad.with_name(bad.name + ".corrupt").exists()
    healed = run_sweep(spec, tmp_path, memory_budget=4 * (ROW_BYTES + 64 * 20))
    pd.testing.assert_frame_equal(healed, whole)
    assert sweep_dataset(tmp_path, spec).count_rows() == len(whole)


def test_reading_a_stored_sweep_refuses_another_sweeps_chunk(tmp_path: Path) -> None:
    spec, other = Sweep(d=20, axes=GRID), Sweep(d=21, axes=GRID)
    run_sweep(spec, tmp_path)
    run_sweep(other, tmp_path)
    (mine,), (theirs,) = sweep_files(tmp_path, spec), sweep_files(tmp_path, other)
    mine.write_bytes(theirs.read_bytes())
    with pytest.raises(ValueError, match=f"{mine.name}.*another computation"):
        sweep_files(tmp_path, spec)


def test_an_address_space_limit_lowers_the_memory_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under ``ulimit -v`` the budget is half the headroom, so a sweep stays under the limit
    instead of aborting inside the runtime (measured: 3 GB limit, 3e7 rows, exit 0)."""
    import resource

    from simcollapse import _validate

    free = 2 << 30
    limit = int(_validate._mapped_bytes()) + free
    monkeypatch.setattr(resource, "getrlimit", lambda which: (limit, resource.RLIM_INFINITY))
    have = _validate.machine_memory()
    assert have <= free / 2 + (64 << 20)  # what the process maps between the two reads
    assert have >= free / 2 - (64 << 20)


@pytest.mark.slow
def test_a_sweep_under_ulimit_v_completes(tmp_path: Path) -> None:
    import resource
    import subprocess

    toml = tmp_path / "s.toml"
    toml.write_text(
        '[problem]\nfamily = "power_law"\nd = 50\n[setting]\nkind = "ridge"\n[axes]\n'
        'n = {start = 100, stop = 10000, num = 30, scale = "log"}\n'
        "p2 = {start = 0.0, stop = 1.0, num = 1000}\n"
    )

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    done = subprocess.run(
        [sys.executable, "-m", "simcollapse", "sweep", str(toml), "--out", str(tmp_path / "o"),
         "--no-progress"],
        capture_output=True, text=True, preexec_fn=limit, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    budget = float(done.stdout.split("memory budget ")[1].split(" GiB")[0])
    assert budget < 1.5, done.stdout


def test_a_draw_past_what_the_process_may_use_names_the_limit_not_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from simcollapse.simulate import driver
    from simcollapse.sweep import planning

    for module in (planning, driver):  # the limit and the default budget taken from it
        monkeypatch.setattr(module, "machine_memory", lambda: float(1 << 30))
    spec = Sweep(d=2000, axes={"n": [20000]}, method="simulate", reps=8)
    with pytest.raises(ValueError, match=r"one draw at n=20000, d=2000 .* may use .* lower n"):
        planning.plan(spec, None)
    with pytest.raises(ValueError, match=r"--memory-budget 100 GiB is more than .* lower it"):
        planning.plan(Sweep(d=20, axes={"n": [30]}), 100 << 30)


def test_chunks_carry_no_footer_statistics_a_flip_could_falsify(tmp_path: Path) -> None:
    """A filtered lazy read cannot skip rows on a corrupted min/max: none are stored."""
    spec = Sweep(d=20, axes=GRID)
    run_sweep(spec, tmp_path)
    for path in sweep_files(tmp_path, spec):
        meta = pq.ParquetFile(path).metadata
        for g in range(meta.num_row_groups):
            for c in range(meta.num_columns):
                assert not meta.row_group(g).column(c).is_stats_set


def test_a_final_table_temporary_left_by_a_killed_run_is_swept(tmp_path: Path) -> None:
    config = tmp_path / "s.toml"
    config.write_text('[problem]\nd = 20\n[run]\nmethod = "theory"\n[axes]\nn = [30, 60]\n')
    out = tmp_path / "out"
    dead = out / ".simcollapse-tmp" / "otherhost-1-abc.part"
    dead.parent.mkdir(parents=True)
    dead.write_text("x")
    os.utime(dead, (0, 0))  # a day old: its writer is gone
    assert main(["sweep", str(config), "--out", str(out), "--no-progress"]) == 0
    assert not dead.exists()


def _plugin_prepare(shape, points, dtype):  # a prepare defined outside the package
    return (points["lam"].astype(dtype), points["p2"].astype(dtype)), {}


def test_the_kernel_and_prepare_bound_by_from_terms_enter_the_fingerprint() -> None:
    """``from_terms`` binds its kernel and prepare into the simulation: their modules count."""
    from simcollapse.settings import Setting
    from simcollapse.settings._params import LAM, P2, N
    from simcollapse.simulate.mixing_draws import weighted_draw
    from simcollapse.theory import ridge_terms

    mine = Setting.from_terms("fingerprinted", "ridge again", (N, LAM, P2), ridge_terms,
                              weighted_draw, prepare=_plugin_prepare)  # fmt: skip
    modules = sweep_run._modules_of(mine)
    assert {__name__, "simcollapse.simulate.mixing_draws", "simcollapse.settings.base"} <= set(
        modules
    )
