"""Benchmark: time to fit one random-feature ridge model on MNIST, against the width m.

``run(quick)`` fits ``fit_random_features`` on n real digits (one-hot targets, lam = 1e-3) for each
width, once to compile (warm-up) and then ``repeats`` times, and reports the median wall time with
``block_until_ready`` on the fitted weights, plus the closed form used (primal m <= n, dual m > n)
and the model's memory estimate. quick: the built-in 5,000 digits, n = 2,000, m up to 4,096 (seconds
on a CPU). full: the data named by SIMCOLLAPSE_DATA (full MNIST) or the built-in digits, n = 10,000
(capped by the pool), m up to 100,000 (the ``--full`` sweep's largest width; minutes on a CPU).

Run: ``python -m simcollapse.bench.mnist [--full]`` prints the JSON.
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import time

import jax
import numpy as np

from simcollapse.neural.mnist import load_digits, one_hot
from simcollapse.neural.random_features import fit_random_features, rf_memory_bytes

QUICK = dict(n=2000, widths=[256, 1024, 4096], repeats=5)
FULL = dict(n=10000, widths=[1000, 4000, 16000, 64000, 100000], repeats=5)


def _time_fit(key, x, y, m: int, lam: float, repeats: int) -> tuple[list[float], str]:
    model = fit_random_features(key, x, y, m, lam)  # warm-up: compile every block function
    model.coef.block_until_ready()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model = fit_random_features(key, x, y, m, lam)
        model.coef.block_until_ready()
        times.append(time.perf_counter() - t0)
    return times, model.method


def run(quick: bool = True, widths: list[int] | None = None) -> dict:
    """Median fit time of one random-feature ridge model per width.

    Args:
      quick: small settings (built-in digits, n = 2,000, m <= 4,096) or full ones (see module).
      widths: feature counts m to time (default: by ``quick``).

    Returns:
      A JSON-able dict: name, settings, device, and ``results``, one dict per width with m, n,
      method, median_s, min_s, times_s, memory_estimate_bytes.
    """
    cfg = (QUICK if quick else FULL) | ({} if widths is None else {"widths": widths})
    digits = load_digits()  # SIMCOLLAPSE_DATA if set, else the built-in digits
    n = min(cfg["n"], digits.n_pool)
    x = np.asarray(digits.x_train[:n])
    y = one_hot(digits.y_train[:n])
    key = jax.random.key(0)
    results = []
    for m in cfg["widths"]:
        times, method = _time_fit(key, x, y, m, 1e-3, cfg["repeats"])
        results.append(
            dict(
                m=m,
                n=n,
                method=method,
                median_s=statistics.median(times),
                min_s=min(times),
                times_s=times,
                memory_estimate_bytes=rf_memory_bytes(n, m, x.shape[1]),
            )
        )
    return dict(
        name="mnist_random_features_fit",
        quick=quick,
        data_source=digits.source,
        dtype="float32",
        lam=1e-3,
        repeats=cfg["repeats"],
        device=str(jax.devices()[0]),
        platform=platform.platform(),
        results=results,
    )


if __name__ == "__main__":
    print(json.dumps(run(quick="--full" not in sys.argv[1:]), indent=2))
