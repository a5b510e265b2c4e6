"""Write the tutorial notebooks of this folder from the cells below (run: python make_notebooks.py).

The notebooks are generated, not edited by hand: change a cell here and re-run this script. They
are stored without outputs; the documentation build (``mkdocs build --strict``) executes them.
Each runs in well under two minutes on a 2-core CPU.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

COLLAPSE = [
    new_markdown_cell(
        "# Strong model collapse in ten lines\n\n"
        "Ridge regression trained on $n$ rows, a fraction $p_2$ of them labelled by a slightly "
        "wrong teacher (quality $c^2$). The theory ([Theorem 1](../theory.md#theorem-1)) says the "
        "test error stops at the floor $p_2^2 c^2$ however large $n$ grows. We draw the theory "
        "curves and check them against the Monte Carlo simulator, which fits ridge on Gaussian "
        "data drawn for real."
    ),
    new_code_cell(
        "import matplotlib.pyplot as plt\n"
        "import numpy as np\n"
        "import simcollapse as sc\n\n"
        "problem = sc.Problem.power_law(d=100, alpha=1.5, source=1.5, c2=0.5, sigma2=0.5)\n"
        "p2 = np.array([0.0, 0.02, 0.1, 0.3])\n"
        "n = np.geomspace(20, 1e6, 80)\n"
        "theory = sc.theory.ridge_error(problem, n[:, None], lam=1e-3, p2=p2[None, :])\n"
        "n_sim = np.array([50, 200, 800, 3200])\n"
        "sim = sc.simulate.ridge_error(problem, n_sim[:, None], 1e-3, p2[None, :],\n"
        "                              key=0, reps=16)\n"
        "theory.total.shape, sim.total.shape"
    ),
    new_markdown_cell(
        "Theory and simulation take the same arguments and return the same `ErrorTerms` "
        "(bias, variance, zeta, total, stderr, status), so they plot side by side. The dashed "
        "lines are the floors $p_2^2 c^2$."
    ),
    new_code_cell(
        "fig, ax = plt.subplots(figsize=(6, 4))\n"
        "for k, q in enumerate(p2):\n"
        "    line, = ax.loglog(n, theory.total[:, k], label=f'p2 = {q:g}')\n"
        "    ax.errorbar(n_sim, sim.total[:, k], yerr=2 * sim.stderr[:, k], fmt='o',\n"
        "                color=line.get_color())\n"
        "    if q > 0:\n"
        "        ax.axhline(q**2 * problem.c2, color=line.get_color(), ls='--', lw=0.8)\n"
        "ax.set(xlabel='n (training rows)', ylabel='test error on real data')\n"
        "ax.legend();"
    ),
    new_markdown_cell("The gap between theory and simulation, in standard errors:"),
    new_code_cell(
        "at_sim = sc.theory.ridge_error(problem, n_sim[:, None], 1e-3, p2[None, :])\n"
        "np.round(np.abs(sim.total - at_sim.total) / sim.stderr, 1)"
    ),
    new_markdown_cell(
        "The clean curve ($p_2 = 0$) keeps falling like a scaling law; every $p_2 > 0$ flattens "
        "at $p_2^2 c^2$. Only a synthetic fraction that vanishes as $n$ grows avoids the floor: "
        "this is strong model collapse."
    ),
]

MODEL_SIZE = [
    new_markdown_cell(
        "# Model size: double descent and the Pareto diagram\n\n"
        "Random projections of width $m$ ([Theorem 2](../theory.md#theorem-2)): "
        "$f(x) = v^\\top S x$ with a fixed Gaussian $S$ of shape $m \\times d$ and $v$ fitted "
        "by ridge. With little regularisation the error peaks at the interpolation threshold "
        "$m = n$ (double descent in the width), and synthetic data adds a term that larger "
        "models amplify below the threshold and reduce beyond it."
    ),
    new_code_cell(
        "import matplotlib.pyplot as plt\n"
        "import numpy as np\n"
        "import simcollapse as sc\n\n"
        "problem = sc.Problem.isotropic(200, c2=0.5, sigma2=0.5)\n"
        "n, lam = 100, 1e-4\n"
        "m = np.geomspace(10, 10_000, 120)\n"
        "p2 = np.array([0.0, 0.1, 0.3])\n"
        "theory = sc.theory.rp_error(problem, n, m[:, None], lam, p2[None, :])\n"
        "m_sim = np.array([50, 150, 400])\n"
        "sim = sc.simulate.rp_error(problem, n, m_sim[:, None], lam, p2[None, :], key=1, reps=8)\n"
        "fig, ax = plt.subplots(figsize=(6, 4))\n"
        "for k, q in enumerate(p2):\n"
        "    line, = ax.loglog(m, theory.total[:, k], label=f'p2 = {q:g}')\n"
        "    ax.errorbar(m_sim, sim.total[:, k], yerr=2 * sim.stderr[:, k], fmt='o',\n"
        "                color=line.get_color())\n"
        "ax.axvline(n, color='gray', ls=':', label='m = n')\n"
        "ax.set(xlabel='width m', ylabel='test error on real data')\n"
        "ax.legend();"
    ),
    new_markdown_cell(
        "## The Pareto diagram\n\n"
        "The amount of data is fixed ($n = 500$ rows, isotropic inputs in $d = 600$). For each "
        "width $m$, put the error of the model trained on real data only ($p_2 = 0$, x-axis) "
        "against its error when 10% of the rows are synthetic ($p_2 = 0.1$, y-axis), for "
        "synthetic data of three qualities $c^2$. Colour is the parametrisation rate "
        "$\\psi = m/n$. With perfect synthetic data ($c^2 = 0$) every point lies on the "
        "diagonal; the worse the synthetic data, the further above it."
    ),
    new_code_cell(
        "problem = sc.Problem.isotropic(600, sigma2=0.1)\n"
        "n, lam, p2 = 500, 1e-2, 0.1\n"
        "m = np.geomspace(25, 25_000, 150)\n"
        "fig, ax = plt.subplots(figsize=(6, 5))\n"
        "for c2, marker in [(0.0, 's'), (0.2, 'D'), (1.0, '^')]:\n"
        "    prob = problem.with_label_shift(c2)\n"
        "    real = sc.theory.rp_error(prob, n, m, lam, 0.0).total\n"
        "    mixed = sc.theory.rp_error(prob, n, m, lam, p2).total\n"
        "    points = ax.scatter(real, mixed, c=np.log10(m / n), marker=marker, s=14,\n"
        "                        cmap='viridis', label=f'c2 = {c2:g}')\n"
        "(x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()\n"
        "low, high = min(x0, y0), max(x1, y1)\n"
        "ax.plot([low, high], [low, high], color='gray', lw=0.8, ls='--', label='same error')\n"
        "ax.set(xlabel='error, real data only', ylabel=f'error, mix with p2 = {p2:g}')\n"
        "fig.colorbar(points, label='log10 psi = log10(m / n)')\n"
        "ax.legend();"
    ),
    new_markdown_cell(
        "Near the interpolation threshold ($m = n$) both errors peak and the synthetic rows cost "
        "the most; far beyond it, growing the model lowers both errors, but the mix never "
        "reaches the real-data error: the synthetic term shrinks without vanishing."
    ),
]

EXPLORER = [
    new_markdown_cell(
        "# Interactive explorer\n\n"
        "Move the sliders to redraw the theory: the synthetic fraction $p_2$, the synthetic "
        "quality $c^2$, the width ratio $\\psi = m/n$ of a random-projection model, and the "
        "ridge penalty $\\lambda$. The curves are the test error against $n$ for ridge "
        "([Theorem 1](../theory.md#theorem-1)) and for random projections of width "
        "$m = \\psi n$ ([Theorem 2](../theory.md#theorem-2)), with the clean curves "
        "($p_2 = 0$) for reference. The first figure shows the default values."
    ),
    new_code_cell(
        "import ipywidgets as widgets\n"
        "import matplotlib.pyplot as plt\n"
        "import numpy as np\n"
        "import simcollapse as sc\n\n"
        "base = sc.Problem.power_law(200, alpha=1.5, source=1.5, sigma2=0.5)\n"
        "n = np.geomspace(20, 1e6, 60)\n\n\n"
        "def draw(p2=0.05, c2=0.5, psi=2.0, log10_lam=-3.0):\n"
        "    problem = base.with_c2(c2)\n"
        "    lam = 10.0**log10_lam\n"
        "    fig, ax = plt.subplots(figsize=(6, 4))\n"
        "    for q, style in [(0.0, ':'), (p2, '-')]:\n"
        "        ridge = sc.theory.ridge_error(problem, n, lam, q, throw=False).total\n"
        "        rp = sc.theory.rp_error(problem, n, psi * n, lam, q, throw=False).total\n"
        "        ax.loglog(n, ridge, 'C0' + style, label=f'ridge, p2 = {q:g}')\n"
        "        ax.loglog(n, rp, 'C1' + style, label=f'width psi n, p2 = {q:g}')\n"
        "    if p2 > 0:\n"
        "        ax.axhline(p2**2 * c2, color='gray', ls='--', lw=0.8, label='p2^2 c^2')\n"
        "    ax.set(xlabel='n', ylabel='test error', ylim=(1e-5, 1e2))\n"
        "    ax.legend(fontsize=8)\n"
        "    plt.show()\n\n\n"
        "draw()"
    ),
    new_markdown_cell("The same curves with sliders (they redraw in a live kernel):"),
    new_code_cell(
        "widgets.interact(\n"
        "    draw,\n"
        "    p2=widgets.FloatSlider(value=0.05, min=0.0, max=1.0, step=0.01),\n"
        "    c2=widgets.FloatLogSlider(value=0.5, base=10, min=-3, max=1),\n"
        "    psi=widgets.FloatLogSlider(value=2.0, base=10, min=-1, max=2),\n"
        "    log10_lam=widgets.FloatSlider(value=-3.0, min=-8.0, max=1.0, step=0.5),\n"
        ");"
    ),
]

NOTEBOOKS = {
    "01_strong_model_collapse.ipynb": COLLAPSE,
    "02_model_size.ipynb": MODEL_SIZE,
    "05_explorer.ipynb": EXPLORER,
}


def main() -> None:
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook(cells=cells)
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        nbformat.write(nb, HERE / name)


if __name__ == "__main__":
    main()
