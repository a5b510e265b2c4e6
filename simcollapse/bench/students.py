"""Benchmark: N students trained side by side in one compiled program vs one after another.

Two cases, each timing the same N students both ways in the same run, their timed calls
interleaved (``_harness.time_calls``; ``ratio`` = one after another / side by side, reported as
``ratio_vs_baseline``), and recording how far apart the per-student numbers are
(``agreement``: the largest relative difference of their losses):

* ``lm``: GPT students of one shape (p2 and seed differ) with ``lm.students.train_students``
  against ``lm.train`` called once per student;
* ``two_layer``: MNIST two-layer networks with ``neural.train_two_layer`` given all the keys
  against one call per key.

Each record's ``split`` says where the time goes. ``lm``: the same students one after another
with each student's steps in one compiled call per evaluation interval (``train_students`` of
one student), so baseline / ``one_program_each_s`` is what removing the baseline's per-step
dispatches alone gains and ``one_program_each_s`` / side by side what batching the students'
operations gains. ``two_layer``: the GFLOP/s of both (4 n d m + 6 n m k flops per network and
epoch: the two products of the first layer and three of the second) beside those of the first
layer's product for all N networks at once (``x @ [W_1 ... W_N]``), the bound of a FLOP-bound run.

quick: nano GPTs at context 64 and width-64 networks on 500 digits, six students, seconds per
case on a CPU; the default level: the quick experiment's context (134) and more steps.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from simcollapse.bench import _harness as h


def _lm_case(n: int, context: int, steps: int, size: str, repeats: int) -> dict[str, Any]:
    from simcollapse.lm import GPTConfig, TrainConfig, encode_rows, train  # noqa: PLC0415 - on demand: lm, mnist
    from simcollapse.lm.model import SIZES  # noqa: PLC0415 - on demand: lm, mnist
    from simcollapse.lm.students import train_students  # noqa: PLC0415 - on demand: lm, mnist

    rng = np.random.default_rng(0)

    def rows(count: int):
        stories = [list(rng.integers(2, 258, rng.integers(8, context))) for _ in range(count)]
        return encode_rows(stories, context, 0, 1, allow_long_context=True)

    real, test, syn = rows(512), rows(64), rows(256)
    layers, width, heads = SIZES[size]
    cfg = GPTConfig(258, layers, width, heads, context)
    recipe = TrainConfig(steps=steps, batch_size=16, lr=1e-2, warmup_steps=steps // 8,
                         eval_every=steps // 2, eval_batch=64)  # fmt: skip
    keys = [jax.random.key(s) for s in range(n)]
    p2s = [float(p) for p in np.linspace(0.0, 1.0, n)]

    def together():
        return train_students(cfg, recipe, real, test, keys, p2s, synthetic=syn)

    def apart():
        return [train(cfg, recipe, real, test, k, synthetic=syn, p2=p)
                for k, p in zip(keys, p2s, strict=True)]  # fmt: skip

    def one_program_each():
        return [train_students(cfg, recipe, real, test, [k], [p], synthetic=syn)[0]
                for k, p in zip(keys, p2s, strict=True)]  # fmt: skip

    timed = h.time_calls(
        {
            "ours": lambda: [r.params for r in together()],
            "base": lambda: [r.params for r in apart()],
            "alone": lambda: [r.params for r in one_program_each()],
        },
        repeats,
    )
    ours, base, alone = timed["ours"], timed["base"], timed["alone"]
    a = np.stack([r.history["test_loss"].to_numpy() for r in together()])
    b = np.stack([r.history["test_loss"].to_numpy() for r in apart()])
    base |= {"what": f"lm.train once per student, {n} students", "work": float(n)}
    params = {"size": size, "students": n, "context": context, "steps": steps, "batch": 16,
              "dtype": "float32"}  # fmt: skip
    rec = h.case("students", "lm", params, ours, work=float(n), work_unit="students",
                 baseline=base)  # fmt: skip
    rec["agreement"] = {"max_rel_diff_test_loss": float(np.max(np.abs(a - b) / np.abs(b)))}
    rec["split"] = {
        "one_program_each_s": alone["median_s"],
        "baseline_over_one_program_each": base["median_s"] / alone["median_s"],
        "one_program_each_over_side_by_side": alone["median_s"] / ours["median_s"],
    }
    return rec


def _two_layer_case(n: int, n_train: int, width: int, epochs: int, repeats: int) -> dict[str, Any]:
    from simcollapse.neural import load_builtin, one_hot  # noqa: PLC0415 - on demand: lm, mnist
    from simcollapse.neural.two_layer import TwoLayerConfig, train_two_layer  # noqa: PLC0415 - on demand: lm, mnist

    digits = load_builtin()
    x = np.asarray(digits.x_train[:n_train], np.float32)
    y = one_hot(digits.y_train[:n_train])
    rng = np.random.default_rng(0)
    ys = np.stack([y + 0.1 * s * rng.standard_normal(y.shape) for s in range(n)])
    keys = jax.random.split(jax.random.key(0), n)
    cfg = TwoLayerConfig(width=width, epochs=epochs, lr=3e-3)

    def together():
        return train_two_layer(keys, x, ys, cfg)

    def apart():
        return [train_two_layer(keys[i : i + 1], x, ys[i : i + 1], cfg) for i in range(n)]

    x_dev, w_all = jnp.asarray(x), jnp.ones((x.shape[1], n * width), jnp.float32)
    timed = h.time_calls(
        {
            "ours": lambda: together().params,
            "base": lambda: [f.params for f in apart()],
            "first": lambda: [jnp.dot(x_dev, w_all) for _ in range(epochs)],
        },
        repeats,
    )
    ours, base, first = timed["ours"], timed["base"], timed["first"]
    a = together().train_loss
    b = np.concatenate([f.train_loss for f in apart()])
    base |= {"what": f"neural.train_two_layer once per key, {n} networks", "work": float(n)}
    params = {"students": n, "n": n_train, "width": width, "epochs": epochs, "dtype": "float32"}
    k = ys.shape[-1]
    flops = float(n * epochs * (4 * n_train * x.shape[1] * width + 6 * n_train * width * k))
    rec = h.case("students", "two_layer", params, ours, work=float(n), work_unit="students",
                 baseline=base, flops=flops)  # fmt: skip
    rec["agreement"] = {"max_rel_diff_train_loss": float(np.max(np.abs(a - b) / np.abs(b)))}
    rec["split"] = {
        "gflops_side_by_side": flops / ours["median_s"] / 1e9,
        "gflops_one_after_another": flops / base["median_s"] / 1e9,
        "gflops_first_layer_product": 2 * x_dev.size * n * width * epochs / first["median_s"] / 1e9,
    }
    return rec


def settings(quick: bool) -> dict[str, Any]:
    """The suite's sizes: small at the quick level (CI), larger at the standard one."""
    if quick:
        return {"students": 6, "lm_size": "nano", "lm_context": 64, "lm_steps": 32,
                "two_layer": {"n": 500, "width": 64, "epochs": 50}, "repeats": 2}  # fmt: skip
    return {"students": 6, "lm_size": "nano", "lm_context": 134, "lm_steps": 128,
            "two_layer": {"n": 2000, "width": 256, "epochs": 200}, "repeats": 3}  # fmt: skip


def run(quick: bool, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run the suite; returns {"settings": ..., "cases": [...]}."""
    cfg = settings(quick) | (overrides or {})
    n, r = cfg["students"], cfg["repeats"]
    tl = cfg["two_layer"]
    cases = [
        _two_layer_case(n, tl["n"], tl["width"], tl["epochs"], r),
        _lm_case(n, cfg["lm_context"], cfg["lm_steps"], cfg["lm_size"], r),
    ]
    return {"settings": cfg, "cases": cases}
