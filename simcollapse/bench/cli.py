"""``simcollapse bench``: run the suites, write one JSON, compare two JSONs, plot throughput.

``simcollapse/cli.py`` imports this module only when the ``bench`` command runs: it builds a
parser with ``add_arguments`` and calls ``run``. ``python -m simcollapse.bench`` does the same.

OpenBLAS variables (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE, ...) slow NumPy on some machines and are
read when NumPy loads, so the benchmark command re-runs itself once in a child process without
them (unless ``--keep-openblas-env``); the JSON records the values that were removed. Tests and
CI never unset them.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import importlib
import json
import os
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

import jax

from simcollapse.bench import DEFAULT_SUITES, SUITES

CHILD_ENV = "SIMCOLLAPSE_BENCH_REMOVED_ENV"
COMMAND_ENV = "SIMCOLLAPSE_BENCH_COMMAND"  # the command as typed, passed to the re-run child

# The default level (neither --quick nor --full): moderate sizes, minutes on a 2-core CPU.
STANDARD: dict[str, dict[str, Any]] = {
    "peak": {"matmul_n": [1024, 2048], "eigh_n": [1024], "dtypes": ["float64"]},
    "theory": {"d": [1000], "sizes": [1000, 10_000, 100_000], "baseline_points": 200},
    "simulate": {"d": [256], "factorise_d": []},
    "sweep": {},
    "fits": {"curves": [10_000], "baseline_curves": 500},
    "scaling": {
        "theory_sizes": [1000, 10_000, 100_000],
        "theory_ds": [100, 300, 1000, 3000],
        "sim_ds": [64, 128, 256],
    },
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``bench`` options to ``parser``."""
    level = parser.add_mutually_exclusive_group()
    level.add_argument(
        "--quick", action="store_true", help="tiny sizes, seconds (a smoke test of every suite)"
    )
    level.add_argument(
        "--full",
        action="store_true",
        help="large sizes (d up to 10^4, 10^6 theory points, factorisation at d = 4096); long",
    )
    parser.add_argument(
        "--suite",
        action="append",
        metavar="NAME",
        choices=sorted(SUITES),
        help=f"suite to run (repeatable); default: {', '.join(DEFAULT_SUITES)}",
    )
    parser.add_argument(
        "--out", metavar="FILE.json", help="write the results here (default: bench-<backend>.json)"
    )
    parser.add_argument(
        "--compare",
        nargs=2,
        metavar=("A.json", "B.json"),
        help="print a table comparing two result files (runs nothing)",
    )
    parser.add_argument(
        "--markdown",
        metavar="A.json",
        help="print the cases of a result file as a Markdown table (runs nothing)",
    )
    parser.add_argument(
        "--plot",
        metavar="FILE.png",
        help="plot throughput against grid size per device (with --compare: both files)",
    )
    parser.add_argument(
        "--keep-openblas-env",
        action="store_true",
        help="do not drop OPENBLAS_* variables for the run",
    )


def level_of(args: argparse.Namespace) -> str:
    """The level the options ask for: quick, full or standard."""
    return "quick" if args.quick else "full" if args.full else "standard"


def run_suite(name: str, level: str) -> dict[str, Any]:
    """Import and run one suite; a missing module is 'skipped', an exception 'error'."""
    try:
        module = importlib.import_module(SUITES[name])
    except ModuleNotFoundError as err:
        if err.name == SUITES[name]:
            return {"status": "skipped", "reason": f"no module {SUITES[name]}", "cases": []}
        raise
    try:
        if level == "standard" and name in STANDARD:
            out = module.run(False, STANDARD[name])
        else:
            out = module.run(level == "quick")
    except Exception as err:  # noqa: BLE001 - one failing suite must not lose the others
        return {
            "status": "error",
            "reason": f"{type(err).__name__}: {err}",
            "traceback": traceback.format_exc(),
            "cases": [],
        }
    if "cases" not in out:  # the neural suites' own records, turned into cases
        from simcollapse.bench.accelerator import lm_cases, mnist_cases  # noqa: PLC0415 - each suite loads when it runs

        adapt = {"mnist": mnist_cases, "lm": lm_cases}[name]
        out = {"settings": None, "records": out, "cases": adapt(out)}
    return {"status": "ok"} | out


def add_peak_fractions(result: dict[str, Any]) -> None:
    """fraction_of_peak = achieved GFLOP/s / best measured matmul GFLOP/s of the same dtype."""
    from simcollapse.bench import peak  # noqa: PLC0415 - each suite loads when it runs

    cases = result["cases"]
    peaks: dict[str, float] = {}
    for dtype in ("float32", "float64"):
        best = peak.matmul_peak(cases, dtype)
        if best is None and any(c["flops"] and c["params"].get("dtype") == dtype for c in cases):
            extra = peak.run(
                False, {"matmul_n": [1024], "eigh_n": [], "dtypes": [dtype], "repeats": 5}
            )["cases"]
            best = peak.matmul_peak(extra, dtype)
            result["peak_measured_apart"] = extra
        if best is not None:
            peaks[dtype] = best
    result["peak_gflops"] = peaks
    for c in cases:
        dtype = c["params"].get("dtype")
        if c["gflops"] is not None and dtype in peaks:
            c["fraction_of_peak"] = c["gflops"] / peaks[dtype]


def default_out() -> str:
    """The default JSON file name: bench-<JAX backend>.json."""

    return f"bench-{jax.default_backend()}.json"


def rerun_without_openblas(args: argparse.Namespace) -> int | None:
    """Re-run this command in a child without OPENBLAS_* variables; None when not needed."""
    removed = {k: v for k, v in os.environ.items() if k.startswith("OPENBLAS")}
    if not removed or args.keep_openblas_env or CHILD_ENV in os.environ:
        return None
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENBLAS")}
    env[CHILD_ENV] = json.dumps(removed)
    env[COMMAND_ENV] = json.dumps(typed_command())
    argv = [sys.executable, "-m", "simcollapse.bench"] + to_argv(args)
    print(f"re-running without {sorted(removed)} (recorded in the JSON)", file=sys.stderr)
    return subprocess.call(argv, env=env)


def typed_command() -> list[str]:
    """The command line as the user typed it (``simcollapse bench ...`` or ``python -m ...``)."""
    if COMMAND_ENV in os.environ:
        return list(json.loads(os.environ[COMMAND_ENV]))
    program = Path(sys.argv[0]).name
    if program in ("__main__.py", "-m"):
        package = "simcollapse.bench" if Path(sys.argv[0]).parent.name == "bench" else "simcollapse"
        return ["python", "-m", package] + sys.argv[1:]
    return [program] + sys.argv[1:]


def to_argv(args: argparse.Namespace) -> list[str]:
    """The options that reproduce ``args`` on a command line (level and suites first)."""
    argv = ["--quick"] if args.quick else ["--full"] if args.full else []
    for s in args.suite or []:
        argv += ["--suite", s]
    argv += ["--out", args.out or default_out()]
    if args.plot:
        argv += ["--plot", args.plot]
    return argv


def run(args: argparse.Namespace) -> int:
    """Run ``simcollapse bench`` with parsed ``args``; returns the exit code."""
    from simcollapse.bench import report  # noqa: PLC0415 - each suite loads when it runs

    if args.markdown:
        print(report.markdown_table(json.loads(Path(args.markdown).read_text())))
        return 0
    if args.compare:
        a, b = (json.loads(Path(p).read_text()) for p in args.compare)
        print(report.compare_table(a, b))
        if args.plot:
            report.plot_throughput([a, b], args.plot)
        return 0
    code = rerun_without_openblas(args)
    if code is not None:
        return code

    from simcollapse.bench import _harness as h  # noqa: PLC0415 - each suite loads when it runs

    level = level_of(args)
    names = args.suite or list(DEFAULT_SUITES)
    result: dict[str, Any] = {
        "schema_version": h.SCHEMA_VERSION,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": typed_command(),
        "level": level,
        "machine": h.machine(),
        "openblas_env_removed": json.loads(os.environ.get(CHILD_ENV, "{}")),
        "settings": {},
        "suites": {},
        "cases": [],
    }
    for name in names:
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        out = run_suite(name, level)
        result["settings"][name] = out.pop("settings", None)
        cases = out.pop("cases")
        result["suites"][name] = out
        result["cases"].extend(cases)
        if out["status"] == "error":
            print(f"[bench] {name} failed: {out['reason']}", file=sys.stderr)
    add_peak_fractions(result)
    result["machine"]["load_average_end"] = list(os.getloadavg())
    path = Path(args.out or default_out())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1, default=float))
    print(report.summary_table(result))
    print(f"wrote {path}")
    if args.plot:
        report.plot_throughput([result], args.plot)
    return 1 if any(s["status"] == "error" for s in result["suites"].values()) else 0
