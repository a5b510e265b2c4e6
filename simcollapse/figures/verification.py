"""Verification figure: selecting synthetic rows with a verifier restores the scaling law.

Feng, Dohmatob, Yang, Charton and Kempe (2024), "Beyond Model Collapse: Scaling Up with
Synthesized Data Requires Verification", in the linear model of the ``verified`` setting: ridge on
n rows, a fraction p2 of them synthetic, each synthetic row the best of 1/keep candidates
labelled by the shifted teacher w1 + delta, as ranked by a verifier of excess risk c_v^2 (the
setting's doc). One Monte Carlo sweep over n, with (p2, keep, verifier_c2) zipped into six
curves: all rows real (clean), unverified synthetic rows (keep = 1: plain ridge, which flattens
at p2^2 c^2), an oracle verifier (c_v^2 = 0), a good one (c_v^2 << c^2), a fair one
(c_v^2 = c^2 / 20) and a poor one (c_v^2 > c^2). Each verified curve also gets its n -> infinity
floor E_inf from ``simulate.verified.verified_limit`` (about p2^2 c_v^2 when c_v << c; far below
p2^2 c^2 for an oracle), so the figure shows how far verification restores the scaling law.

Table columns: figure, curve, source ("simulation", "limit" or "reference"), n, p2, keep,
verifier_c2, total, stderr; the limit rows (at the largest n) hold E_inf and its standard error
over the draws of the shift and the verifier, the reference row the floor p2^2 c^2 of unverified
ridge.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from simcollapse.figures.claims import Claim
from simcollapse.figures.dry_run import figure_sweep
from simcollapse.figures.registry import NEW, Figure, FigureContext, register
from simcollapse.figures.style import new_figure, palette
from simcollapse.problem import Problem
from simcollapse.simulate.verified import verified_limit
from simcollapse.sweep import Sweep

__all__ = ["CLAIMS", "CONFIGS", "CURVES", "curve_points", "plot_verification", "verification_table"]

COLUMNS = ["curve", "source", "n", "p2", "keep", "verifier_c2", "total", "stderr"]

_COMMON = dict(d=20, c2=1.0, sigma2=1.0, p2=0.5, lam=1e-3, keep=0.1, good=1e-3, fair=0.05,
               poor=4.0, limit_draws=4096)  # fmt: skip
CONFIGS: dict[str, dict[str, Any]] = {
    "quick": dict(_COMMON, n_sim=[100, 400, 1600, 6400], reps=16),
    "default": dict(_COMMON, n_sim=[100, 200, 400, 800, 1600, 3200, 6400, 12800], reps=24),
    "full": dict(_COMMON, n_sim=[100 * 2**k for k in range(10)], reps=64),
}

CLEAN, UNVERIFIED, ORACLE, GOOD, FAIR, POOR = (
    "clean (all real)", "unverified", "oracle verifier", "good verifier", "fair verifier",
    "poor verifier",
)  # fmt: skip
CURVES = (CLEAN, UNVERIFIED, ORACLE, GOOD, FAIR, POOR)
VERIFIED = (ORACLE, GOOD, FAIR, POOR)


def curve_points(cfg: dict[str, Any]) -> dict[str, tuple[float, float, float]]:
    """curve -> (p2, keep, verifier_c2) of one level of ``CONFIGS``.

    Example:
      >>> pts = curve_points(CONFIGS["default"])
      >>> pts[CLEAN], pts[UNVERIFIED], pts[GOOD]
      ((0.0, 1.0, 0.0), (0.5, 1.0, 0.0), (0.5, 0.1, 0.001))
    """
    p2, keep = cfg["p2"], cfg["keep"]
    return {
        CLEAN: (0.0, 1.0, 0.0),
        UNVERIFIED: (p2, 1.0, 0.0),
        ORACLE: (p2, keep, 0.0),
        GOOD: (p2, keep, cfg["good"]),
        FAIR: (p2, keep, cfg["fair"]),
        POOR: (p2, keep, cfg["poor"]),
    }


def verification_table(cfg: dict[str, Any], ctx: FigureContext | None = None) -> pd.DataFrame:
    """Tidy table of the verification figure for one level of ``CONFIGS`` (with its seed).

    One simulation sweep of the ``verified`` setting: n times the six zipped curves, kept in
    the context's store when there is one; each verified curve's n -> infinity floor E_inf
    (``verified_limit``, module doc); and the reference floor p2^2 c^2 of unverified ridge.

    Args:
      cfg: one level of ``CONFIGS`` with its seed.
      ctx: the figure context whose store keeps the sweep (None: nothing stored).

    Returns:
      The figure's rows (columns ``COLUMNS``): source "simulation", "limit" or "reference".

    Example:
      A whole table runs a Monte Carlo sweep (``simcollapse figures --only
      verification``); the curves and sizes its quick level simulates:

      >>> len(curve_points(CONFIGS["quick"])), CONFIGS["quick"]["n_sim"]
      (6, [100, 400, 1600, 6400])
    """
    points = curve_points(cfg)
    p2s, keeps, c2vs = (list(v) for v in zip(*points.values(), strict=True))
    spec = Sweep(d=cfg["d"], family="isotropic", c2=cfg["c2"], sigma2=cfg["sigma2"],
                 setting="verified", method="simulate", reps=cfg["reps"], seed=cfg["seed"],
                 params={"lam": cfg["lam"]}, zipped=[("p2", "keep", "verifier_c2")],
                 axes={"n": cfg["n_sim"], "p2": p2s, "keep": keeps,
                       "verifier_c2": c2vs})  # fmt: skip
    store, progress = (None, False) if ctx is None else (ctx.store, ctx.progress)
    sim = figure_sweep(spec, store, progress=progress)
    blocks = []
    for curve, (p2, keep, c2v) in points.items():
        at = (np.isclose(sim.p2, p2) & np.isclose(sim.keep, keep)
              & np.isclose(sim.verifier_c2, c2v))  # fmt: skip
        rows = sim[at].sort_values("n")
        blocks.append(pd.DataFrame({"curve": curve, "source": "simulation", "n": rows.n,
                                    "p2": p2, "keep": keep, "verifier_c2": c2v,
                                    "total": rows.total, "stderr": rows.stderr}))  # fmt: skip
    problem = Problem.isotropic(cfg["d"], c2=cfg["c2"], sigma2=cfg["sigma2"])
    for curve in VERIFIED:
        p2, keep, c2v = points[curve]
        mean, se = verified_limit(problem, p2, keep, c2v, key=cfg["seed"],
                                  draws=cfg["limit_draws"])  # fmt: skip
        blocks.append(pd.DataFrame({"curve": [curve], "source": ["limit"],
                                    "n": [max(cfg["n_sim"])], "p2": [p2], "keep": [keep],
                                    "verifier_c2": [c2v], "total": [mean],
                                    "stderr": [se]}))  # fmt: skip
    floor = pd.DataFrame({"curve": ["floor p2^2 c^2"], "source": ["reference"],
                          "n": [max(cfg["n_sim"])], "p2": [cfg["p2"]], "keep": [1.0],
                          "verifier_c2": [0.0], "total": [cfg["p2"] ** 2 * cfg["c2"]],
                          "stderr": [0.0]})  # fmt: skip
    return pd.concat([*blocks, floor], ignore_index=True)[COLUMNS]


def _compute(ctx: FigureContext) -> pd.DataFrame:
    out = verification_table(dict(CONFIGS[ctx.mode], seed=ctx.seed), ctx)
    out.insert(0, "figure", "verification")
    return out


def plot_verification(table: pd.DataFrame) -> Any:
    """Test error against n (log-log) per curve with 1 SE bars; each verified curve's
    n -> infinity floor dashed in its colour, the unverified floor p2^2 c^2 dashed in grey.

    Args:
      table: ``verification_table``'s rows (curve, source, n, p2, keep, verifier_c2, total,
        stderr).

    Returns:
      matplotlib Figure.

    Example:
      >>> import matplotlib.pyplot as plt
      >>> table = pd.DataFrame({
      ...     "curve": [UNVERIFIED, UNVERIFIED, ORACLE, ORACLE, ORACLE, "floor p2^2 c^2"],
      ...     "source": ["simulation"] * 4 + ["limit", "reference"],
      ...     "n": [100, 1000, 100, 1000, 1000, 1000], "p2": 0.5, "keep": [1, 1, .1, .1, .1, 1],
      ...     "verifier_c2": 0.0, "total": [0.6, 0.3, 0.4, 0.05, 0.01, 0.25], "stderr": 0.01})
      >>> fig = plot_verification(table)
      >>> fig.axes[0].get_title()
      'Verified synthetic data ($p_2$=0.5, keep 0.1 of the candidates)'
      >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()][:2]
      ['unverified', 'oracle verifier ($c_v^2$=0)']
      >>> plt.close(fig)
    """

    fig, ax = new_figure(width=6.8, height=4.6)
    sim = table[table.source == "simulation"]
    lim = table[table.source == "limit"].set_index("curve")
    for color, curve in zip(palette(len(CURVES)), CURVES, strict=True):
        rows = sim[sim.curve == curve].sort_values("n")
        if rows.empty:
            continue
        c2v = float(rows.verifier_c2.iloc[0])
        label = curve if curve in (CLEAN, UNVERIFIED) else f"{curve} ($c_v^2$={c2v:g})"
        ax.errorbar(rows.n, rows.total, yerr=rows.stderr, color=color,
                    marker="s" if curve == POOR else "o", ms=4, mfc="white", capsize=2, lw=1.6,
                    ls=":" if curve == POOR else "-", label=label)  # fmt: skip
        if curve in lim.index:
            ax.axhline(float(lim.total[curve]), color=color, ls=(0, (4, 3)), lw=1)
    handles, labels = ax.get_legend_handles_labels()
    ref = table[table.source == "reference"]
    if not ref.empty:
        ax.axhline(float(ref.total.iloc[0]), color="0.4", ls="--", lw=1.2)
        handles.append(Line2D([], [], color="0.4", ls="--", lw=1.2))
        labels.append(r"floor $p_2^2 c^2$ (unverified)")
    if not lim.empty:
        handles.append(Line2D([], [], color="0.6", ls=(0, (4, 3)), lw=1))
        labels.append(r"$n \to \infty$ floor (curve's colour)")
    keep = sim[sim.curve == ORACLE].keep
    p2 = float(ref.p2.iloc[0]) if not ref.empty else float("nan")
    ax.set(xscale="log", yscale="log", xlabel="sample size n", ylabel="test error $E_{test}$",
           title=f"Verified synthetic data ($p_2$={p2:g}, keep {float(keep.iloc[0]):g} of the "
           "candidates)" if len(keep) else "Verified synthetic data")  # fmt: skip
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return fig


# ------------------------------------------------------------------------------------ claims
def _at_largest_n(t: pd.DataFrame) -> pd.Series:
    sim = t[t.source == "simulation"]
    return sim[sim.n == sim.n.max()].set_index("curve").total


def _floor(t: pd.DataFrame) -> float:
    return float(t[t.source == "reference"].total.iloc[0])


def _slope(t: pd.DataFrame, curve: str) -> float:
    """Least-squares slope of log E against log n over the points with n >= n_max / 10."""
    rows = t[(t.source == "simulation") & (t.curve == curve)]
    rows = rows[rows.n >= rows.n.max() / 10]
    return float(np.polyfit(np.log(rows.n), np.log(rows.total), 1)[0])


def _poor_ratio(t: pd.DataFrame) -> float:
    at = _at_largest_n(t)
    r = at[POOR] / at[UNVERIFIED]
    return float(max(r, 1 / r))


def _limit(t: pd.DataFrame, curve: str) -> float:
    return float(t[(t.source == "limit") & (t.curve == curve)].total.iloc[0])


def _fair_gap(t: pd.DataFrame) -> float:
    return float(abs(_at_largest_n(t)[FAIR] / _limit(t, FAIR) - 1))


def _above_limits(t: pd.DataFrame) -> float:
    """Smallest (E(n_max) - E_inf) / SE over the verified curves, SE that of both."""
    sim = t[t.source == "simulation"]
    last = sim[sim.n == sim.n.max()].set_index("curve")
    lim = t[t.source == "limit"].set_index("curve")
    gap = (last.total[lim.index] - lim.total) / np.hypot(last.stderr[lim.index], lim.stderr)
    return float(gap.min())


CLAIMS = (
    Claim(
        "unverified-sits-at-the-floor",
        "Unverified synthetic rows: at the largest n the error is within 20% of the floor "
        "p2^2 c^2 (relative gap, < 0.2).",
        lambda t: float(abs(_at_largest_n(t)[UNVERIFIED] / _floor(t) - 1)),
        "<",
        0.2,
    ),
    Claim(
        "oracle-breaks-the-floor",
        "An oracle verifier: at the largest n the error is below the floor p2^2 c^2 by a "
        "factor > 30 (floor / error).",
        lambda t: float(_floor(t) / _at_largest_n(t)[ORACLE]),
        ">",
        30.0,
    ),
    Claim(
        "good-verifier-breaks-the-floor",
        "A good verifier (c_v^2 << c^2): at the largest n the error is below the floor "
        "p2^2 c^2 by a factor > 30 (floor / error).",
        lambda t: float(_floor(t) / _at_largest_n(t)[GOOD]),
        ">",
        30.0,
    ),
    Claim(
        "good-verifier-keeps-scaling",
        "Over the last decade of n the good verifier's error keeps falling like a scaling law: "
        "log-log slope below -0.8 (the clean law's is about -1).",
        lambda t: _slope(t, GOOD),
        "<",
        -0.8,
    ),
    Claim(
        "good-verifier-steeper-than-unverified",
        "Over the last decade of n the good verifier's log-log slope is steeper than the "
        "unverified one's by more than 0.5 (slope difference, < -0.5).",
        lambda t: _slope(t, GOOD) - _slope(t, UNVERIFIED),
        "<",
        -0.5,
    ),
    Claim(
        "fair-verifier-flattens-at-its-floor",
        "A fair verifier (c_v^2 = c^2 / 20): at the largest n the error is within 25% of its "
        "n -> infinity floor, about p2^2 c_v^2 (relative gap, < 0.25): scaling is restored "
        "only down to the verifier's own floor.",
        _fair_gap,
        "<",
        0.25,
    ),
    Claim(
        "poor-verifier-no-better-than-none",
        "A poor verifier (c_v^2 > c^2): at the largest n the error is within 25% of the "
        "unverified one (larger of the two ratios, < 1.25).",
        _poor_ratio,
        "<",
        1.25,
    ),
    Claim(
        "no-curve-below-its-floor",
        "No verified curve is below its n -> infinity floor at the largest n by more than "
        "3 standard errors (smallest gap in SE, > -3).",
        _above_limits,
        ">",
        -3.0,
    ),
)


register(
    Figure(
        "verification",
        "Verified synthetic data (Feng, Dohmatob, Yang, Charton, Kempe 2024, arXiv 2406.07515, "
        "'Beyond Model Collapse: Scaling Up with "
        "Synthesized Data Requires Verification'): test error vs n with half the rows "
        "synthetic; unverified rows flatten at p2^2 c^2, rows picked by an oracle or a good "
        "verifier keep scaling down to a floor set by the verifier's error (dashed), a poor "
        "verifier does not help.",
        _compute,
        plot_verification,
        group="mixing",
        paper=NEW,
        claims=CLAIMS,
    )
)
