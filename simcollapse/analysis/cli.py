"""``simcollapse fit``: power laws with a floor fitted to every curve of a CSV or parquet table."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from simcollapse._validate import check_memory
from simcollapse.analysis.joint import fit_joint_law
from simcollapse.analysis.plot import plot_fits
from simcollapse.analysis.powerlaw import FitStatus, fit_power_law

__all__ = ["add_arguments", "read_table", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``simcollapse fit``.

    Args:
      p: the parser of the ``fit`` command; the table path, --x, --y, --by, --stderr, --huber,
        --bootstrap, --seed and --out are added to it.

    Example:
      >>> import argparse
      >>> p = argparse.ArgumentParser(prog="simcollapse fit")
      >>> add_arguments(p)
      >>> args = p.parse_args(["runs.csv", "--by", "p2", "--out", "fits.csv"])
      >>> args.x, args.y, args.by, args.bootstrap, args.out.name
      ('n', 'total', 'p2', 200, 'fits.csv')
    """
    p.add_argument("table", type=Path, help="input table, .csv or .parquet")
    p.add_argument(
        "--x", default="n", help="size column [n]; two, comma-separated (N,D), fit a joint law"
    )
    p.add_argument("--y", default="total", help="error column, > 0 [total]")
    p.add_argument("--by", default="", help="comma-separated columns identifying a curve")
    p.add_argument("--stderr", default=None, help="column of standard errors of y (> 0)")
    p.add_argument("--huber", type=float, default=None, help="Huber threshold (> 0)")
    p.add_argument("--bootstrap", type=int, default=200, help="bootstrap resamples [200]")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed [0]")
    p.add_argument(
        "--out", type=Path, required=True, help="fits table (.csv or .parquet); a .png beside it"
    )


def read_table(path: Path) -> pd.DataFrame:
    """Read a .csv (UTF-8) or .parquet table (an OSError or ValueError naming the file otherwise:
    missing, empty, not UTF-8, not parquet).

    Args:
      path: the table's file; its suffix (.csv, .parquet or .pq) picks the reader.

    Returns:
      The table, at least one row.

    Raises:
      OSError: the file is missing or is a folder.
      ValueError: another suffix, an empty file, a CSV that is not UTF-8 or not readable, a
        file that is not parquet, a table without rows.

    Example:
      >>> import tempfile
      >>> folder = Path(tempfile.mkdtemp())
      >>> pd.DataFrame({"n": [10, 100], "total": [0.5, 0.1]}).to_csv(folder / "runs.csv")
      >>> read_table(folder / "runs.csv").shape
      (2, 3)
      >>> (folder / "runs.txt").write_text("n,total")
      7
      >>> read_table(folder / "runs.txt")  # doctest: +ELLIPSIS
      Traceback (most recent call last):
          ...
      ValueError: the table .../runs.txt must end in .csv or .parquet, got .txt
    """
    if not path.exists():
        raise OSError(f"the table {path} does not exist")
    if path.is_dir():
        raise OSError(f"the table {path} is a folder, not a .csv or .parquet file")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise ValueError(
            f"the table {path} must end in .csv or .parquet, got {suffix or 'no suffix'}"
        )
    if path.stat().st_size == 0:
        raise ValueError(f"the table {path} is empty")
    if suffix == ".csv":
        try:
            table = pd.read_csv(path, encoding="utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"the table {path} is not UTF-8 text: save it as UTF-8") from None
        except pd.errors.EmptyDataError:
            raise ValueError(f"the table {path} has no columns") from None
        except pd.errors.ParserError as err:
            raise ValueError(f"the table {path} is not a readable CSV: {err}") from None
    else:
        try:
            table = pd.read_parquet(path)
        except Exception as err:  # noqa: BLE001 - pyarrow raises its own types for a bad file
            raise ValueError(
                f"the table {path} is not a parquet file ({type(err).__name__})"
            ) from None
    if table.empty:
        raise ValueError(f"the table {path} has no rows")
    return table


def check_out(table: Path, out: Path) -> None:
    """Refuse an --out (or its .png beside it) that is the input table or lies inside it."""
    src = table.resolve()
    for target in (out, out.with_suffix(".png")):
        dst = target.resolve()
        if dst == src or src in dst.parents:
            raise ValueError(
                f"--out {out} would overwrite the input table {table}: choose another file"
            )


def run(args: argparse.Namespace) -> int:
    """Fit, write the fits table and the plot, print a one-line summary.

    Each curve (one value of the --by columns) is fitted to E(x) = E_inf + A x^-a
    (``fit_power_law``); with --x N,D the joint law E + A N^-alpha + B D^-beta is fitted instead
    (``fit_joint_law``, no picture).

    Args:
      args: the options of ``add_arguments``, parsed.

    Returns:
      0 (the exit code).

    Raises:
      ValueError: an --out that does not end in .csv or .parquet or would overwrite the input
        table, a negative --bootstrap, an unreadable table (``read_table``).

    Example:
      >>> import tempfile
      >>> import numpy as np
      >>> folder = Path(tempfile.mkdtemp())
      >>> n = np.geomspace(10, 1e4, 10)
      >>> table = pd.DataFrame({"n": n, "total": 0.01 + 2.0 * n**-0.7})
      >>> table.to_csv(folder / "runs.csv", index=False)
      >>> p = argparse.ArgumentParser(prog="simcollapse fit")
      >>> add_arguments(p)
      >>> args = p.parse_args([str(folder / "runs.csv"), "--bootstrap", "0",
      ...                      "--out", str(folder / "fits.csv")])
      >>> run(args)  # doctest: +ELLIPSIS
      1 curves fitted (0 not ok) -> .../fits.csv, .../fits.png
      0
      >>> sorted(f.name for f in folder.iterdir())
      ['fits.csv', 'fits.png', 'runs.csv']
    """

    out: Path = args.out
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise ValueError(f"--out must end in .csv or .parquet, got {out}")
    check_out(args.table, out)
    if args.bootstrap < 0:
        raise ValueError(f"--bootstrap must be >= 0, got {args.bootstrap}")
    table = read_table(args.table)
    # The bootstrap holds (resamples x rows) numbers a few times over.
    check_memory("--bootstrap", 8.0 * 4 * args.bootstrap * len(table), "the bootstrap resamples")
    by = [c.strip() for c in args.by.split(",") if c.strip()]
    if "," in args.x:
        return _run_joint(args, table, by)
    result = fit_power_law(
        table, args.x, args.y, by, stderr=args.stderr, huber=args.huber,
        bootstrap=args.bootstrap, key=args.seed,
    )  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        result.fits.to_csv(out, index=False)
    else:
        result.fits.to_parquet(out, index=False)
    picture = out.with_suffix(".png")
    plot_fits(result).savefig(picture, bbox_inches="tight")
    bad = int((result.fits.status != FitStatus.OK).sum())
    print(f"{len(result.fits)} curves fitted ({bad} not ok) -> {out}, {picture}")
    return 0


def _run_joint(args: argparse.Namespace, table: pd.DataFrame, by: list[str]) -> int:
    """``--x N,D``: the joint law E + A N^-alpha + B D^-beta per curve, no picture."""
    x = tuple(c.strip() for c in args.x.split(","))
    result = fit_joint_law(
        table, x, args.y, by, stderr=args.stderr, huber=args.huber,
        bootstrap=args.bootstrap, key=args.seed,
    )  # fmt: skip
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        result.fits.to_csv(out, index=False)
    else:
        result.fits.to_parquet(out, index=False)
    bad = int((result.fits.status != FitStatus.OK).sum())
    print(f"{len(result.fits)} joint laws fitted ({bad} not ok) -> {out}")
    return 0
