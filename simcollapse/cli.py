"""The ``simcollapse`` command line: theory, simulate, sweep, figures, bench, fit.

The parser is built in ``simcollapse._cli_parser``; this module holds the commands. The CLI only
imports the library; the library never imports the CLI.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from simcollapse._cli_parser import (
    BENCH_DESCRIPTION,
    EPILOG,
    build_parser,
    version_text,
)

__all__ = ["EPILOG", "build_problem", "console", "main", "make_parser", "version_text"]


def build_problem(args: argparse.Namespace) -> Any:
    """The Problem described by the problem options."""
    from simcollapse.problem import Problem

    if (args.family == "file") != (args.problem_file is not None):
        raise ValueError("--problem-file FILE.npz goes with --family file (and only with it)")
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
    import pandas as pd

    table = pd.DataFrame({**grid, **out.to_dict()})
    table["status"] = table["status"].map(lambda s: _status_name(int(s)))
    if args.json:
        print(json.dumps(table.to_dict(orient="records"), indent=1))
    else:
        with pd.option_context("display.float_format", "{:.6g}".format):
            print(table.to_string(index=False))


def _status_name(code: int) -> str:
    from simcollapse.results import Status

    return Status(code).name.lower()


def cmd_theory(args: argparse.Namespace) -> int:
    from simcollapse._cli_settings import expand, setting_grid

    prob = build_problem(args)
    setting, grid, static = setting_grid(args)
    out = setting.theory(prob, throw=False, **grid, **static)
    _emit(args, *expand(setting, grid, out, static))
    return _report_status(np.asarray(out.status), "see status")


def _duration(seconds: float) -> str:
    """'45 s', '12 min', '3.5 h'."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def _report_status(status: np.ndarray, where: str) -> int:
    """Warn about failed fixed points (exit code 1) and note points on a threshold (inf, exit 0)."""
    from simcollapse.results import Status

    threshold = int(np.sum(status == Status.THRESHOLD))
    failed = int(np.sum((status != Status.CONVERGED) & (status != Status.THRESHOLD)))
    if threshold:
        print(
            f"note: {threshold} point(s) lie on an interpolation threshold (lam = 0 and "
            "n = d, or n = min(m, d)): their error is inf (status threshold)",
            file=sys.stderr,
        )
    if failed:
        print(f"warning: {failed} point(s) did not converge ({where})", file=sys.stderr)
    return 1 if failed else 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from simcollapse._cli_settings import expand, setting_grid
    from simcollapse.simulate.driver import MonteCarlo

    prob = build_problem(args)
    setting, grid, static = setting_grid(args)
    out = setting.simulate(prob, MonteCarlo(args.seed, args.reps, args.dtype), **grid, **static)
    _emit(args, *expand(setting, grid, out, static))
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from simcollapse.store import atomic_write_parquet
    from simcollapse.sweep import Sweep, describe_plan, run_sweep
    from simcollapse.sweep import devices as dev
    from simcollapse.sweep.resume import resume_note

    if args.coordinator:
        dev.initialize(
            args.coordinator, args.num_processes, args.process_id, timeout_s=args.timeout
        )
    spec = Sweep.from_toml(args.config)
    if args.setting is not None:
        import dataclasses

        spec = dataclasses.replace(spec, setting=args.setting, model=None)
    args.interrupt_note = lambda: resume_note(spec, args.out, args.memory_budget)
    print(describe_plan(spec, args.memory_budget))
    if args.dry_run:
        from simcollapse.sweep.cost import estimate_seconds

        seconds, how = estimate_seconds(spec, args.memory_budget)
        print(f"estimated time: {_duration(seconds)} ({how})")
        return 0
    table = run_sweep(
        spec,
        args.out,
        force=args.force,
        progress=not args.no_progress,
        memory_budget=args.memory_budget,
    )
    target = args.out / f"{args.config.stem}-{spec.hash[:8]}.parquet"
    if dev.is_writer():
        atomic_write_parquet(table, target)
        print(f"wrote {len(table):,} rows to {target}")
    return _report_status(table["status"].to_numpy(), "status != 0")


def cmd_figures(args: argparse.Namespace) -> int:
    import os

    import pandas as pd

    from simcollapse.figures.claims import failing
    from simcollapse.figures.registry import FigureContext
    from simcollapse.figures.runner import (
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
    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    if args.claims_only or args.from_tables:
        if not args.out.is_dir():
            raise ValueError(f"--out {args.out}: no such folder to read the tables from")
        if args.from_tables:
            redraw(figures, args.out, formats)
        claims = write_claims(args.out, log=lambda _: None)
        for line in failing(claims):
            print(line)
        held = int(claims["holds"].sum())
        print(f"{held} of {len(claims)} claims hold; wrote {args.out / 'claims.csv'}")
        return 1 if args.strict and held < len(claims) else 0
    check_level(args.out, mode, overwrite=args.overwrite)
    data = args.data or os.environ.get("SIMCOLLAPSE_DATA")
    ctx = FigureContext(
        mode=mode,
        store=default_store(args.out),
        data_dir=Path(data) if data else None,
        corpus=args.corpus,
        progress=not args.no_progress,
        seed=args.seed,
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
    from simcollapse.bench import cli as bench_cli

    parser = argparse.ArgumentParser(prog="simcollapse bench", description=BENCH_DESCRIPTION)
    bench_cli.add_arguments(parser)
    return int(bench_cli.run(parser.parse_args(args.bench_args)) or 0)


def make_parser() -> argparse.ArgumentParser:
    """The ``simcollapse`` argument parser, each command bound to its function here."""
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
    and a request to report them (exit 1)."""
    from simcollapse import enable_compilation_cache
    from simcollapse._errors import report
    from simcollapse.store import one_line_warnings

    enable_compilation_cache()
    parser = make_parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "bench":
        args.bench_args = extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        with one_line_warnings(f"simcollapse {args.command}"):
            return int(args.run(args) or 0)
    except KeyboardInterrupt:
        note = getattr(args, "interrupt_note", None)
        print(f"\nsimcollapse {args.command}: {note() if note else 'interrupted'}", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - every failure is reported, see _errors
        from simcollapse.sweep.devices import PeerLostError

        if isinstance(err, PeerLostError):
            # Skip jax.distributed's shutdown barrier, which would wait for the lost process.
            print(f"simcollapse {args.command}: error: {err}", file=sys.stderr, flush=True)
            sys.stdout.flush()
            os._exit(1)
        return report(args.command, err)


def console(argv: Sequence[str] | None = None) -> None:
    """The ``simcollapse`` command: ``main`` in a process of its own, ending with its exit code.

    After Ctrl-C the process ends at once (``os._exit``, output flushed): the interrupted
    computation may still be running on XLA's threads, and the interpreter's teardown under it
    can crash the process (a segmentation fault instead of exit code 130). Everything a command
    keeps is on disk before it returns, so nothing is lost.
    """
    code = main(argv)
    if code == 130:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    sys.exit(code)


if __name__ == "__main__":
    console()
