"""The paper's scaling curves, each a sweep spec (or a few) plus a plot of the sweep's tidy table.

Theory is drawn as lines, Monte Carlo as markers with standard-error bars. Every setting of every
figure is in ``PRESETS``, one column per level: ``quick`` (minutes on a 2-core CPU for all
figures), ``default`` (more draws and grid points, within the hour-long budget of all figures
together on a 2-core CPU) and ``full`` (paper scale). The shapes of the curves are the same at
every level; draws are raised where a heavy-tailed shift term needs them to be honest.

The figures are drawn by family (``ridge_scaling``, ``model_size``, ``theory_check``, with the
shared settings and drawing in ``paper_common``); this module registers them, in this order.
"""

from __future__ import annotations

from simcollapse.figures import theory_claims as tc
from simcollapse.figures.model_size import (
    model_size_regimes_plot,
    model_size_regimes_table,
    synthetic_fraction_plot,
    synthetic_fraction_table,
    width_double_descent_plot,
    width_double_descent_table,
)
from simcollapse.figures.registry import NEW, Figure, register
from simcollapse.figures.ridge_scaling import (
    isotropic_corollary_plot,
    isotropic_corollary_table,
    scaling_plateau_plot,
    scaling_plateau_table,
)
from simcollapse.figures.theory_check import (
    theory_vs_simulation_plot,
    theory_vs_simulation_table,
    theory_vs_simulation_work,
)

FIGURES = {
    f.name: register(f)
    for f in (
        Figure(
            "scaling_plateau",
            "Test error against n, power-law spectrum: every p2 > 0 stops at p2^2 c^2 "
            "(Theorem 1, strong model collapse).",
            scaling_plateau_table,
            scaling_plateau_plot,
            paper=NEW,
            claims=tc.SCALING_PLATEAU,
        ),
        Figure(
            "isotropic_corollary",
            "Corollary 1: isotropic ridgeless error against phi = d/n, closed form and simulation.",
            isotropic_corollary_table,
            isotropic_corollary_plot,
            paper=NEW,
            claims=tc.ISOTROPIC_COROLLARY,
        ),
        Figure(
            "model_size_regimes",
            "Random projections (isotropic, d = 300, p2 = 1/2, widths 60/150/240) against n: "
            "with high-quality synthetic data (c^2 = 0.2) the wider model is better except near "
            "its threshold n = m; with low-quality data (c^2 = 8, p2^2 c^2 above the signal) the "
            "wider model is worse for every n > 2m (larger models amplify collapse) and better "
            "for n < m (beyond the threshold they mitigate it).",
            model_size_regimes_table,
            model_size_regimes_plot,
            paper=NEW,
            claims=tc.MODEL_SIZE_REGIMES,
        ),
        Figure(
            "width_double_descent",
            "Test error against psi = m/n, power-law spectrum: the peak at m = n, the synthetic "
            "term growing below it and shrinking beyond.",
            width_double_descent_table,
            width_double_descent_plot,
            paper=NEW,
            claims=tc.WIDTH_DOUBLE_DESCENT,
        ),
        Figure(
            "synthetic_fraction",
            "Test error against the synthetic fraction p2 for several n and widths (a width "
            "m >= d lies on the ridge line, drawn dashed on top of it).",
            synthetic_fraction_table,
            synthetic_fraction_plot,
            paper=NEW,
            claims=tc.SYNTHETIC_FRACTION,
        ),
        Figure(
            "theory_vs_simulation",
            "Every simulated point of the theory figures (those above and rp_width) against its "
            "theory value.",
            theory_vs_simulation_table,
            theory_vs_simulation_plot,
            paper=NEW,
            claims=tc.THEORY_VS_SIMULATION,
            work=theory_vs_simulation_work,
        ),
    )
}
