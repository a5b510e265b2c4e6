"""simcollapse benchmarks (issue 9): one module per suite, each with ``run(quick) -> dict``.

Run as ``simcollapse bench`` (the CLI wires ``benchmarks.cli.add_arguments`` and
``benchmarks.cli.run``) or ``python -m benchmarks``. This folder is the top-level package
``benchmarks`` of the distribution (pyproject: ``[tool.setuptools.packages.find]``), so it
imports the same way from a source checkout and from ``pip install -e .``.
"""

from __future__ import annotations

# Suite name -> module under benchmarks/. mnist and lm arrive from the neural-experiment work;
# a suite whose module is missing is reported as skipped, not as an error.
SUITES = {
    "peak": "benchmarks.peak",
    "theory": "benchmarks.theory",
    "simulate": "benchmarks.simulate",
    "sweep": "benchmarks.sweep",
    "scaling": "benchmarks.scaling",
    "mnist": "benchmarks.mnist",
    "lm": "benchmarks.lm",
    "fits": "benchmarks.fits",
}
DEFAULT_SUITES = ("peak", "theory", "simulate", "sweep", "scaling")
