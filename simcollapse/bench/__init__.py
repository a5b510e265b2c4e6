"""simcollapse benchmarks: one module per suite, each with ``run(quick, overrides) -> dict``.

Run as ``simcollapse bench`` or ``python -m simcollapse.bench``; this package is imported only
then (``import simcollapse`` does not load it). Suites call the public API of simcollapse, time
it against the plain NumPy/SciPy code of ``baselines``, and return cases in the schema of
``_harness``. Results, their README and helper scripts live in the repository's
``benchmarks/`` folder.
"""

from __future__ import annotations

# Suite name -> module. A suite whose module is missing is reported as skipped, not as an error.
SUITES = {
    "peak": "simcollapse.bench.peak",
    "theory": "simcollapse.bench.theory",
    "simulate": "simcollapse.bench.simulate",
    "sweep": "simcollapse.bench.sweep",
    "scaling": "simcollapse.bench.scaling",
    "latency": "simcollapse.bench.latency",
    "mnist": "simcollapse.bench.mnist",
    "lm": "simcollapse.bench.lm",
    "fits": "simcollapse.bench.fits",
    "accelerator": "simcollapse.bench.accelerator",
    "students": "simcollapse.bench.students",
}
DEFAULT_SUITES = ("peak", "theory", "simulate", "sweep", "scaling")
