"""Theory built from the MNIST data beside the measured MNIST learning curves.

For each seed the experiment's own split gives the teacher (ridge on n0 images, ``fit_teacher``)
and, for random features, the experiment's own first layer W (``random_feature_weights`` with
the sweep's key). The theory is ``data_problem`` on the whole training pool: the pixel (or
feature) covariance, the real teacher as the best linear predictor of the one-hot targets, the
synthetic shift as the teacher's labels projected the same way, all summed over the 10 outputs.
Its prediction of the test MSE (``DataProblem.test_mse``) is averaged over seeds, as are the
measurements.

Measured ridge on pixels (``pixel_ridge_sweep``) uses the splits, teachers and targets of
``random_feature_sweep``; w_hat = (X'X/n + lam I)^{-1} X'Y/n solved in float64.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import jax
import numpy as np
import pandas as pd

from simcollapse._aliases import seed_keyword
from simcollapse._validate import check_range
from simcollapse.analysis.seeds import mean_se
from simcollapse.data_problems import DataProblem, DroppedDirectionsWarning, data_problem
from simcollapse.keys import as_seed
from simcollapse.neural.experiments import mse_and_accuracy, teacher_for
from simcollapse.neural.mnist import Digits, one_hot
from simcollapse.neural.random_features import random_feature_weights
from simcollapse.neural.teacher import draw_split, mixed_targets

__all__ = [
    "mnist_data_problem",
    "pixel_ridge_sweep",
    "relative_gaps",
    "rf_key",
    "theory_curves",
]


def rf_key(seed: int, m: int) -> jax.Array:
    """The key of the first layer W that ``random_feature_sweep`` uses for (seed, width m).

    The key is ``jax.random.key(seed * 1_000_003 + m)``: the same (seed, m) draws the same W in
    the experiment and in the theory built from it; different widths draw different W.

    Example:
      >>> k = rf_key(0, 500)
      >>> bool((jax.random.key_data(k) == jax.random.key_data(jax.random.key(500))).all())
      True
      >>> bool((jax.random.key_data(rf_key(1, 500)) == jax.random.key_data(k)).all())
      False
    """
    return jax.random.key(seed * 1_000_003 + m)


# The MNIST figures drop feature directions below 1e-10 of the largest (penalties there are
# far above them): their numbers are those of that cutoff.
MNIST_RTOL = 1e-10


@seed_keyword
def mnist_data_problem(
    digits: Digits,
    key: Any,
    *,
    m: int = 0,
    n0: int = 200,
    n_train: int = 1,
    teacher_lam: float = 1e-2,
    finite_pool: bool = True,
) -> DataProblem:
    """The ``DataProblem`` of the MNIST experiment for one seed: pixels (m = 0) or width-m RF.

    Args:
      digits: the data; the covariance comes from its whole training pool.
      key: an int or a ``jax.random`` key; its seed (``keys.as_seed``) is the experiment's
        seed (split, teacher and, for features, W).
      m: 0 for ridge on pixels, else the random-feature width (covariance m x m, 8 m^2 bytes).
      n0, teacher_lam: the teacher (ridge on n0 images), as in ``random_feature_sweep``.
      n_train: the sweep's largest n (only the split's size check depends on it).
      finite_pool: the pool-size corrections of ``data_problem`` (False: plain in-sample moments).

    Returns:
      ``data_problem`` of the pool with the seed's teacher as synthetic labeller.

    Example:
      >>> from simcollapse.neural import load_builtin
      >>> dp = mnist_data_problem(load_builtin(), key=0, n0=50, n_train=100)
      >>> dp.dim, dp.problem.d <= 784, bool(dp.problem.c2 > 0)
      (784, True, True)
    """
    check_range("m", m, 0, integer=True)
    seed = as_seed(key)
    split = draw_split(digits.n_pool, n_train, n0, seed)
    teacher = teacher_for(digits, split, "pixels", teacher_lam, seed)
    features = None
    if m:
        w = np.asarray(random_feature_weights(rf_key(seed, m), m, digits.dim), np.float64)

        def features(x: np.ndarray) -> np.ndarray:
            return np.maximum(x @ w.T, 0.0)

    return data_problem(
        digits.x_train,
        one_hot(digits.y_train),
        teacher=lambda x: np.asarray(teacher.predict(x.astype(np.float32))),
        features=features,
        finite_pool=finite_pool,
        rtol=MNIST_RTOL,
    )


def pixel_ridge_sweep(
    digits: Digits,
    ns: Sequence[int],
    p2s: Sequence[float],
    seeds: Sequence[int],
    *,
    n0: int = 200,
    teacher_lam: float = 1e-2,
    lam: float = 1e-3,
) -> pd.DataFrame:
    """Measured test MSE of ridge on pixels, one row per (n, p2, seed), model = "pixels".

    Splits, teachers and mixed targets are those of ``random_feature_sweep`` with the same seeds.

    Example:
      >>> from simcollapse.neural import load_builtin
      >>> table = pixel_ridge_sweep(load_builtin(), ns=[100, 200], p2s=[0.0, 0.5], seeds=[0], n0=50)
      >>> len(table), sorted(set(table.model))
      (4, ['pixels'])
    """
    check_range("lam", lam, 0.0, low_open=True)
    rows = []
    for seed in seeds:
        split = draw_split(digits.n_pool, max(ns), n0, seed)
        teacher = teacher_for(digits, split, "pixels", teacher_lam, seed)
        for n in ns:
            x = digits.x_train[split.train[:n]].astype(np.float64)
            y_real = one_hot(digits.y_train[split.train[:n]])
            ys = mixed_targets(y_real, np.asarray(teacher.predict(x.astype(np.float32))), p2s)
            gram = x.T @ x / n + lam * np.eye(x.shape[1])
            coef = np.linalg.solve(gram, np.einsum("nd,pnk->pdk", x, ys) / n)
            mse, acc = mse_and_accuracy(digits.x_test.astype(np.float64) @ coef, digits.y_test)
            rows += [
                dict(model="pixels", m=0, n=n, p2=p2, seed=seed, test_mse=float(e), test_acc=a)
                | dict(teacher_mse=teacher.test_mse, n0=n0, lam=lam, data_source=digits.source)
                for p2, e, a in zip(p2s, mse, acc, strict=True)
            ]
    return pd.DataFrame(rows)


def theory_curves(
    digits: Digits,
    ns: Sequence[int],
    p2s: Sequence[float],
    seeds: Sequence[int],
    *,
    m: int = 0,
    n0: int = 200,
    teacher_lam: float = 1e-2,
    lam: float = 1e-3,
    finite_pool: bool = True,
) -> pd.DataFrame:
    """Predicted test MSE, mean over the seeds' problems, one row per (n, p2).

    Columns: model ("pixels" or "random_features"), m, n, p2, test_mse, c2 (the teacher's shift
    in the theory, tr(Sigma Delta)), sigma2, kept (directions kept of the 784 pixels or m
    features; the others fell below the eigenvalue cutoff), kind = "theory".

    Example:
      >>> from simcollapse.neural import load_builtin
      >>> curves = theory_curves(load_builtin(), ns=[100, 200], p2s=[0.5], seeds=[0], n0=50)
      >>> len(curves), sorted(set(curves.kind)), bool((curves.test_mse > 0).all())
      (2, ['theory'], True)
    """
    grid_n, grid_p2 = np.meshgrid(np.asarray(ns, float), np.asarray(p2s, float), indexing="ij")
    preds, c2s, sigma2s, kept = [], [], [], []
    for seed in seeds:
        with warnings.catch_warnings():  # the dropped directions are reported in "kept"
            warnings.simplefilter("ignore", DroppedDirectionsWarning)
            fit = mnist_data_problem(
                digits,
                seed,
                m=m,
                n0=n0,
                n_train=max(ns),
                teacher_lam=teacher_lam,
                finite_pool=finite_pool,
            )
        preds.append(fit.test_mse(grid_n, lam, grid_p2))
        c2s.append(float(fit.problem.c2))
        sigma2s.append(fit.problem.sigma2)
        kept.append(fit.problem.d)
    return pd.DataFrame(
        {
            "model": "random_features" if m else "pixels",
            "m": m,
            "n": grid_n.ravel().astype(int),
            "p2": grid_p2.ravel(),
            "test_mse": np.mean(preds, axis=0).ravel(),
            "c2": np.mean(c2s),
            "sigma2": np.mean(sigma2s),
            "kept": int(np.mean(kept)),
            "kind": "theory",
        }
    )


def relative_gaps(measured: pd.DataFrame, theory: pd.DataFrame) -> pd.DataFrame:
    """Per (model, m, n, p2): mean measured test MSE, its SE over seeds, theory, relative gap.

    gap = theory / measured - 1 (signed); ``abs(gap)`` is what the tests and docs summarise.

    Example:
      >>> import pandas as pd
      >>> keys = {"model": "pixels", "m": 0, "n": 200, "p2": 0.5}
      >>> measured = pd.DataFrame([{**keys, "test_mse": v} for v in (0.40, 0.44)])  # two seeds
      >>> theory = pd.DataFrame([{**keys, "test_mse": 0.399}])
      >>> row = relative_gaps(measured, theory).iloc[0]
      >>> round(float(row.measured), 3), round(float(row.se), 3), round(float(row.gap), 3)
      (0.42, 0.02, -0.05)
    """
    keys = ["model", "m", "n", "p2"]
    summary = mean_se(measured, keys, "test_mse")
    out = summary.merge(theory[[*keys, "test_mse"]], on=keys).rename(
        columns={"mean": "measured", "test_mse": "theory"}
    )
    out["gap"] = out["theory"] / out["measured"] - 1.0
    return out
