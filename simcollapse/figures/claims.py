"""Claims: what a figure says, as a check over the tidy table it was drawn from.

A figure declares its claims where it is registered::

    register(Figure("demo", "caption", compute, plot, claims=(
        Claim("mix-above-real", "The mix is worse than all-real data at every width.",
              lambda t: float((t.mix_error - t.real_error).min()), ">", 0.0),
    )))

Each ``Claim`` has an id (unique within its figure), one sentence (what the docs and captions
may say), a function of the figure's table returning the measured number, and a comparison with
a threshold that makes it hold. A claim about simulated points measures in standard errors (the
largest |z|, or the fraction of points within 3 SE) so its threshold states the noise it allows.

``simcollapse figures`` evaluates every claim after drawing and writes ``OUT/claims.csv`` (one
row per claim: figure, claim, sentence, measured, threshold, holds, level); ``evaluate_folder``
re-evaluates them from the CSV tables already in a folder, without recomputing.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

__all__ = [
    "CLAIMS_FILE",
    "COLUMNS",
    "Claim",
    "evaluate",
    "evaluate_folder",
    "failing",
    "folder_levels",
    "max_abs_z",
    "missing_tables",
    "within_se",
]

CLAIMS_FILE = "claims.csv"
COLUMNS = ["figure", "claim", "sentence", "measured", "comparison", "threshold", "holds", "level"]
Comparison = Literal[">", ">=", "<", "<=", "=="]
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
}


@dataclasses.dataclass(frozen=True)
class Claim:
    """One statement about a figure, checked on its table: ``measure(table) <op> threshold``.

    Attributes:
      id: short identifier, unique within the figure (kebab-case), cited by the docs.
      sentence: the statement, one sentence, as the docs and captions may say it.
      measure: table -> the measured number (a float; NaN never holds).
      comparison: one of ">", ">=", "<", "<=", "==".
      threshold: the number the measurement is compared with.

    Example:
      >>> import pandas as pd
      >>> c = Claim("positive", "Every value is positive.", lambda t: float(t.x.min()), ">", 0)
      >>> c.check(pd.DataFrame({"x": [0.5, 2.0]}))
      (0.5, True)
    """

    id: str
    sentence: str
    measure: Callable[[pd.DataFrame], float]
    comparison: Comparison = ">="
    threshold: float = 0.0

    def __post_init__(self) -> None:
        if self.comparison not in _OPS:
            raise ValueError(
                f"comparison={self.comparison!r} of claim {self.id!r}: expected one of "
                f"{', '.join(_OPS)}"
            )
        if not self.id or any(ch.isspace() or ch == "," for ch in self.id):
            raise ValueError(f"claim id={self.id!r}: expected a non-empty word without spaces")

    def check(self, table: pd.DataFrame) -> tuple[float, bool]:
        """(measured, holds) on ``table``; a NaN measurement does not hold."""
        measured = float(self.measure(table))
        if np.isnan(measured):
            return measured, False
        return measured, bool(_OPS[self.comparison](measured, float(self.threshold)))


def within_se(measured: Iterable[float], expected: Iterable[float], se: Iterable[float]) -> float:
    """The fraction of points within 3 standard errors of what is expected (1.0 when empty).

    Example:
      >>> within_se([1.0, 2.0, 3.5], [1.0, 2.1, 3.0], [0.1, 0.1, 0.1])
      0.6666666666666666
    """
    z = _z(measured, expected, se)
    return float(np.mean(np.abs(z) <= 3.0)) if z.size else 1.0


def max_abs_z(measured: Iterable[float], expected: Iterable[float], se: Iterable[float]) -> float:
    """The largest |measured - expected| / se over the points (0.0 when empty).

    Example:
      >>> max_abs_z([1.0, 2.0], [1.1, 2.0], [0.05, 0.1])
      2.0000000000000018
    """
    z = _z(measured, expected, se)
    return float(np.max(np.abs(z))) if z.size else 0.0


def _z(measured: Iterable[float], expected: Iterable[float], se: Iterable[float]) -> np.ndarray:
    m, e, s = (np.asarray(list(v), float) for v in (measured, expected, se))
    with np.errstate(divide="ignore", invalid="ignore"):
        return (m - e) / s


def evaluate(figures: Iterable, tables: dict[str, pd.DataFrame], level: str | dict) -> pd.DataFrame:
    """Evaluate the claims of ``figures`` on their ``tables`` (figures without a table skipped).

    Args:
      figures: registered ``Figure`` objects.
      tables: figure name -> its tidy table.
      level: the level of every table ("quick", "default", "full"), or figure name -> level.

    Returns:
      One row per claim, columns ``COLUMNS``. A claim whose measure raises is reported as not
      holding, with a NaN measurement.

    Example:
      >>> from simcollapse.figures.registry import Figure
      >>> fig = Figure("demo", "a demo", compute=lambda ctx: None, plot=lambda t: None, claims=(
      ...     Claim("positive", "Every x is positive.", lambda t: float(t.x.min()), ">", 0.0),
      ...     Claim("has-y", "The table has a y.", lambda t: float(t["y"].max()), ">", 0.0),
      ... ))
      >>> claims = evaluate([fig], {"demo": pd.DataFrame({"x": [0.5, 2.0]})}, "quick")
      >>> claims[["claim", "measured", "holds", "level"]]
            claim  measured  holds  level
      0  positive       0.5   True  quick
      1     has-y       NaN  False  quick
    """
    rows = []
    for fig in figures:
        if fig.name not in tables:
            continue
        lev = level.get(fig.name, "") if isinstance(level, dict) else level
        for claim in fig.claims:
            try:
                measured, holds = claim.check(tables[fig.name])
            except (KeyError, AttributeError, ValueError, IndexError, ZeroDivisionError, TypeError):
                measured, holds = float("nan"), False
            rows.append(
                dict(
                    figure=fig.name,
                    claim=claim.id,
                    sentence=claim.sentence,
                    measured=measured,
                    comparison=claim.comparison,
                    threshold=float(claim.threshold),
                    holds=holds,
                    level=lev,
                )
            )
    return pd.DataFrame(rows, columns=COLUMNS)


def folder_levels(out: Path) -> dict[str, str]:
    """Figure name -> level of the figures recorded in ``out/claims.csv`` (empty when none).

    Example:
      >>> import tempfile
      >>> out = Path(tempfile.mkdtemp())
      >>> folder_levels(out)
      {}
      >>> pd.DataFrame({"figure": ["pareto", "pareto", "golden_ratio"], "claim": ["a", "b", "c"],
      ...               "level": ["default", "default", "quick"]}).to_csv(out / CLAIMS_FILE)
      >>> folder_levels(out)
      {'pareto': 'default', 'golden_ratio': 'quick'}
    """
    path = Path(out) / CLAIMS_FILE
    if not path.exists():
        return {}
    table = pd.read_csv(path, usecols=["figure", "level"]).dropna()
    return dict(zip(table["figure"].astype(str), table["level"].astype(str), strict=True))


def evaluate_folder(out: Path, figures: Iterable | None = None, level: str | None = None):
    """Evaluate the claims of every registered figure whose table ``out/NAME.csv`` exists.

    Nothing is recomputed: the tables are read back from the folder. Each figure's level is the
    one recorded in ``out/claims.csv`` (else ``level``, else "default").

    Returns:
      The claims table (columns ``COLUMNS``), not written; empty when the folder holds no
      figure table (``missing_tables`` says which are missing).

    Example:
      >>> import tempfile
      >>> evaluate_folder(Path(tempfile.mkdtemp())).empty  # no table: no claim to evaluate
      True
    """
    from simcollapse.figures.runner import select  # noqa: PLC0415 - every figure module loads on demand

    out = Path(out)
    figures = list(figures) if figures is not None else select(None)
    recorded = folder_levels(out)
    tables = {
        f.name: pd.read_csv(out / f"{f.name}.csv")
        for f in figures
        if (out / f"{f.name}.csv").exists()
    }
    levels = {name: recorded.get(name, level or "default") for name in tables}
    return evaluate(figures, tables, levels)


def missing_tables(out: Path, figures: Iterable | None = None) -> list[str]:
    """The names of ``figures`` (default: every registered figure) with no table
    ``out/NAME.csv``, in registry order: their claims cannot be evaluated from the folder.

    Example:
      >>> import tempfile
      >>> from simcollapse.figures.runner import select
      >>> out = Path(tempfile.mkdtemp())
      >>> _ = (out / "pareto.csv").write_text("n\\n1\\n")
      >>> "pareto" in missing_tables(out), len(missing_tables(out)) == len(select(None)) - 1
      (False, True)
    """
    from simcollapse.figures.runner import select  # noqa: PLC0415 - every figure module loads on demand

    figures = list(figures) if figures is not None else select(None)
    return [f.name for f in figures if not (Path(out) / f"{f.name}.csv").exists()]


def failing(claims: pd.DataFrame) -> list[str]:
    """One line per claim that does not hold: figure/claim: measured vs threshold, sentence.

    Args:
      claims: a claims table (columns ``COLUMNS``), as ``evaluate`` returns it.

    Returns:
      The lines, in the table's order; empty when every claim holds.

    Example:
      >>> claims = pd.DataFrame([
      ...     dict(figure="f", claim="ok", sentence="Holds.", measured=2.0, comparison=">",
      ...          threshold=1.0, holds=True, level="quick"),
      ...     dict(figure="f", claim="small-gap", sentence="The gap is small.", measured=0.123456,
      ...          comparison="<", threshold=0.05, holds=False, level="quick")])
      >>> failing(claims)
      ['claim does not hold: f/small-gap: measured 0.1235, needs < 0.05 (The gap is small.)']
    """
    lines = []
    for r in claims[~claims["holds"].astype(bool)].itertuples():
        lines.append(
            f"claim does not hold: {r.figure}/{r.claim}: measured {r.measured:.4g}, needs "
            f"{r.comparison} {r.threshold:.4g} ({r.sentence})"
        )
    return lines


BEGIN, END = "<!-- claims:begin -->", "<!-- claims:end -->"
CAPTIONS_BEGIN, CAPTIONS_END = "<!-- captions:begin -->", "<!-- captions:end -->"


def claims_markdown(claims: pd.DataFrame) -> str:
    """The claims table as Markdown: figure, claim id, sentence, measured, needed, holds.

    Example:
      >>> t = pd.DataFrame([dict(figure="f", claim="c", sentence="S.", measured=0.5,
      ...                        comparison=">", threshold=0.0, holds=True, level="default")])
      >>> print(claims_markdown(t).splitlines()[-1])
      | `f` | `f/c` | S. | 0.5 | > 0 | yes |
    """
    held = int(claims["holds"].sum())
    levels = ", ".join(sorted(set(claims["level"].astype(str))))
    lines = [
        f"{held} of {len(claims)} claims hold on the committed tables (level: {levels}); "
        "`simcollapse figures` writes this table to OUT/claims.csv on every run.",
        "",
        "| figure | claim | sentence | measured | needs | holds |",
        "|---|---|---|---|---|---|",
    ]
    for r in claims.itertuples():
        lines.append(
            f"| `{r.figure}` | `{r.figure}/{r.claim}` | {r.sentence.replace('|', '&#124;')} | "
            f"{r.measured:.4g} | "
            f"{r.comparison} {r.threshold:.4g} | {'yes' if r.holds else '**no**'} |"
        )
    return "\n".join(lines)


def captions_markdown(claims: pd.DataFrame, shown: dict[str, tuple[str, ...]]) -> str:
    """README picture captions: for each figure, its name and the sentences of the chosen claims.

    Args:
      claims: a claims table.
      shown: figure name -> the claim ids whose sentences make its caption.
    """
    by_id = {(r.figure, r.claim): r.sentence for r in claims.itertuples()}
    out = []
    for name, ids in shown.items():
        out.append(f"* **{name}**: " + " ".join(by_id[(name, i)] for i in ids))
    return "\n".join(out)


def replace_between(text: str, begin: str, end: str, body: str) -> str:
    """``text`` with what lies between the ``begin`` and ``end`` markers replaced by ``body``."""
    head, sep, rest = text.partition(begin)
    _, sep2, tail = rest.partition(end)
    if not sep or not sep2:
        raise ValueError(f"markers {begin} ... {end} not found")
    return f"{head}{begin}\n{body}\n{end}{tail}"
