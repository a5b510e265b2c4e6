"""The paper's numbered figures: the mapping, the aliases, and each claim read off its table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simcollapse import Problem, cli
from simcollapse.figures.registry import MODES, NEW, registry
from simcollapse.figures.runner import load_builtin_figures, select
from simcollapse.theory import rp_error

NEW_FIGURES = ["pareto", "rp_error_terms", "rp_width"]


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
    out = tmp_path_factory.mktemp("paper_figures")
    argv = ["figures", "--quick", "--only", "fig1", "fig2", "fig4", "--out", str(out)]
    assert cli.main([*argv, "--no-progress"]) == 0
    return out


def table(out: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(out / f"{name}.csv")


# ------------------------------------------------------------------------------- the mapping


def test_every_figure_says_which_paper_figure_it_reproduces() -> None:
    load_builtin_figures()
    for figure in registry().values():
        assert figure.paper == NEW or figure.paper_number is not None, figure.name
        assert figure.full_caption.startswith(("Paper Figure", "New (not in the paper)"))
    numbers = {f.paper_number for f in registry().values()}
    assert {1, 2, 4} <= numbers


@pytest.mark.parametrize("alias", ["fig1", "figure-1", "Figure1", "figure_1", "pareto"])
def test_paper_numbers_are_aliases(alias: str) -> None:
    assert [f.name for f in select([alias])] == ["pareto"]


def test_an_alias_and_its_name_select_the_figure_once() -> None:
    assert [f.name for f in select(["fig2", "rp_error_terms", "figure-4"])] == [
        "rp_error_terms",
        "rp_width",
    ]


def test_figure8_selects_both_halves_and_not_the_new_size_figure() -> None:
    assert [f.name for f in select(["fig8"])] == ["lm_synthetic_fraction", "lm_depth"]
    assert registry()["lm_model_size"].paper == NEW


def test_unknown_paper_figure_lists_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["figures", "--only", "fig99", "--list"]) == 2
    err = capsys.readouterr().err
    assert "unknown figure 'fig99'" in err and "fig1" in err


def test_list_shows_the_mapping(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["figures", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    pareto = next(line for line in lines if line.startswith("pareto "))
    assert "Figure 1" in pareto
    assert any("new: not in the paper" in line for line in lines)


def test_every_area_has_three_levels() -> None:
    from simcollapse.figures import mixing, paper_common, pareto, width
    from simcollapse.neural import figures as mnist

    tables = [
        pareto.PRESETS,
        *paper_common.PRESETS.values(),
        *width.PRESETS.values(),
        *mixing.CONFIGS.values(),
        mnist.SETTINGS,
    ]
    for presets in tables:
        assert set(presets) == set(MODES)
        assert presets["quick"] != presets["default"]


# ------------------------------------------------------------------------------- the tables


@pytest.mark.parametrize("name", NEW_FIGURES)
def test_png_pdf_and_csv_written(out: Path, name: str) -> None:
    for ext in ("png", "pdf", "csv"):
        assert (out / f"{name}.{ext}").stat().st_size > 1000


def test_figure1_mix_above_real_and_gap_grows_with_c2(out: Path) -> None:
    t = table(out, "pareto")
    th = t[t.method == "theory"]
    for (p2, m), part in th.groupby(["p2", "m"]):
        part = part.sort_values("c2")
        assert np.allclose(part.gap[part.c2 == 0], 0.0, atol=1e-9)
        positive = part[part.c2 > 0]
        assert (positive.mix_error > positive.real_error).all(), (p2, m)
        assert np.all(np.diff(part.gap.to_numpy()) > 0), (p2, m)


def test_figure1_gap_grows_with_width_below_threshold_and_shrinks_beyond(out: Path) -> None:
    t = table(out, "pareto")
    th = t[(t.method == "theory") & (t.c2 > 0)]
    for (p2, c2), part in th.groupby(["p2", "c2"]):
        part = part.sort_values("m")
        below = part[part.psi < 1].gap.to_numpy()
        beyond = part[part.psi > 1].gap.to_numpy()
        assert len(below) >= 5 and len(beyond) >= 5
        assert np.all(np.diff(below) > 0), (p2, c2)
        assert np.all(np.diff(beyond) < 0), (p2, c2)
        assert np.all(beyond > 0), (p2, c2)


def test_figure1_simulated_points_agree_with_theory(out: Path) -> None:
    t = table(out, "pareto")
    sim = t[t.method == "simulate"]
    assert len(sim) >= 2
    for r in sim.itertuples():
        prob = Problem.isotropic(int(r.d), c2=r.c2, sigma2=r.sigma2)
        for p2, value, se in (
            (0.0, r.real_error, r.real_stderr),
            (r.p2, r.mix_error, r.mix_stderr),
        ):
            expected = rp_error(prob, r.n, r.m, r.lam, p2).total
            assert abs(value - expected) <= 4 * se, (r.m, r.c2, p2, value, expected, se)


def test_figure2_every_term_peaks_at_the_threshold(out: Path) -> None:
    t = table(out, "rp_error_terms")
    for lam, part in t.groupby("lam"):
        part = part.sort_values("psi")
        nearest = part.psi.to_numpy()[np.argmin(np.abs(np.log(part.psi.to_numpy())))]
        for term in ("bias", "variance", "zeta"):
            values = part[term].to_numpy()
            assert np.all(np.isfinite(values)), (lam, term)
            assert part.psi.to_numpy()[np.argmax(values)] == nearest, (lam, term)
    smallest = t[t.lam == t.lam.min()]
    larger = t[t.lam == t.lam.max()]
    for term in ("bias", "variance", "zeta"):  # sharper as lam -> 0: the divergence
        assert smallest[term].max() > 3 * larger[term].max(), term


def test_figure4_error_rises_with_p2_and_most_near_the_threshold(out: Path) -> None:
    t = table(out, "rp_width")
    th = t[t.method == "theory"]
    for (c2, m), part in th.groupby(["c2", "m"]):
        assert np.all(np.diff(part.sort_values("p2").total.to_numpy()) > 0), (c2, m)
    clean = th[th.p2 == 0].set_index(["c2", "m"]).total
    worst = th[th.p2 == th.p2.max()].set_index(["c2", "m"]).total
    excess = (worst - clean).groupby(level="c2")
    for c2, values in excess:
        m_peak = values.idxmax()[1]
        assert 0.8 <= m_peak / th.n.iloc[0] <= 1.25, c2


@pytest.mark.parametrize(
    ("flags", "mode"), [([], "default"), (["--quick"], "quick"), (["--full"], "full")]
)
def test_figures_command_level(
    flags: list[str], mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import simcollapse.figures.runner as runner

    seen = {}
    monkeypatch.setattr(runner, "write_figures", lambda figs, ctx, *a, **k: seen.update(ctx=ctx))
    assert cli.main(["figures", *flags, "--only", "fig2", "--out", str(tmp_path)]) == 0
    assert seen["ctx"].mode == mode


def test_claims_hold(out: Path) -> None:
    """Every claim of pareto, rp_error_terms and rp_width holds on the tables in the folder."""
    from simcollapse.figures import evaluate_folder
    from simcollapse.figures.claims import failing

    claims = evaluate_folder(out)
    assert {"pareto", "rp_error_terms", "rp_width"} <= set(claims.figure)
    assert claims.holds.all(), "\n".join(failing(claims))


@pytest.mark.parametrize("name", ["pareto", "rp_error_terms", "rp_width"])
def test_quick_figures_are_readable(out: Path, name: str) -> None:
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
