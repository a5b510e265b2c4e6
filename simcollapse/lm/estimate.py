"""How long the language-model figures take on this device: a model-flops estimate.

A student of P parameters trained for S steps of B rows of context T costs about 6 P B T flops
(forward 2P, backward 4P per token; attention's T^2 term not counted), its evaluations 2 P T per
test row, and the generator the same plus its sampling (about 2 P T per sampled token, one token
at a time). ``calibrate`` measures the device's model-flops rate on one training step of a
mid-sized GPT (the ``lm`` benchmark's method), and ``experiment_seconds`` divides. Students side
by side share the rate (on an accelerator they fill it better: the estimate is an upper bound
there); stories shorter than the context make the real cost smaller. ``experiment_work`` states
an experiment's flops as the figures' dry run counts work (``figures.dry_run.Work``), priced at
``LM_FLOPS``, the rate ``calibrate`` measures.
"""

from __future__ import annotations

import functools
import time

import jax
import jax.numpy as jnp
import numpy as np

from simcollapse.figures.dry_run import Rate, Task, Throughput, Work
from simcollapse.lm.compiled_steps import compiled_functions
from simcollapse.lm.experiment_config import LMExperiment
from simcollapse.lm.model import SIZES, GPTConfig
from simcollapse.lm.optimizer import TrainConfig

__all__ = ["LM_FLOPS", "calibrate", "experiment_seconds", "experiment_work", "gpt_params"]


def gpt_params(layers: int, width: int, vocab: int, context: int) -> int:
    """About the parameters of a GPT: 12 layers width^2 + vocab width (tied) + positions.

    Example:
      >>> round(gpt_params(12, 768, 50257, 1024) / 1e6)  # GPT-2 small
      124
    """
    return 12 * layers * width * width + vocab * width + context * width


@functools.lru_cache(maxsize=4)
def calibrate(size: str = "mini", context: int = 128, batch: int = 16, steps: int = 3) -> float:
    """Model flops per second of one ``lm.train`` step of ``size`` on the present device.

    One compile and ``steps`` timed steps (the median): seconds on a CPU.
    """

    layers, width, heads = SIZES[size]
    on_accel = jax.devices()[0].platform != "cpu"
    cfg = GPTConfig(258, layers, width, heads, context, bf16=on_accel)
    _, init_fn, step_fn, _ = compiled_functions(cfg, TrainConfig(steps=100, batch_size=batch))
    params, opt = init_fn(jax.random.key(0))
    n_params = int(sum(x.size for x in jax.tree.leaves(params)))
    rows = np.random.default_rng(0).integers(0, 258, (batch, context + 1)).astype(np.int32)
    data = (jnp.asarray(rows), jnp.full((batch,), context, jnp.int32))
    params, opt, loss, _ = step_fn(params, opt, jax.random.key(0), *data)
    jax.block_until_ready(loss)
    times = []
    for i in range(steps):
        t0 = time.perf_counter()
        params, opt, loss, _ = step_fn(params, opt, jax.random.key(i + 1), *data)
        jax.block_until_ready(loss)
        times.append(time.perf_counter() - t0)
    return 6 * n_params * batch * context / float(np.median(times))


def _train_flops(p: int, recipe: TrainConfig, context: int, n_test: int) -> float:
    evals = -(-recipe.steps // recipe.eval_every)
    return 6.0 * p * recipe.steps * recipe.batch_size * context + 2.0 * p * evals * n_test * context


def experiment_seconds(exp: LMExperiment, vocab: int, flops_per_s: float) -> dict[str, float]:
    """Estimated seconds of an experiment: generator (training and sampling) and students.

    Args:
      exp: the experiment.
      vocab: the tokenizer's vocabulary (258 for the grammar's bytes, ``bpe_vocab`` for a corpus).
      flops_per_s: the device's model-flops rate (``calibrate``).

    Returns:
      {"generator": s, "students": s, "total": s, "students_count": n}.

    Example:
      >>> from simcollapse.lm import full_experiment
      >>> est = experiment_seconds(full_experiment(), 4096, 1e14)
      >>> est["students_count"], est["total"] > est["generator"]
      (90, True)
    """
    t = exp.context
    gl, gw, _ = SIZES[exp.generator_size]
    pg = gpt_params(gl, gw, vocab, t)
    gen = _train_flops(pg, exp.generator_train, t, exp.n_test)
    gen += 2.0 * pg * exp.n_synthetic * t  # sampling, one token at a time
    students = 0.0
    runs = len(exp.p2s) * len(exp.seeds)
    for size in exp.sizes:
        layers, width, _ = SIZES[size]
        students += runs * _train_flops(gpt_params(layers, width, vocab, t), exp.student_train, t,
                                        exp.n_test)  # fmt: skip
    return {
        "generator": gen / flops_per_s,
        "students": students / flops_per_s,
        "total": (gen + students) / flops_per_s,
        "students_count": runs * len(exp.sizes),
    }


def _throughput() -> Throughput:
    rate = calibrate()
    return Throughput(1.0 / rate, note=f"{rate / 1e9:.3g} GFLOP/s on a GPT training step")


LM_FLOPS = Rate("GPT model flops", "flop", _throughput)


def experiment_work(exp: LMExperiment) -> Work:
    """The experiment's model flops (``experiment_seconds`` at one flop per second) as figure work.

    Example:
      >>> from simcollapse.lm import quick_experiment
      >>> work = experiment_work(quick_experiment())
      >>> (task,) = work.tasks
      >>> task.rate is LM_FLOPS, task.amount > 1e9, work.note
      (True, True, '8 students + generator, 6 x params x tokens')
    """
    vocab = 258 if exp.corpus is None else exp.bpe_vocab
    est = experiment_seconds(exp, vocab, 1.0)
    note = f"{est['students_count']} students + generator, 6 x params x tokens"
    return Work(tasks=(Task(LM_FLOPS, est["total"]),), note=note, key=f"lm {exp!r}")
