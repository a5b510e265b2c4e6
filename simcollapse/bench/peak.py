"""Suite ``peak``: a large matmul and a large eigendecomposition, the device's practical peak.

Flops counted: matmul 2 N^3; symmetric eigendecomposition with vectors 9 N^3 (the nominal count
of the symmetric QR algorithm, Golub & Van Loan, Matrix Computations, 4th ed., Table 8.3.1), a
convention, so its GFLOP/s compare across devices, not against the matmul's. The matmul's
GFLOP/s is the peak that the other suites' ``fraction_of_peak`` refers to (float32 at full
precision, "highest": on NVIDIA GPUs JAX's default float32 product uses TF32 and would set a peak
above the chip's float32 one).

On an accelerator the float32 matmul also runs at "tensorfloat32" precision and in bfloat16; every
matmul case records its ``precision`` and, for a device in ``PUBLISHED_PEAKS``, the datasheet's
dense peak for that dtype and precision and the fraction of it reached
(``published_peak_gflops``, ``fraction_of_published_peak``) beside the measured one.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from simcollapse.bench import _harness as h

#: Dense (not sparse) datasheet peaks in TFLOP/s by device-name substring, per (dtype, precision):
#: NVIDIA H100 SXM / H200 (the same tensor cores) and A100 SXM datasheets.
PUBLISHED_PEAKS: dict[str, dict[tuple[str, str], float]] = {
    "H200": {("float64", "highest"): 67.0, ("float32", "highest"): 67.0,
             ("float32", "tensorfloat32"): 494.7, ("bfloat16", "default"): 989.4},
    "H100": {("float64", "highest"): 67.0, ("float32", "highest"): 67.0,
             ("float32", "tensorfloat32"): 494.7, ("bfloat16", "default"): 989.4},
    "A100": {("float64", "highest"): 19.5, ("float32", "highest"): 19.5,
             ("float32", "tensorfloat32"): 156.0, ("bfloat16", "default"): 312.0},
}  # fmt: skip


def published_peak(device_kind: str, dtype: str, precision: str) -> float | None:
    """The datasheet's dense peak in GFLOP/s for a device, dtype and precision (None: unknown).

    Example:
      >>> published_peak("NVIDIA H100 80GB HBM3", "float32", "tensorfloat32")
      494700.0
      >>> published_peak("cpu", "float64", "highest") is None
      True
    """
    for name, table in PUBLISHED_PEAKS.items():
        if name in device_kind:
            value = table.get((dtype, precision))
            return None if value is None else value * 1e3
    return None


def _variants(dtypes: list[str]) -> list[tuple[str, str]]:
    """(dtype, precision) pairs to time: full precision everywhere; on an accelerator also
    TF32 float32 products and bfloat16."""
    out = [(d, "highest") for d in dtypes]
    if jax.default_backend() != "cpu":
        if "float32" in dtypes:
            out.append(("float32", "tensorfloat32"))
        out.append(("bfloat16", "default"))
    return out


def settings(quick: bool) -> dict[str, Any]:
    """The suite's sizes: small at the quick level (CI), larger at the standard one."""
    if quick:
        return {"matmul_n": [128], "eigh_n": [64], "dtypes": ["float64"], "repeats": 5}
    return {
        "matmul_n": [1024, 4096],
        "eigh_n": [1024, 2048],
        "dtypes": ["float32", "float64"],
        "repeats": 5,
    }


def run(quick: bool, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run the suite at the quick or standard level (``overrides`` replace sizes); returns its
    cases for the JSON report (GFLOP/s of each matmul and eigendecomposition)."""
    cfg = settings(quick) | (overrides or {})
    cases = []
    rng = np.random.default_rng(0)
    kind = jax.devices()[0].device_kind
    for dtype, precision in _variants(cfg["dtypes"]):
        with jax.enable_x64(dtype == "float64"), jax.default_matmul_precision(precision):
            for n in cfg["matmul_n"]:
                a = jnp.asarray(rng.standard_normal((n, n)), dtype)
                b = jnp.asarray(rng.standard_normal((n, n)), dtype)
                f = jax.jit(jnp.matmul)
                t = h.time_call(lambda f=f, a=a, b=b: f(a, b), cfg["repeats"])
                na, nb = np.asarray(a), np.asarray(b)
                if dtype == "bfloat16":  # NumPy has no bfloat16 product: its float32 one
                    na, nb = na.astype(np.float32), nb.astype(np.float32)
                base = h.time_call(lambda na=na, nb=nb: na @ nb, cfg["repeats"])
                base |= {"what": "numpy matmul", "work": 1.0}
                rec = h.case(
                    "peak",
                    "matmul",
                    {"n": n, "dtype": dtype, "precision": precision},
                    t,
                    work=1.0,
                    work_unit="products",
                    baseline=base,
                    flops=2.0 * n**3,
                )
                pub = published_peak(kind, dtype, precision)
                rec["published_peak_gflops"] = pub
                rec["fraction_of_published_peak"] = None if pub is None else rec["gflops"] / pub
                cases.append(rec)
            if dtype == "bfloat16" or precision != "highest":
                continue
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


def matmul_peak(
    cases: list[dict[str, Any]], dtype: str = "float64", precision: str = "highest"
) -> float | None:
    """The best matmul GFLOP/s among ``cases`` for ``dtype`` at ``precision`` (None when there is
    none; cases without a precision ran at full precision)."""
    best = [
        c["gflops"]
        for c in cases
        if c["suite"] == "peak"
        and c["name"] == "matmul"
        and c["params"]["dtype"] == dtype
        and c["params"].get("precision", "highest") == precision
    ]
    return max(best) if best else None
