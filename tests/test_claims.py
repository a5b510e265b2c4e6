"""Figure claims: declared at registration, evaluated on the committed default tables, written
to claims.csv with the level; a folder of another level is not overwritten; figures readable."""

from __future__ import annotations

import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from figure_layout import legends_over_data, overlapping_texts  # noqa: E402

from simcollapse import cli  # noqa: E402
from simcollapse.figures import Claim, Figure, evaluate_folder  # noqa: E402
from simcollapse.figures.claims import COLUMNS, evaluate, failing  # noqa: E402
from simcollapse.figures.runner import check_level, select  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "figures"
FIGURES = select(None)


@pytest.fixture(scope="module")
def committed_claims() -> pd.DataFrame:
    return evaluate_folder(COMMITTED, FIGURES)


def test_every_figure_declares_a_claim() -> None:
    assert len(FIGURES) >= 21
    for fig in FIGURES:
        assert fig.claims, f"{fig.name} has no claim"
        for claim in fig.claims:
            assert claim.sentence.endswith(".") and "\n" not in claim.sentence, claim.id


def test_every_claim_holds_on_the_committed_default_tables(committed_claims) -> None:
    assert set(committed_claims.figure) == {f.name for f in FIGURES}
    assert (committed_claims.level == "default").all()
    assert committed_claims.holds.all(), "\n".join(failing(committed_claims))


def test_committed_claims_csv_is_up_to_date(committed_claims) -> None:
    """figures/claims.csv is what the claims measure on the committed tables, today."""
    written = pd.read_csv(COMMITTED / "claims.csv")
    assert list(written.columns) == COLUMNS
    keys = ["figure", "claim"]
    pd.testing.assert_frame_equal(
        written.drop(columns="measured").sort_values(keys, ignore_index=True),
        committed_claims.drop(columns="measured").sort_values(keys, ignore_index=True),
        check_dtype=False,
    )
    np.testing.assert_allclose(
        written.sort_values(keys).measured, committed_claims.sort_values(keys).measured, rtol=1e-9
    )


def test_claim_checks_its_comparison_and_nan() -> None:
    table = pd.DataFrame({"x": [1.0, 2.0]})
    assert Claim("a", "x.", lambda t: float(t.x.max()), "<=", 2.0).check(table) == (2.0, True)
    assert Claim("b", "x.", lambda t: float(t.x.max()), "<", 2.0).check(table) == (2.0, False)
    measured, holds = Claim("c", "x.", lambda t: float("nan"), ">=", 0.0).check(table)
    assert np.isnan(measured) and not holds


def test_a_claim_on_a_missing_column_does_not_hold() -> None:
    """Attribute access (t.y) and indexing (t["y"]) of a missing column: NaN, not holding."""
    fig = Figure("x", "x", compute=lambda ctx: None, plot=lambda t: None, claims=(
        Claim("attr", "y.", lambda t: float(t.y.max()), ">", 0.0),
        Claim("item", "y.", lambda t: float(t["y"].max()), ">", 0.0),
        Claim("x", "x.", lambda t: float(t.x.max()), ">", 0.0),
    ))  # fmt: skip
    claims = evaluate([fig], {"x": pd.DataFrame({"x": [1.0]})}, "quick")
    assert claims.holds.tolist() == [False, False, True]
    assert claims.measured.isna().tolist() == [True, True, False]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(id="a", comparison="~"), "comparison='~'"),
        (dict(id="two words"), "claim id='two words'"),
    ],
)
def test_bad_claims_are_refused(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Claim(sentence="s.", measure=lambda t: 0.0, **kwargs)


def test_duplicate_claim_ids_are_refused() -> None:
    claim = Claim("same", "s.", lambda t: 0.0)
    with pytest.raises(ValueError, match="claim ids must be unique"):
        Figure("x", "x", compute=lambda ctx: None, plot=lambda t: None, claims=(claim, claim))


def test_a_failing_claim_is_one_line_and_strict_exits_1(tmp_path: Path, capsys) -> None:
    name = "isotropic_corollary"
    table = pd.read_csv(COMMITTED / f"{name}.csv")
    table["closed_form"] *= 1.01  # the theory no longer equals the closed form
    table.to_csv(tmp_path / f"{name}.csv", index=False)
    assert cli.main(["figures", "--claims-only", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    bad = [line for line in out if line.startswith("claim does not hold")]
    assert len(bad) == 1 and f"{name}/theory-equals-closed-form" in bad[0]
    assert cli.main(["figures", "--claims-only", "--strict", "--out", str(tmp_path)]) == 1
    claims = pd.read_csv(tmp_path / "claims.csv")
    assert list(claims.figure.unique()) == [name] and not claims.holds.any()


def test_claims_of_a_folder_without_tables_are_not_reported_as_holding(
    tmp_path: Path, capsys
) -> None:
    for flag in ("--claims-only", "--from-tables"):
        assert cli.main(["figures", flag, "--strict", "--out", str(tmp_path)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "holds no figure table" in err[0]
    assert not (tmp_path / "claims.csv").exists()
    shutil.copy(COMMITTED / "pareto.csv", tmp_path)
    others = [f.name for f in FIGURES if f.name != "pareto"]
    assert cli.main(["figures", "--claims-only", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    (line,) = [row for row in out if row.startswith("no table for")]
    assert f"no table for {len(others)} of {len(FIGURES)} figure(s)" in line
    assert line.endswith(", ".join(others))
    assert cli.main(["figures", "--claims-only", "--strict", "--out", str(tmp_path)]) == 1
    capsys.readouterr()
    only = ["figures", "--claims-only", "--strict", "--only", "pareto", "--out", str(tmp_path)]
    assert cli.main(only) == 0
    assert not any(row.startswith("no table") for row in capsys.readouterr().out.splitlines())


def test_quick_run_refuses_the_committed_default_folder(capsys) -> None:
    """``simcollapse figures --quick --out figures`` in the repository changes nothing."""
    before = {p.name: p.stat().st_mtime_ns for p in COMMITTED.iterdir()}
    assert cli.main(["figures", "--quick", "--out", str(COMMITTED), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--overwrite" in err[0] and "default-level" in err[0]
    assert {p.name: p.stat().st_mtime_ns for p in COMMITTED.iterdir()} == before


def test_level_check_allows_the_same_level_and_overwrite(tmp_path: Path) -> None:
    (tmp_path / "claims.csv").write_text("figure,level\npareto,quick\n")
    check_level(tmp_path, "quick")
    check_level(tmp_path, "default", overwrite=True)
    with pytest.raises(ValueError, match="holds quick-level figures"):
        check_level(tmp_path, "full")
    check_level(tmp_path / "new", "full")  # a new folder holds nothing


def test_from_tables_redraws_without_computing(tmp_path: Path, capsys) -> None:
    name = "rp_error_terms"
    shutil.copy(COMMITTED / f"{name}.csv", tmp_path)
    code = cli.main(["figures", "--from-tables", "--only", name, "--out", str(tmp_path)])
    assert code == 0
    assert (tmp_path / f"{name}.png").stat().st_size > 10_000
    assert pd.read_csv(tmp_path / "claims.csv").holds.all()
    assert not (tmp_path / ".cache").exists()


@pytest.mark.parametrize("name", [f.name for f in FIGURES])
def test_committed_figure_is_readable(name: str) -> None:
    """No legend box over a data point, no text over another text (titles, axis and tick
    labels), drawing the committed default table."""
    fig_spec = next(f for f in FIGURES if f.name == name)
    fig = fig_spec.plot(pd.read_csv(COMMITTED / f"{name}.csv"))
    try:
        problems = legends_over_data(fig) + overlapping_texts(fig)
    finally:
        plt.close(fig)
    assert not problems, problems


def test_docs_are_generated_from_the_committed_claims() -> None:
    """docs/paper.md's claims table and README's captions are what claims_docs writes."""
    from simcollapse.figures.claims_docs import render

    for rel, text in render(ROOT).items():
        assert (ROOT / rel).read_text() == text, (
            f"{rel} is out of date: run python -m simcollapse.figures.claims_docs"
        )


def test_every_claim_cited_in_paper_md_exists(committed_claims) -> None:
    import re

    known = {f"{r.figure}/{r.claim}" for r in committed_claims.itertuples()}
    text = (ROOT / "docs" / "paper.md").read_text()
    cited = set(re.findall(r"`([a-z0-9_]+/[a-z0-9-]+)`", text))
    assert cited and cited <= known, sorted(cited - known)
    # every figure's claims are cited in the per-figure tables above the generated one
    above = text.split("<!-- claims:begin -->")[0]
    assert {f.name for f in FIGURES} <= {
        c.split("/")[0] for c in re.findall(r"`([a-z0-9_]+/[a-z0-9-]+)`", above)
    }
