"""``simcollapse fit``: power laws with a floor fitted to every curve of a CSV or parquet table."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from simcollapse.analysis.joint import fit_joint_law
from simcollapse.analysis.plot import plot_fits
from simcollapse.analysis.powerlaw import FitStatus, fit_power_law

__all__ = ["add_arguments", "read_table", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``simcollapse fit``."""
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
    """Read a .csv or .parquet table (an OSError or ValueError naming the file otherwise)."""
    if not path.exists():
        raise OSError(f"the table {path} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return pd.read_csv(path)
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    raise ValueError(f"the table {path} must end in .csv or .parquet, got {suffix or 'no suffix'}")


def run(args: argparse.Namespace) -> int:
    """Fit, write the fits table and the plot, print a one-line summary."""
    out: Path = args.out
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise ValueError(f"--out must end in .csv or .parquet, got {out}")
    table = read_table(args.table)
    by = [c.strip() for c in args.by.split(",") if c.strip()]
    if "," in args.x:
        return _run_joint(args, table, by)
    result = fit_power_law(
        table, args.x, args.y, by, stderr=args.stderr, huber=args.huber,
        bootstrap=args.bootstrap, seed=args.seed,
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
        bootstrap=args.bootstrap, seed=args.seed,
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
