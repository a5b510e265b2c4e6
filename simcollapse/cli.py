"""The ``simcollapse`` command line: theory, simulate, sweep, figures, bench, fit.

The parser is built in ``simcollapse._cli_parser``; this module holds the commands. The CLI only
imports the library; the library never imports the CLI.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jax
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from simcollapse import enable_compilation_cache
from simcollapse._aliases import warn_old
from simcollapse._cli_parser import (
    BENCH_DESCRIPTION,
    EPILOG,
    build_parser,
    version_text,
)
from simcollapse._cli_settings import expand, setting_grid
from simcollapse._errors import report
from simcollapse._guard import needs_guard, run_guarded
from simcollapse._validate import check_memory
from simcollapse.problem import Problem
from simcollapse.results import Status
from simcollapse.simulate.driver import MonteCarlo
from simcollapse.store import (
    PARQUET_OPTIONS,
    file_mode,
    one_line_warnings,
    sweep_debris,
    temporary_path,
)
from simcollapse.sweep import Sweep, describe_plan, iter_sweep
from simcollapse.sweep import devices as dev
from simcollapse.sweep.cost import estimate_seconds
from simcollapse.sweep.devices import PeerLostError, is_distributed
from simcollapse.sweep.export import export_zarr
from simcollapse.sweep.resume import resume_note

EXIT_GRACE_S = 2.0  # process 0 of a failed multi-process run outlives the others' reports

__all__ = ["EPILOG", "build_problem", "console", "main", "make_parser", "version_text"]


# The problem options' defaults (the parser leaves them None, so that a given option is known).
PROBLEM_DEFAULTS = {"d": 300, "alpha": 1.5, "source": 1.5, "signal": 1.0, "sigma2": 1.0, "c2": 0.1}
# Options each family ignores: giving one is refused, naming it.
IGNORED = {
    "file": ("d", "alpha", "source", "signal", "sigma2", "c2"),
    "isotropic": ("alpha", "source"),
    "power_law": (),
}


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def build_problem(args: argparse.Namespace) -> Any:
    """The Problem described by the problem options.

    Options left unset take ``PROBLEM_DEFAULTS`` (written into ``args``); --teacher-n0 replaces
    c2 by the error of a teacher fitted on that many rows (``Problem.with_teacher``).

    Args:
      args: parsed options of ``theory``, ``simulate`` or ``sweep`` (--family, --problem-file,
        --d, --alpha, --source, --signal, --sigma2, --c2, --teacher-n0).

    Returns:
      The ``Problem``.

    Raises:
      ValueError: an option the family ignores (the file family takes d, c2, sigma2 and the
        teacher from its file), or both --c2 and --teacher-n0; each names the option.

    Example:
      >>> parser = make_parser()
      >>> build_problem(parser.parse_args(["theory", "--family", "isotropic", "--d", "50",
      ...                                  "--c2", "0.2"]))
      Problem(d=50, tr_sigma=50, signal=1, c2=0.2, sigma2=1)
      >>> build_problem(parser.parse_args(["theory", "--family", "isotropic", "--alpha", "2"]))
      Traceback (most recent call last):
          ...
      ValueError: --alpha does not apply to --family isotropic
    """

    if (args.family == "file") != (args.problem_file is not None):
        raise ValueError("--problem-file FILE.npz goes with --family file (and only with it)")
    for name in IGNORED[args.family]:
        if getattr(args, name, None) is not None:
            raise ValueError(
                f"{_option(name)} does not apply to --family {args.family}"
                + (" (the problem file sets it)" if args.family == "file" else "")
            )
    if args.teacher_n0 is not None and args.c2 is not None:
        raise ValueError("give one of --c2 and --teacher-n0 (the teacher sets c2)")
    for name, value in PROBLEM_DEFAULTS.items():
        if getattr(args, name, None) is None:
            setattr(args, name, value)
    if args.family == "file":
        prob = Problem.from_family("file", None, path=args.problem_file)
    elif args.family == "isotropic":
        prob = Problem.isotropic(args.d, c2=args.c2, sigma2=args.sigma2, signal=args.signal)
    else:
        kw = dict(alpha=args.alpha, source=args.source, signal=args.signal)
        prob = Problem.power_law(args.d, c2=args.c2, sigma2=args.sigma2, **kw)
    if args.teacher_n0 is not None:
        prob = prob.with_teacher(args.teacher_n0)
    return prob


def _emit(args: argparse.Namespace, grid: dict[str, np.ndarray], out: Any) -> None:

    table = pd.DataFrame({**grid, **out.to_dict()})
    table["status"] = table["status"].map(lambda s: _status_name(int(s)))
    if args.json:
        print(json.dumps(strict_json(table.to_dict(orient="records")), indent=1, allow_nan=False))
    else:
        with pd.option_context("display.float_format", "{:.6g}".format):
            print(table.to_string(index=False))


def strict_json(value: Any) -> Any:
    """``value`` with every non-finite float as the string "inf", "-inf" or "nan" (strict JSON
    has no Infinity or NaN), NumPy scalars as Python numbers.

    Example:
      >>> strict_json([{"total": float("inf"), "n": np.int64(3)}, float("nan")])
      [{'total': 'inf', 'n': 3}, 'nan']
    """
    if isinstance(value, dict):
        return {k: strict_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [strict_json(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return "nan" if np.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def _status_name(code: int) -> str:

    return Status(code).name.lower()


def cmd_theory(args: argparse.Namespace) -> int:
    """``simcollapse theory``: a setting's theory over the grid of the options, printed as a
    table (or JSON with --json). Exit 1 when a fixed point did not converge."""

    setting, grid, static = setting_grid(args)
    reason = setting.reason_no_theory({**grid, **static})
    if reason is not None:
        raise ValueError(
            f"setting '{setting.name}' has no theory ({reason}): run simcollapse simulate"
        )
    check_sizes(setting, _dimension(args), grid, static)
    prob = build_problem(args)
    out = setting.theory(prob, throw=False, **grid, **static)
    _emit(args, *expand(setting, grid, out, static))
    return _report_status(np.asarray(out.status), "see status")


def _dimension(args: argparse.Namespace) -> int:
    """d as the options give it, before any problem is built (a file's problem is small)."""
    return PROBLEM_DEFAULTS["d"] if args.d is None else int(args.d)


def check_sizes(setting: Any, d: int, grid: dict, static: dict, reps: int | None = None) -> None:
    """Refuse, before any allocation, sizes whose memory cannot exist on this machine.

    The estimate is the largest array the command builds: the problem's arrays (16 d), the
    theory's (points x d) sums and
    a length's (points x length x d) state; a Monte Carlo draw's n x max(d, m) design and d x d
    Gram, and the (reps x points x length) table of draws (8 bytes a number).

    Raises:
      ValueError: naming the option, the estimate and the machine's memory, both in GiB.
    """

    points = max(1, int(np.size(next(iter(grid.values()))))) if grid else 1
    length = int(static.get(setting.length, 1)) if setting.length else 1
    check_memory("--d", 8.0 * d * (16 + 4 * points), "the problem and its sums")
    if setting.length:
        check_memory(_option(setting.length), 8.0 * d * points * length * 4, "the state")
    if reps is None:
        return
    n = float(np.max(grid.get("n", [1])))
    m = float(np.max(grid.get("m", [0]))) if "m" in grid else 0.0
    if m:
        check_memory("--m", 8.0 * m * d * 2 + 8.0 * n * m * 3, "the projection and features")
    check_memory("--n", 8.0 * n * d * 3 + 8.0 * d * d * 2, "one draw's design")
    check_memory("--reps", 8.0 * reps * points * max(length, 1) * 4, "the table of draws")


def _duration(seconds: float) -> str:
    """'45 s', '12 min', '3.5 h'."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def _report_status(status: np.ndarray, where: str) -> int:
    """Warn about failed fixed points (exit code 1) and note points on a threshold (inf, exit 0)."""

    threshold = int(np.sum(status == Status.THRESHOLD))
    failed = int(np.sum((status != Status.CONVERGED) & (status != Status.THRESHOLD)))
    if threshold:
        print(
            f"note: {threshold} point(s) lie on an interpolation threshold (lam = 0 and "
            "n = d, n = min(m, d), or n = d + 1 for the replace loop): their error is inf "
            "(status threshold)",
            file=sys.stderr,
        )
    if failed:
        print(f"warning: {failed} point(s) did not converge ({where})", file=sys.stderr)
    return 1 if failed else 0


def cmd_simulate(args: argparse.Namespace) -> int:
    """``simcollapse simulate``: a setting's Monte Carlo over the grid of the options."""

    setting, grid, static = setting_grid(args)
    check_sizes(setting, _dimension(args), grid, static, reps=args.reps)
    prob = build_problem(args)
    out = setting.simulate(prob, MonteCarlo(args.seed, args.reps, args.dtype), **grid, **static)
    _emit(args, *expand(setting, grid, out, static))
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    """``simcollapse sweep``: a TOML spec, chunk by chunk into OUT (resumable), one parquet
    table and optionally a zarr grid; several processes with --coordinator."""

    if args.coordinator:
        dev.initialize(
            args.coordinator, args.num_processes, args.process_id, timeout_s=args.timeout
        )
    # Every process says whether it could start (a bad spec, an unreadable file, a plan that
    # does not fit): one that failed tells the others, which stop at once instead of waiting.
    try:
        spec = _sweep_spec(args)
        zarr = args.zarr
        if zarr is not None and zarr.exists() and not (zarr / "zarr.json").exists():
            # checked before the work: a rerun replaces its own zarr store, nothing else
            raise FileExistsError(f"--zarr {zarr} is not a zarr store: pick another path")
    except Exception as err:  # noqa: BLE001 - re-raised after telling the other processes
        dev.all_started(err)
        raise
    dev.all_started(None)
    if args.dry_run:
        seconds, how = estimate_seconds(spec, args.memory_budget)
        shown = _duration(seconds) if seconds == seconds else "unknown"
        print(f"estimated time: {shown} ({how})")
        return 0
    target = args.out / f"{args.config.stem}-{spec.hash[:8]}.parquet"
    status = _stream_sweep(args, spec, target)
    if args.zarr is not None and dev.is_writer():
        # replace only a zarr store (a rerun's export), never another folder
        again = (args.zarr / "zarr.json").exists()
        export_zarr(args.out, spec, args.zarr, progress=not args.no_progress, overwrite=again)
        print(f"wrote the grid to {args.zarr} (open it with xarray.open_zarr)")
    return _report_status(status, "status != 0")


def _sweep_spec(args: argparse.Namespace) -> Any:

    spec = Sweep.from_toml(args.config)
    if args.setting is not None:
        spec = dataclasses.replace(spec, setting=args.setting, model=None)
    args.interrupt_note = lambda: resume_note(spec, args.out, args.memory_budget)
    print(describe_plan(spec, args.memory_budget))
    return spec


def _stream_sweep(args: argparse.Namespace, spec: Any, target: Path) -> np.ndarray:
    """Run the sweep chunk by chunk into one parquet file (written atomically by process 0):
    memory holds one chunk, whatever the grid. Returns every row's status."""

    writer, tmp, rows, status = None, None, 0, []
    if dev.is_writer():
        sweep_debris(target.parent)  # a final table's temporary left by a killed run
    try:
        for _, table in iter_sweep(
            spec, args.out, force=args.force, progress=not args.no_progress,
            memory_budget=args.memory_budget,
        ):  # fmt: skip
            done = table["status"].to_numpy()
            status.append(done[done != Status.CONVERGED])  # memory: only the exceptions
            if not dev.is_writer():
                continue
            arrow = pa.Table.from_pandas(table, preserve_index=False)
            if writer is None:
                tmp = temporary_path(target)
                writer = pq.ParquetWriter(tmp, arrow.schema, **PARQUET_OPTIONS)
            writer.write_table(arrow.select(writer.schema.names).cast(writer.schema))
            rows += len(table)
        if writer is not None:
            writer.close()
            writer = None
            os.chmod(tmp, file_mode())
            os.replace(tmp, target)
            print(f"wrote {rows:,} rows to {target}")
    finally:
        if writer is not None:
            writer.close()
        if tmp is not None and tmp.exists():
            tmp.unlink()
    return np.concatenate(status) if status else np.zeros(0, np.int32)


def cmd_figures(args: argparse.Namespace) -> int:
    """``simcollapse figures``: compute (or redraw, --from-tables) the chosen figures at a
    level, write them with their tables, and evaluate their claims into OUT/claims.csv."""

    from simcollapse.figures.claims import failing, missing_tables  # noqa: PLC0415 - on demand (figures, bench: matplotlib)
    from simcollapse.figures.registry import FigureContext  # noqa: PLC0415 - on demand (figures, bench: matplotlib)
    from simcollapse.figures.runner import (  # noqa: PLC0415 - on demand (figures, bench: matplotlib)
        check_level,
        default_store,
        redraw,
        select,
        write_claims,
        write_figures,
    )

    figures = select(args.only)
    if args.list:
        width = max(len(f.name) for f in figures)
        paper = max(len(f.paper) for f in figures)
        for f in figures:
            print(f"{f.name:<{width}}  {f.paper:<{paper}}  [{f.group}] {f.caption}")
        return 0
    mode = "full" if args.full else "quick" if args.quick else "default"
    if args.dry_run:
        from simcollapse.figures.dry_run import print_estimates  # noqa: PLC0415 - on demand (figures, bench: matplotlib)

        data = args.data or os.environ.get("SIMCOLLAPSE_DATA")
        if args.corpus is not None and not Path(args.corpus).is_file():
            raise FileNotFoundError(f"--corpus {args.corpus}: no such file")
        print_estimates(figures, mode, args.seed, None if data is None else Path(data), args.corpus)
        return 0
    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    if args.claims_only or args.from_tables:
        if not args.out.is_dir():
            raise ValueError(f"--out {args.out}: no such folder to read the tables from")
        absent = missing_tables(args.out)
        if len(absent) == len(select(None)):
            raise ValueError(
                f"--out {args.out} holds no figure table (NAME.csv of a registered figure): "
                f"write them first (simcollapse figures --out {args.out})"
            )
        absent = [f.name for f in figures if f.name in absent]
        if absent:
            print(
                f"no table for {len(absent)} of {len(figures)} figure(s) in {args.out}, "
                f"their claims are not checked: {', '.join(absent)}"
            )
        if args.from_tables:
            redraw([f for f in figures if f.name not in absent], args.out, formats)
        claims = write_claims(args.out, log=lambda _: None)
        for line in failing(claims):
            print(line)
        held = int(claims["holds"].sum())
        print(f"{held} of {len(claims)} claims hold; wrote {args.out / 'claims.csv'}")
        return 1 if args.strict and (held < len(claims) or absent) else 0
    check_level(args.out, mode, overwrite=args.overwrite)
    data = args.data or os.environ.get("SIMCOLLAPSE_DATA")
    ctx = FigureContext(
        mode=mode,
        store=default_store(args.out),
        data_dir=Path(data) if data else None,
        corpus=args.corpus,
        progress=not args.no_progress,
        key=args.seed,
    )
    existed = args.out.exists()
    try:
        write_figures(figures, ctx, args.out, formats)
    except BaseException:
        if not existed:
            _remove_empty_folders(args.out)  # a failed run leaves no empty --out behind
        raise
    path = args.out / "claims.csv"
    claims = pd.read_csv(path) if path.exists() else pd.DataFrame({"holds": []})
    held = int(claims["holds"].sum())
    print(f"wrote {len(figures)} figure(s) to {args.out}; {held} of {len(claims)} claims hold")
    return 1 if args.strict and held < len(claims) else 0


def _remove_empty_folders(root: Path) -> None:
    """Remove ``root`` and the folders under it that hold no file (never a file)."""
    if not root.is_dir():
        return
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    if not any(root.iterdir()):
        root.rmdir()


def cmd_bench(args: argparse.Namespace) -> int:
    """``simcollapse bench``: the benchmark package is imported (and parses its options) here."""
    from simcollapse.bench import cli as bench_cli  # noqa: PLC0415 - on demand (figures, bench: matplotlib)

    parser = argparse.ArgumentParser(prog="simcollapse bench", description=BENCH_DESCRIPTION)
    bench_cli.add_arguments(parser)
    return int(bench_cli.run(parser.parse_args(args.bench_args)) or 0)


def make_parser() -> argparse.ArgumentParser:
    """The ``simcollapse`` argument parser, each command bound to its function here.

    Returns:
      The parser of ``build_parser``; ``args.run(args)`` runs the parsed command.

    Example:
      >>> args = make_parser().parse_args(["theory", "--n", "100,200", "--lam", "0.1"])
      >>> args.command, args.run is cmd_theory, args.family, args.param__n
      ('theory', True, 'power_law', [100, 200])
    """
    return build_parser(
        {
            "theory": cmd_theory,
            "simulate": cmd_simulate,
            "sweep": cmd_sweep,
            "figures": cmd_figures,
            "bench": cmd_bench,
        }
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; user errors in one line (exit 2), internal errors with a traceback
    and a request to report them (exit 1).

    Args:
      argv: the arguments after ``simcollapse`` (None: ``sys.argv[1:]``).

    Returns:
      The exit code: 0 done, 2 a user error (one line on stderr), 1 an internal error, 130
      interrupted (Ctrl-C).

    Example:
      ``main`` turns on the persistent compilation cache; SIMCOLLAPSE_XLA_CACHE=off keeps it off
      here, so the example leaves nothing on disk:

      >>> from unittest import mock
      >>> with mock.patch.dict(os.environ, {"SIMCOLLAPSE_XLA_CACHE": "off"}):
      ...     main(["theory", "--family", "isotropic", "--d", "20", "--n", "100", "--lam", "0.1"])
      ...     main(["theory", "--d", "0"])  # stderr: simcollapse theory: error: d must hold ...
        n  lam  p2     bias  variance       zeta    total  stderr    status
      100  0.1 0.1 0.013996  0.188999 0.00249799 0.205493       0 converged
      0
      2
    """

    enable_compilation_cache()
    parser = make_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "bench":
        args.bench_args = extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        with one_line_warnings(f"simcollapse {args.command}"):
            given = sys.argv[1:] if argv is None else argv
            if any(a == "--spectrum" or a.startswith("--spectrum=") for a in given):
                warn_old("--spectrum")
            return int(args.run(args) or 0)
    except KeyboardInterrupt:
        note = getattr(args, "interrupt_note", None)
        print(f"\nsimcollapse {args.command}: {note() if note else 'interrupted'}", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - every failure is reported, see _errors
        if isinstance(err, PeerLostError):
            # Skip jax.distributed's shutdown barrier, which would wait for the lost process.
            print(f"simcollapse {args.command}: error: {err}", file=sys.stderr, flush=True)
            sys.stdout.flush()
            os._exit(1)
        code = report(args.command, err)
        if is_distributed():  # the others stop too: no shutdown barrier to wait in
            sys.stdout.flush()
            sys.stderr.flush()

            if jax.process_index() == 0:  # it serves the run: leave the others time to report
                time.sleep(EXIT_GRACE_S)
            os._exit(code)
        return code


def console(argv: Sequence[str] | None = None) -> None:
    """The ``simcollapse`` command: ``main`` in a process of its own, ending with its exit code.

    After Ctrl-C the process ends at once (``os._exit``, output flushed): the interrupted
    computation may still be running on XLA's threads, and the interpreter's teardown under it
    can crash the process (a segmentation fault instead of exit code 130). Everything a command
    keeps is on disk before it returns, so nothing is lost.

    Args:
      argv: the arguments after ``simcollapse`` (None: ``sys.argv[1:]``).

    Raises:
      SystemExit: always, with ``main``'s exit code (a multi-process sweep runs under a guard
        that turns a lost process into a one-line error).

    Example:
      >>> from unittest import mock
      >>> argv = ["theory", "--family", "isotropic", "--d", "20", "--n", "100", "--lam", "0.1"]
      >>> try:  # the compilation cache kept off, as in ``main``'s example
      ...     with mock.patch.dict(os.environ, {"SIMCOLLAPSE_XLA_CACHE": "off"}):
      ...         console(argv)
      ... except SystemExit as done:
      ...     print("exit code", done.code)  # doctest: +ELLIPSIS
        n  lam  p2 ...
      100  0.1 0.1 ...
      exit code 0
    """

    args = list(sys.argv[1:] if argv is None else argv)
    if needs_guard(args):  # a multi-process sweep: its loss is one line, not a C++ abort
        sys.exit(run_guarded(args))
    code = main(argv)
    if code == 130:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    sys.exit(code)


if __name__ == "__main__":
    console()
