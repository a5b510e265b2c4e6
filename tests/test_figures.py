"""The paper's figures: PNG, PDF and CSV written, and the paper's claims read off their tables."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simcollapse as sc
from simcollapse import cli
from simcollapse.figures.theory_check import MAIN_FIGURES
from simcollapse.sweep import problem_of_row

NAMES = [*MAIN_FIGURES, "theory_vs_simulation"]


COMMITTED = Path(__file__).resolve().parents[1] / "figures"


@pytest.fixture(
    scope="module",
    # The quick level end to end is CI's figures run (README's first command) and -m slow here.
    params=[pytest.param("quick", marks=pytest.mark.slow), "committed"],
)
def out(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh ``--quick`` run, and the default level's output committed in figures/."""
    if request.param == "committed":
        return COMMITTED
    out = tmp_path_factory.mktemp("figures")
    assert (
        cli.main(["figures", "--quick", "--only", *NAMES, "--out", str(out), "--no-progress"]) == 0
    )
    return out


def table(out: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(out / f"{name}.csv")


@pytest.mark.parametrize("name", NAMES)
def test_each_figure_has_png_pdf_and_csv(out: Path, name: str) -> None:
    for ext in ("png", "pdf", "csv"):
        path = out / f"{name}.{ext}"
        assert path.exists() and path.stat().st_size > 1000, path
    assert (out / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / f"{name}.pdf").read_bytes()[:4] == b"%PDF"


@pytest.mark.parametrize("name", MAIN_FIGURES)
def test_theory_column_equals_direct_call(out: Path, name: str) -> None:
    rows = table(out, name)
    rows = rows[rows.method == "theory"].sample(5, random_state=1)
    for r in rows.itertuples():
        prob = problem_of_row(r)
        if r.model == "rp":
            direct = sc.theory.rp_error(prob, r.n, r.m, r.lam, r.p2).total
        else:
            direct = sc.theory.ridge_error(prob, r.n, r.lam, r.p2).total
        np.testing.assert_allclose(r.total, direct, rtol=1e-9)


def test_strong_collapse_plateau(out: Path) -> None:
    t = table(out, "scaling_plateau")
    th = t[t.method == "theory"]
    n_max = th.n.max()
    clean = th[(th.p2 == 0)].sort_values("n")
    last = clean[clean.n == n_max].total.item()
    for p2 in sorted(th.p2.unique())[1:]:
        row = th[(th.p2 == p2) & (th.n == n_max)]
        floor = p2**2 * row.c2.item()
        assert abs(row.total.item() - last - floor) <= 0.1 * floor, p2
    tail = clean.total.to_numpy()[-10:]
    assert np.all(np.diff(tail) < 0), "the clean curve must keep decreasing"


def test_width_double_descent_peaks_at_threshold(out: Path) -> None:
    t = table(out, "width_double_descent")
    clean = t[(t.method == "theory") & (t.p2 == 0)]
    lam_min = clean.lam.min()
    clean = clean[clean.lam == lam_min]
    psi_peak = clean.psi.to_numpy()[np.argmax(clean.total.to_numpy())]
    assert 0.8 <= psi_peak <= 1.25


def test_model_size_regimes_show_both_behaviours(out: Path) -> None:
    """Low quality: the widest model is worse by >= 15% at every n > 2 m_max (it amplifies) and
    better at every n < m_min (it mitigates); high quality: better at every n > 2 m_max."""
    t = table(out, "model_size_regimes")
    th = t[t.method == "theory"]
    ratio = {}
    for regime, part in th.groupby("regime"):
        grid = part.pivot_table(index="n", columns="m", values="total").sort_index(axis=1)
        ratio[regime] = grid.iloc[:, -1] / grid.iloc[:, 0]  # widest over narrowest
    m_min, m_max = th.m.min(), th.m.max()
    low, high = ratio["low quality"], ratio["high quality"]
    assert (low[low.index > 2 * m_max] > 1.15).all()
    assert (low[low.index < m_min] < 1 / 1.15).all()
    assert (high[high.index > 2 * m_max] < 1 / 1.15).all()
    assert len(low[low.index > 2 * m_max]) >= 10


def test_theory_vs_simulation_agree(out: Path) -> None:
    t = table(out, "theory_vs_simulation")
    assert len(t) >= 40
    assert np.median(np.abs(t.relative_difference)) < 0.05
    z = (t.total - t.theory) / t.stderr
    assert np.mean(np.abs(z) <= 3) >= 0.95, t.assign(z=z)[np.abs(z) > 3]


def test_unknown_figure_lists_known_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["figures", "--only", "no_such_figure", "--out", "/tmp/unused"]) == 2
    err = capsys.readouterr().err
    assert "unknown figure 'no_such_figure'" in err and "scaling_plateau" in err


def test_unwritable_output_gives_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    code = cli.main(["figures", "--only", "isotropic_corollary", "--out", str(blocker / "figs")])
    assert code == 2
    assert "cannot create the output folder" in capsys.readouterr().err


def test_list_prints_every_caption(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["figures", "--list"]) == 0
    out = capsys.readouterr().out
    for name in NAMES:
        assert name in out


def test_claims_hold(out: Path) -> None:
    """Every claim of the figures in the folder holds; a quick run recorded its level."""
    from simcollapse.figures import evaluate_folder
    from simcollapse.figures.claims import failing

    claims = evaluate_folder(out)
    assert set(NAMES) <= set(claims.figure)
    assert claims.holds.all(), "\n".join(failing(claims))
    if out != COMMITTED:
        written = pd.read_csv(out / "claims.csv")
        assert set(written.level) == {"quick"} and written.holds.all()


@pytest.mark.parametrize("name", NAMES)
def test_quick_figures_are_readable(out: Path, name: str) -> None:
    """Drawn from the quick tables: no legend over data, no overlapping texts (the committed
    tables are checked in test_claims.py)."""
    import matplotlib.pyplot as plt
    from figure_layout import legends_over_data, overlapping_texts

    from simcollapse.figures import get

    if out == COMMITTED:
        pytest.skip("the committed tables are drawn in test_claims.py")
    fig = get(name).plot(table(out, name))
    try:
        problems = legends_over_data(fig) + overlapping_texts(fig)
    finally:
        plt.close(fig)
    assert not problems, problems
