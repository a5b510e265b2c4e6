"""Training throughput of the simcollapse GPT per model size: tokens/s, fraction of peak, memory.

``run(quick)`` builds each size, compiles its train step (AdamW, clipping, the mixing sampler;
exactly the step ``simcollapse.lm.train`` runs), times at least five steps after a warm-up with
``block_until_ready``, and reports the median. Model flops per step are the usual 6 x parameters
x tokens (forward 2N, backward 4N per token; attention's L^2 term is not counted), and the
fraction of peak divides the achieved model flops/s by the device's peak: a table of dense
bf16/fp32 peaks for known accelerators, and on a CPU the measured float32 matmul rate of a
2048 x 2048 product (a practical ceiling, not a datasheet number). The batch is fixed (drawing
batches is a separate small function in the trainer and is not timed). Memory per size is XLA's
own account of the compiled step (arguments + temporaries + outputs) and the parameter +
optimiser bytes. ``python -m simcollapse.bench.lm [--full]`` prints the JSON.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from simcollapse.lm.model import SIZES, GPTConfig
from simcollapse.lm.train import TrainConfig, compiled_functions

# dense peak flop/s by device kind (substring match), (bf16, fp32)
_PEAKS = {
    "H200": (989e12, 67e12),
    "H100": (989e12, 67e12),
    "A100": (312e12, 19.5e12),
    "L4": (121e12, 30e12),
    "V100": (125e12, 15.7e12),
}


def _cpu_matmul_peak(n: int = 2048, repeats: int = 5) -> float:
    a = jnp.ones((n, n), jnp.float32)
    f = jax.jit(lambda x: x @ x)
    f(a).block_until_ready()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f(a).block_until_ready()
        times.append(time.perf_counter() - t)
    return 2 * n**3 / min(times)


def _peak(bf16: bool) -> tuple[float, str]:
    dev = jax.devices()[0]
    for name, (p16, p32) in _PEAKS.items():
        if name in dev.device_kind:
            return (p16 if bf16 else p32), f"datasheet dense {'bf16' if bf16 else 'fp32'}"
    return _cpu_matmul_peak(), "measured fp32 2048^3 matmul"


def _bench_size(size: str, context: int, batch: int, steps: int, bf16: bool) -> dict[str, Any]:
    layers, width, heads = SIZES[size]
    cfg = GPTConfig(258, layers, width, heads, context, bf16=bf16)
    recipe = TrainConfig(steps=1000, batch_size=batch, warmup_steps=10)
    _, init_fn, step_fn, _ = compiled_functions(cfg, recipe)
    params, opt = init_fn(jax.random.key(0))
    n_params = int(sum(x.size for x in jax.tree.leaves(params)))
    state_bytes = int(sum(x.nbytes for x in jax.tree.leaves((params, opt))))
    rows = np.random.default_rng(0).integers(0, 258, (batch, context + 1)).astype(np.int32)
    data = (jnp.asarray(rows), jnp.full((batch,), context, jnp.int32))
    t = time.perf_counter()
    compiled = step_fn.lower(params, opt, jax.random.key(0), *data).compile()
    compile_s = time.perf_counter() - t
    mem = compiled.memory_analysis()
    step_bytes = None
    if mem is not None:
        step_bytes = int(
            mem.argument_size_in_bytes + mem.temp_size_in_bytes + mem.output_size_in_bytes
        )
    for i in range(2):  # warm-up
        params, opt, loss, _ = compiled(params, opt, jax.random.key(i), *data)
    jax.block_until_ready(loss)
    times = []
    for i in range(steps):
        t = time.perf_counter()
        params, opt, loss, _ = compiled(params, opt, jax.random.key(10 + i), *data)
        jax.block_until_ready((params, loss))
        times.append(time.perf_counter() - t)
    median = statistics.median(times)
    tokens = batch * context
    return {
        "size": size,
        "layers": layers,
        "width": width,
        "heads": heads,
        "params": n_params,
        "context": context,
        "batch": batch,
        "compile_s": round(compile_s, 3),
        "step_s_median": median,
        "step_s_all": times,
        "tokens_per_s": tokens / median,
        "model_flops_per_s": 6 * n_params * tokens / median,
        "param_and_opt_bytes": state_bytes,
        "compiled_step_bytes": step_bytes,
    }


def run(quick: bool = True, sizes: list[str] | None = None) -> dict[str, Any]:
    """Benchmark training throughput per model size.

    Args:
      quick: CPU-sized (sizes nano..mini, context 128, batch 16, 5 timed steps); False: every
        size up to GPT-2 small at context 512, batch 16 (bf16 on an accelerator), 10 steps.
      sizes: model sizes to time (default: by ``quick``).

    Returns:
      A JSON-able dict: device, peak flop/s and its source, and one record per size with
      tokens/s, median step time, fraction of peak (6 x params x tokens / time / peak),
      compile time, parameter+optimiser bytes and XLA's compiled-step bytes.
    """
    on_accel = jax.devices()[0].platform != "cpu"
    bf16 = on_accel and not quick
    if sizes is None:
        sizes = ["nano", "toy", "tiny", "mini"] if quick else list(SIZES)
    context, batch, steps = (128, 16, 5) if quick else (512, 16, 10)
    peak, peak_source = _peak(bf16)
    records = []
    for size in sizes:
        r = _bench_size(size, context, batch, steps, bf16)
        r["fraction_of_peak"] = r["model_flops_per_s"] / peak
        records.append(r)
    return {
        "benchmark": "lm_train_step",
        "device": jax.devices()[0].device_kind,
        "platform": jax.devices()[0].platform,
        "n_devices": jax.device_count(),
        "dtype": "bfloat16" if bf16 else "float32",
        "peak_flops_per_s": peak,
        "peak_source": peak_source,
        "quick": quick,
        "sizes": records,
    }


if __name__ == "__main__":
    print(json.dumps(run(quick="--full" not in sys.argv[1:]), indent=2))
