"""Suite ``accelerator``: one run that measures a GPU or TPU end to end, into one JSON.

On an accelerator: the matmul peak (float32 and float64), theory at 10^7 points (d = 1000;
shared and distinct fixed points, ridge and random projections), Monte Carlo at d = 4096,
n = 16384 in float32 and float64 (factorisation with its fraction of the measured peak, the
(lam, p2) slice against the NumPy loop on the host), MNIST random-feature fits and language-model
training throughput. Sized to finish in a few minutes. On a CPU (or with ``--quick``) the same
cases run at reduced sizes, so that tests exercise the whole suite.
``benchmarks/accelerator.sh`` runs it and prints the results as a Markdown table.
"""

from __future__ import annotations

from typing import Any

import jax

from simcollapse.bench import _harness as h
from simcollapse.bench import lm, mnist, peak, simulate, theory

FULL: dict[str, Any] = {
    "peak": {"matmul_n": [4096, 8192], "eigh_n": [4096], "dtypes": ["float32", "float64"]},
    "theory": {"d": [1000], "sizes": [10**7], "baseline_points": 50, "max_elements": 1e11},
    "simulate": {"d": [4096], "factorise_d": [], "side": 16, "reps": 8, "baseline_max_solves": 8},
    "dtypes": ["float32", "float64"],
    "mnist_widths": [1000, 4000, 16000],
    "lm_sizes": None,
}
REDUCED: dict[str, Any] = {
    "peak": {"matmul_n": [256], "eigh_n": [128], "dtypes": ["float32", "float64"]},
    "theory": {"d": [100], "sizes": [10**4], "baseline_points": 20},
    "simulate": {"d": [64], "factorise_d": [], "side": 4, "reps": 2, "baseline_max_solves": 16},
    "dtypes": ["float32", "float64"],
    "mnist_widths": [256],
    "lm_sizes": ["nano"],
}


def mnist_cases(out: dict[str, Any]) -> list[dict[str, Any]]:
    """The MNIST suite's fits as benchmark cases (one fit per width; no baseline)."""
    cases = []
    for r in out["results"]:
        timing = {k: r[k] for k in ("times_s", "median_s", "min_s")}
        timing |= {"max_s": max(r["times_s"]), "compile_s": None}
        params = {"m": r["m"], "n": r["n"], "method": r["method"], "dtype": out["dtype"]}
        cases.append(
            h.case("mnist", "random_features_fit", params, timing, work=1.0, work_unit="fits")
        )
    return cases


def lm_cases(out: dict[str, Any]) -> list[dict[str, Any]]:
    """The language-model suite's training steps as cases (tokens/s; fraction of its peak)."""
    cases = []
    for r in out["sizes"]:
        times = r["step_s_all"]
        timing = {
            "times_s": times,
            "median_s": r["step_s_median"],
            "min_s": min(times),
            "max_s": max(times),
            "compile_s": r["compile_s"],
        }
        params = {k: r[k] for k in ("size", "params", "context", "batch")} | {
            "dtype": out["dtype"],
            "fraction_of_peak": r["fraction_of_peak"],
            "peak_source": out["peak_source"],
        }
        cases.append(
            h.case(
                "lm",
                "train_step",
                params,
                timing,
                work=float(r["batch"] * r["context"]),
                work_unit="tokens",
            )
        )
    return cases


def run(quick: bool, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Every accelerator case; reduced sizes on a CPU or with ``quick``."""
    small = quick or jax.default_backend() == "cpu"
    cfg = (REDUCED if small else FULL) | (overrides or {})
    cases = peak.run(False, peak.settings(False) | cfg["peak"])["cases"]
    cases += theory.run(False, theory.settings(False) | cfg["theory"])["cases"]
    for dtype in cfg["dtypes"]:
        sim = simulate.settings(False) | cfg["simulate"] | {"dtype": dtype, "few_points": False}
        cases += simulate.run(False, sim)["cases"]
    cases += mnist_cases(mnist.run(small, cfg["mnist_widths"]))
    cases += lm_cases(lm.run(small, cfg["lm_sizes"]))
    return {"settings": cfg | {"reduced": small}, "cases": cases}
