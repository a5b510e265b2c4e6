"""The claims of the theory figures (scaling_plateau ... theory_vs_simulation, pareto, rp_*).

Each is a ``Claim``: an id, the sentence the docs may say, a function of the figure's table
(as written to NAME.csv) returning the measured number, and the threshold that makes it hold.
The figures take them at registration (``Figure(..., claims=...)``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simcollapse.figures.claims import Claim, within_se

__all__ = [
    "ISOTROPIC_COROLLARY",
    "MODEL_SIZE_REGIMES",
    "PARETO",
    "RP_ERROR_TERMS",
    "RP_WIDTH",
    "SCALING_PLATEAU",
    "SYNTHETIC_FRACTION",
    "THEORY_VS_SIMULATION",
    "WIDTH_DOUBLE_DESCENT",
]


def _theory(t: pd.DataFrame) -> pd.DataFrame:
    return t[t.method == "theory"]


# ------------------------------------------------------------------------------ scaling_plateau
def _plateau_error(t: pd.DataFrame) -> float:
    """Largest |E_mix - E_clean - p2^2 c^2| / (p2^2 c^2) at the largest n, over p2 > 0."""
    th = _theory(t)
    at = th[th.n == th.n.max()].set_index("p2")
    clean = at.loc[0.0, "total"]
    floors = at[at.index > 0]
    rel = (floors.total - clean - floors.index**2 * floors.c2) / (floors.index**2 * floors.c2)
    return float(np.abs(rel).max())


def _clean_tail_slope(t: pd.DataFrame) -> float:
    th = _theory(t)
    clean = th[th.p2 == 0].sort_values("n").total.to_numpy()
    return float(np.diff(clean[-10:]).max())


def _smallest_p2_stops(t: pd.DataFrame) -> float:
    """E_mix / E_clean at the largest n for the smallest p2 > 0."""
    th = _theory(t)
    at = th[th.n == th.n.max()].set_index("p2").total
    return float(at[at.index > 0].iloc[0] / at.loc[0.0])


SCALING_PLATEAU = (
    Claim(
        "plateau-at-p2-squared-c2",
        "At the largest n every p2 > 0 sits p2^2 c^2 above the clean curve (within 10%).",
        _plateau_error,
        "<=",
        0.1,
    ),
    Claim(
        "clean-keeps-falling",
        "The clean curve keeps falling over its last ten grid points.",
        _clean_tail_slope,
        "<",
        0.0,
    ),
    Claim(
        "smallest-p2-stops-the-law",
        "With the smallest synthetic fraction drawn (p2 = 0.001, 1 in 1000) the error at the "
        "largest n is at least twice the clean one.",
        _smallest_p2_stops,
        ">=",
        2.0,
    ),
)


# -------------------------------------------------------------------------- isotropic_corollary
def _closed_form_error(t: pd.DataFrame) -> float:
    th = _theory(t)
    return float(np.abs(th.total / th.closed_form - 1).max())


ISOTROPIC_COROLLARY = (
    Claim(
        "theory-equals-closed-form",
        "The ridgeless theory equals Corollary 1's closed form at every phi (relative 1e-9).",
        _closed_form_error,
        "<=",
        1e-9,
    ),
)


# --------------------------------------------------------------------------- model_size_regimes
def _width_ratio(t: pd.DataFrame, regime: str) -> pd.Series:
    th = _theory(t)
    part = th[th.regime == regime]
    grid = part.pivot_table(index="n", columns="m", values="total").sort_index(axis=1)
    return grid.iloc[:, -1] / grid.iloc[:, 0]  # widest over narrowest


def _ratio_where(regime: str, side: str, agg: str):
    def measure(t: pd.DataFrame) -> float:
        ratio = _width_ratio(t, regime)
        m = _theory(t).m
        sel = (
            ratio[ratio.index > 2 * m.max()] if side == "large-n" else ratio[ratio.index < m.min()]
        )
        return float(getattr(sel, agg)())

    return measure


MODEL_SIZE_REGIMES = (
    Claim(
        "low-quality-wider-amplifies",
        "With low-quality synthetic data (c^2 = 8) the widest model's error is at least 15% "
        "above the narrowest's at every n > 2 m (larger models amplify collapse).",
        _ratio_where("low quality", "large-n", "min"),
        ">",
        1.15,
    ),
    Claim(
        "low-quality-wider-mitigates-beyond-threshold",
        "With low-quality synthetic data the widest model's error is at least 15% below the "
        "narrowest's at every n < m (beyond the threshold they mitigate it).",
        _ratio_where("low quality", "small-n", "max"),
        "<",
        1 / 1.15,
    ),
    Claim(
        "high-quality-wider-better",
        "With high-quality synthetic data (c^2 = 0.2) the widest model's error is at least 15% "
        "below the narrowest's at every n > 2 m.",
        _ratio_where("high quality", "large-n", "max"),
        "<",
        1 / 1.15,
    ),
)


# ------------------------------------------------------------------------- width_double_descent
def _peak_offset(t: pd.DataFrame) -> float:
    """|log psi| at the clean error's peak (smallest ridge)."""
    th = _theory(t)
    clean = th[(th.p2 == 0) & (th.lam == th.lam.min())]
    return float(abs(np.log(clean.psi.to_numpy()[np.argmax(clean.total.to_numpy())])))


def _side_shape(y: np.ndarray, psi: np.ndarray, side: str) -> float:
    """A curve y(psi) sorted by psi: "below", its smallest step for psi < 0.9 (> 0: it rises up
    to psi = 1); "beyond", minus its largest step for psi > 1.1 (> 0: it falls beyond); else its
    smallest value."""
    if side == "below":
        return np.diff(y[psi < 0.9]).min()
    if side == "beyond":
        return -np.diff(y[psi > 1.1]).max()
    return y.min()


def _zeta_shape(t: pd.DataFrame, side: str) -> float:
    th = _theory(t)
    out = []
    for _, g in th[th.p2 > 0].groupby("p2"):
        g = g.sort_values("psi")
        out.append(_side_shape(g.zeta.to_numpy(), g.psi.to_numpy(), side))
    return float(min(out))


WIDTH_DOUBLE_DESCENT = (
    Claim(
        "peak-at-m-equals-n",
        "The clean error peaks at m = n (psi within a factor 1.25 of 1).",
        _peak_offset,
        "<=",
        float(np.log(1.25)),
    ),
    Claim(
        "synthetic-term-grows-below-threshold",
        "The synthetic term zeta grows with the width below m = n (smallest step, > 0).",
        lambda t: _zeta_shape(t, "below"),
        ">",
        0.0,
    ),
    Claim(
        "synthetic-term-shrinks-beyond-threshold",
        "The synthetic term zeta shrinks with the width beyond m = n (smallest decrease, > 0).",
        lambda t: _zeta_shape(t, "beyond"),
        ">",
        0.0,
    ),
    Claim(
        "synthetic-term-never-vanishes",
        "The synthetic term zeta stays positive at every width (its smallest value).",
        lambda t: _zeta_shape(t, "min"),
        ">",
        0.0,
    ),
)


# ---------------------------------------------------------------------------- synthetic_fraction
def _rise_with_p2(t: pd.DataFrame) -> float:
    th = _theory(t)
    steps = [
        np.diff(g.sort_values("p2").total.to_numpy()).min() for _, g in th.groupby(["width", "n"])
    ]
    return float(min(steps))


def _wide_equals_ridge(t: pd.DataFrame) -> float:
    """Largest relative difference between a width m >= d and ridge, over the theory grid."""
    th = _theory(t)
    ridge = th[th.width.str.startswith("ridge")].set_index(["n", "p2"]).total
    wide = th[th.m >= th.d]
    if not len(wide):
        return 0.0
    w = wide.set_index(["n", "p2"]).total
    return float(np.abs(w / ridge.loc[w.index] - 1).max())


SYNTHETIC_FRACTION = (
    Claim(
        "wide-model-equals-ridge",
        "A random projection of width m >= d has the ridge error within 0.1% at every p2 and n, "
        "so it lies on the ridge line (largest relative difference).",
        _wide_equals_ridge,
        "<=",
        1e-3,
    ),
    Claim(
        "error-rises-with-p2",
        "At every n and width the test error rises with the synthetic fraction p2 (smallest "
        "step between neighbouring p2, > 0).",
        _rise_with_p2,
        ">",
        0.0,
    ),
)


# ------------------------------------------------------------------------- theory_vs_simulation
THEORY_VS_SIMULATION = (
    Claim(
        "simulation-within-3-se",
        "At least 95% of the simulated points lie within 3 standard errors of their theory value.",
        lambda t: within_se(t.total, t.theory, t.stderr),
        ">=",
        0.95,
    ),
    Claim(
        "median-relative-difference",
        "The median |simulation - theory| / theory is below 5%.",
        lambda t: float(np.median(np.abs(t.relative_difference))),
        "<",
        0.05,
    ),
    Claim(
        "every-gaussian-figure",
        "It holds the simulated points of all ten Gaussian figures with simulated points.",
        lambda t: float(t.figure.nunique()),
        ">=",
        10,
    ),
)


# ------------------------------------------------------------------------------------- pareto
def _pareto_theory(t: pd.DataFrame) -> pd.DataFrame:
    return t[(t.method == "theory") & (t.c2 > 0)]


def _gap_step(t: pd.DataFrame, side: str) -> float:
    """Smallest step of the gap with the width below psi = 1 (or minus the largest beyond)."""
    out = []
    for _, g in _pareto_theory(t).groupby(["p2", "c2"]):
        g = g.sort_values("m")
        if side == "below":
            out.append(np.diff(g[g.psi < 1].gap.to_numpy()).min())
        else:
            out.append(-np.diff(g[g.psi > 1].gap.to_numpy()).max())
    return float(min(out))


def _gap_step_c2(t: pd.DataFrame) -> float:
    th = t[t.method == "theory"]
    return float(
        min(np.diff(g.sort_values("c2").gap.to_numpy()).min() for _, g in th.groupby(["p2", "m"]))
    )


PARETO = (
    Claim(
        "mix-worse-than-real",
        "For every c^2 > 0 the mix is worse than all-real data at every width (smallest gap "
        "mix - real, > 0).",
        lambda t: float(_pareto_theory(t).gap.min()),
        ">",
        0.0,
    ),
    Claim(
        "gap-grows-with-c2",
        "At every width and p2 the gap grows with c^2 (smallest step, > 0).",
        _gap_step_c2,
        ">",
        0.0,
    ),
    Claim(
        "gap-grows-with-width-below-threshold",
        "Below psi = 1 the gap grows with the width: larger models amplify collapse (smallest "
        "step, > 0).",
        lambda t: _gap_step(t, "below"),
        ">",
        0.0,
    ),
    Claim(
        "gap-shrinks-with-width-beyond-threshold",
        "Beyond psi = 1 the gap shrinks with the width: larger models mitigate collapse "
        "(smallest decrease, > 0).",
        lambda t: _gap_step(t, "beyond"),
        ">",
        0.0,
    ),
    Claim(
        "gap-never-zero-beyond-threshold",
        "Beyond psi = 1 the gap stays positive: collapse is mitigated, never removed (smallest "
        "gap at the widest model).",
        lambda t: float(
            min(g.sort_values("m").gap.iloc[-1] for _, g in _pareto_theory(t).groupby(["p2", "c2"]))
        ),
        ">",
        0.0,
    ),
)


# ----------------------------------------------------------------------------- rp_error_terms
def _term_peak_offset(t: pd.DataFrame) -> float:
    """Largest |log psi| distance between a term's peak and the grid point nearest psi = 1."""
    worst = 0.0
    for _, part in t.groupby("lam"):
        psi = part.sort_values("psi").psi.to_numpy()
        part = part.sort_values("psi")
        nearest = psi[np.argmin(np.abs(np.log(psi)))]
        for term in ("bias", "variance", "zeta"):
            peak = psi[np.argmax(part[term].to_numpy())]
            worst = max(worst, abs(np.log(peak / nearest)))
    return float(worst)


def _sharpening(t: pd.DataFrame) -> float:
    small, large = t[t.lam == t.lam.min()], t[t.lam == t.lam.max()]
    return float(min(small[c].max() / large[c].max() for c in ("bias", "variance", "zeta")))


RP_ERROR_TERMS = (
    Claim(
        "terms-peak-at-threshold",
        "Bias, variance and zeta each peak at the grid point nearest psi = 1, for every ridge.",
        _term_peak_offset,
        "==",
        0.0,
    ),
    Claim(
        "peak-sharpens-as-ridge-vanishes",
        "Every term's peak is more than 3 times higher at the smallest ridge than at the "
        "largest (the divergence as lam -> 0).",
        _sharpening,
        ">",
        3.0,
    ),
)


# ------------------------------------------------------------------------------------ rp_width
def _rp_rise(t: pd.DataFrame) -> float:
    th = _theory(t)
    return float(
        min(np.diff(g.sort_values("p2").total.to_numpy()).min() for _, g in th.groupby(["c2", "m"]))
    )


def _excess_peak(t: pd.DataFrame) -> float:
    """Largest |log(m_peak / n)| of the excess E(p2 max) - E(0) over c^2."""
    th = _theory(t)
    clean = th[th.p2 == 0].set_index(["c2", "m"]).total
    worst = th[th.p2 == th.p2.max()].set_index(["c2", "m"]).total
    n = float(th.n.iloc[0])
    return float(
        max(abs(np.log(v.idxmax()[1] / n)) for _, v in (worst - clean).groupby(level="c2"))
    )


def _gap_tail(t: pd.DataFrame, side: str) -> float:
    th = _theory(t)
    out = []
    for _, g in th[th.p2 > 0].groupby(["c2", "p2"]):
        clean = th[(th.p2 == 0) & (th.c2 == g.c2.iloc[0])].set_index("m").total
        g = g.sort_values("m")
        gap = g.total.to_numpy() - clean.loc[g.m].to_numpy()
        out.append(_side_shape(gap, g.psi.to_numpy(), side))
    return float(min(out))


RP_WIDTH = (
    Claim(
        "error-rises-with-p2",
        "At every width and c^2 the error rises with p2 (smallest step, > 0).",
        _rp_rise,
        ">",
        0.0,
    ),
    Claim(
        "excess-largest-near-threshold",
        "The synthetic excess E(p2 = 0.5) - E(0) is largest within a factor 1.25 of m = n.",
        _excess_peak,
        "<=",
        float(np.log(1.25)),
    ),
    Claim(
        "gap-shrinks-beyond-threshold",
        "Beyond m = n the gap E(p2) - E(0) shrinks with the width for every p2 and c^2.",
        lambda t: _gap_tail(t, "beyond"),
        ">",
        0.0,
    ),
    Claim(
        "gap-never-zero",
        "The gap E(p2) - E(0) stays positive at every width.",
        lambda t: _gap_tail(t, "min"),
        ">",
        0.0,
    ),
)
