"""The claims of the golden_ratio figure, each a ``Claim`` over its table (columns figure,
panel, curve, source, n, lam, t, weight, total, stderr); ``simcollapse.figures.golden`` gives
them to the figure it registers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simcollapse.figures.claims import Claim

__all__ = ["GOLDEN"]

INV_PHI = (np.sqrt(5.0) - 1.0) / 2.0


def _optima(t: pd.DataFrame, source: str) -> pd.DataFrame:
    return t[(t.panel == "optimum") & (t.source == source)]


def _last(t: pd.DataFrame, curve: str) -> float:
    th = _optima(t, "theory")
    th = th[th.curve == curve]
    return float(th.weight[th.t == th.t.max()].iloc[0])


def _large_n_gap(t: pd.DataFrame) -> float:
    """|optimal weight - 1/phi| at the last generation, OLS with n >> d."""
    return abs(_last(t, "OLS, n >> d") - INV_PHI)


def _ridge_smallest(t: pd.DataFrame) -> float:
    """The smallest ridge optimum over every ridge curve and generation."""
    th = _optima(t, "theory")
    return float(th.weight[th.curve.str.startswith("ridge")].min())


def _ridge_shift(t: pd.DataFrame) -> float:
    """Smallest (ridge optimum - OLS optimum at the same n) at the last generation."""
    ridge = [c for c in _optima(t, "theory").curve.unique() if c.startswith("ridge")]
    return min(_last(t, c) - _last(t, "OLS") for c in ridge)


def _simulated_optimum_gap(t: pd.DataFrame) -> float:
    """Largest |Monte Carlo optimum - theory optimum| over the simulated curves and generations."""
    th = _optima(t, "theory").set_index(["curve", "t"]).weight
    mc = _optima(t, "simulation").set_index(["curve", "t"]).weight
    return float(np.max(np.abs(mc - th.loc[mc.index])))


def _theory_vs_simulation(t: pd.DataFrame) -> float:
    """Largest |simulation - theory| / (3 SE + 3% theory) on the error panel."""
    err = t[t.panel == "error"]
    th = err[err.source == "theory"].set_index(["curve", "weight"]).total
    s = err[err.source == "simulation"]
    ref = np.array([th.loc[(c, w)] for c, w in zip(s.curve, s.weight, strict=True)])
    return float(np.max(np.abs(s.total.to_numpy() - ref) / (3 * s.stderr.to_numpy() + 0.03 * ref)))


GOLDEN = (
    Claim(
        "ols-optimum-tends-to-inverse-phi",
        "OLS with n >> d: the optimal real weight at the last generation is within 0.01 of "
        "1/phi = 0.618 (|gap|, < 0.01).",
        _large_n_gap,
        "<",
        0.01,
    ),
    Claim(
        "ridge-optimum-at-least-half",
        "With ridge the optimal real weight is at least 1/2 at every generation (smallest "
        "ridge optimum, >= 0.5).",
        _ridge_smallest,
        ">=",
        0.5,
    ),
    Claim(
        "ridge-raises-the-optimum",
        "At the last generation every ridge optimum lies above the OLS optimum at the same n "
        "(smallest difference, > 0).",
        _ridge_shift,
        ">",
        0.0,
    ),
    Claim(
        "simulated-optimum-matches-theory",
        "The Monte Carlo optimum (parabola through the smallest simulated error) is within 0.05 "
        "of the theory optimum at every simulated generation (largest gap, < 0.05).",
        _simulated_optimum_gap,
        "<",
        0.05,
    ),
    Claim(
        "theory-matches-simulation",
        "At the last generation the theory error is within 3 SE + 3% of the Monte Carlo mean at "
        "every simulated weight (largest ratio, <= 1).",
        _theory_vs_simulation,
        "<=",
        1.0,
    ),
)
