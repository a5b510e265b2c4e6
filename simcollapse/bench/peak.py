"""Suite ``peak``: a large matmul and a large eigendecomposition, the device's practical peak.

Flops counted: matmul 2 N^3; symmetric eigendecomposition with vectors 9 N^3 (the nominal count
of the symmetric QR algorithm, Golub & Van Loan, Matrix Computations, 4th ed., Table 8.3.1), a
convention, so its GFLOP/s compare across devices, not against the matmul's. The matmul's
GFLOP/s is the peak that the other suites' ``fraction_of_peak`` refers to.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from simcollapse.bench import _harness as h


def settings(quick: bool) -> dict[str, Any]:
    if quick:
        return {"matmul_n": [128], "eigh_n": [64], "dtypes": ["float64"], "repeats": 5}
    return {
        "matmul_n": [1024, 4096],
        "eigh_n": [1024, 2048],
        "dtypes": ["float32", "float64"],
        "repeats": 5,
    }


def run(quick: bool, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    cfg = settings(quick) | (overrides or {})
    cases = []
    rng = np.random.default_rng(0)
    for dtype in cfg["dtypes"]:
        with jax.enable_x64(dtype == "float64"):
            for n in cfg["matmul_n"]:
                a = jnp.asarray(rng.standard_normal((n, n)), dtype)
                b = jnp.asarray(rng.standard_normal((n, n)), dtype)
                f = jax.jit(jnp.matmul)
                t = h.time_call(lambda f=f, a=a, b=b: f(a, b), cfg["repeats"])
                na = np.asarray(a)
                nb = np.asarray(b)
                base = h.time_call(lambda na=na, nb=nb: na @ nb, cfg["repeats"])
                base |= {"what": "numpy matmul", "work": 1.0}
                cases.append(
                    h.case(
                        "peak",
                        "matmul",
                        {"n": n, "dtype": dtype},
                        t,
                        work=1.0,
                        work_unit="products",
                        baseline=base,
                        flops=2.0 * n**3,
                    )
                )
            for n in cfg["eigh_n"]:
                x = rng.standard_normal((n, n))
                a = jnp.asarray(x @ x.T / n, dtype)
                f = jax.jit(jnp.linalg.eigh)
                t = h.time_call(lambda f=f, a=a: f(a), cfg["repeats"])
                na = np.asarray(a)
                base = h.time_call(lambda na=na: np.linalg.eigh(na), cfg["repeats"])
                base |= {"what": "numpy.linalg.eigh", "work": 1.0}
                cases.append(
                    h.case(
                        "peak",
                        "eigh",
                        {"n": n, "dtype": dtype},
                        t,
                        work=1.0,
                        work_unit="factorisations",
                        baseline=base,
                        flops=9.0 * n**3,
                    )
                )
    return {"settings": cfg, "cases": cases}


def matmul_peak(cases: list[dict[str, Any]], dtype: str = "float64") -> float | None:
    """The best matmul GFLOP/s among ``cases`` for ``dtype`` (None when there is none)."""
    best = [
        c["gflops"]
        for c in cases
        if c["suite"] == "peak" and c["name"] == "matmul" and c["params"]["dtype"] == dtype
    ]
    return max(best) if best else None
