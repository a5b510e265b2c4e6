"""Students side by side: many GPT runs of one shape trained in one compiled program.

A student is one run of ``train`` (one key, one synthetic fraction p2). Students of the same
model shape and recipe differ only in their key and p2, so ``train_students`` stacks them on a
leading axis and ``jax.vmap``s the very functions ``train`` calls (``compiled_steps``): the
initialisation from ``split(key)[0]``, and at every step ``key, k_batch, k_drop = split(key, 3)``,
a batch drawn at the student's own p2 from ``k_batch`` (its own data stream) and the AdamW step
with dropout key ``k_drop``. The steps between two evaluations run as one ``lax.scan``, so a
small model pays one dispatch per evaluation interval instead of two per step, and all the
students of a chunk share each matrix product. Evaluation is one call per test batch for all
the students: vmapped on accelerators; on a CPU the students take turns inside that call
(``lax.map``), because the forward pass of all of them at once outgrows the caches.

Each student's numbers are those of its own ``train`` run up to float rounding (batched and
fused products may round differently; tests hold them to 1e-4 relative on the losses).

Memory: ``student_bytes`` estimates one student's training memory (parameters, gradients, AdamW
moments, and the activations of one batch kept for the backward pass); ``students_per_chunk``
divides a budget (``simulate.driver.memory_budget``: a fraction of the device's or host's
memory) by it, and ``train_students`` trains the students in chunks of that many.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from simcollapse.lm.checkpoint import resume, save_checkpoint
from simcollapse.lm.compiled_steps import batched_loss, compiled_steps_for, sample_batch
from simcollapse.lm.corpus import Rows
from simcollapse.lm.model import GPTConfig
from simcollapse.lm.optimizer import TrainConfig
from simcollapse.lm.train import TrainResult, checked_synthetic
from simcollapse.simulate.driver import memory_budget

__all__ = ["student_bytes", "students_per_chunk", "train_students"]


def student_bytes(model_cfg: GPTConfig, train_cfg: TrainConfig) -> int:
    """Estimated training memory of one student, in bytes.

    Parameters (about 12 layers width^2 + 2 vocab width), their gradient and two AdamW moments
    in float32 (16 bytes each), plus the activations kept for the backward pass: per row and
    position about 16 width values per layer and the vocab-sized logits (twice: logits and
    their gradient), in float32 (bfloat16 halves the per-layer part).

    Example:
      >>> cfg = GPTConfig(vocab_size=258, layers=2, width=16, heads=2, context=512)
      >>> round(student_bytes(cfg, TrainConfig(batch_size=16)) / 2**20)  # MiB, mostly activations
      96
    """
    w, v = model_cfg.width, model_cfg.vocab_size
    params = model_cfg.layers * 12 * w * w + 2 * v * w + model_cfg.context * w
    tokens = train_cfg.batch_size * model_cfg.context
    act_bytes = 2 if model_cfg.bf16 else 4
    heads_attention = model_cfg.heads * model_cfg.context  # attention weights per position
    per_token = model_cfg.layers * (16 * w + heads_attention) * act_bytes + 2 * v * 4
    return int(16 * params + tokens * per_token)


def students_per_chunk(
    model_cfg: GPTConfig, train_cfg: TrainConfig, n: int, budget: int | None = None
) -> int:
    """How many of ``n`` students train side by side within ``budget`` bytes (at least one).

    Args:
      model_cfg, train_cfg: the students' shape and recipe.
      n: students to train.
      budget: bytes; None: ``simulate.driver.memory_budget()``.

    Example:
      >>> cfg = GPTConfig(vocab_size=258, layers=2, width=16, heads=2, context=64)
      >>> students_per_chunk(cfg, TrainConfig(), 18, budget=1 << 40)
      18
      >>> students_per_chunk(cfg, TrainConfig(), 18, budget=1)
      1
    """
    if budget is None:
        budget = memory_budget()
    return int(max(1, min(n, budget // max(1, student_bytes(model_cfg, train_cfg)))))


@functools.lru_cache(maxsize=32)
def _side_by_side(model_cfg: GPTConfig, train_cfg: TrainConfig) -> tuple[Callable, ...]:
    """(init, run segment, evaluate batch), each over all students and jitted.

    Training is vmapped over the students; evaluation is too on accelerators, while on a CPU it
    maps ``eval_fn`` over them in turn inside the call (``lax.map``), which gives each student
    exactly ``compiled_steps.evaluate``'s numbers.
    """
    _, init_fn, step_fn, eval_fn = compiled_steps_for(model_cfg, train_cfg)
    b = train_cfg.batch_size

    def init(keys):
        k_init, k_train = jax.vmap(lambda k: tuple(jax.random.split(k)))(keys)
        params, opt = jax.vmap(init_fn)(k_init)
        return params, opt, k_train

    def one_step(params, opt, key, real, syn, p2):
        key, k_batch, k_drop = jax.random.split(key, 3)
        tokens, n_valid = sample_batch(k_batch, real, syn, p2, b)
        params, opt, loss, count = step_fn(params, opt, k_drop, tokens, n_valid)
        return params, opt, key, loss, count

    vstep = jax.vmap(one_step, in_axes=(0, 0, 0, None, None, 0))

    @functools.partial(jax.jit, static_argnames="length", donate_argnums=(0, 1))
    def segment(params, opt, keys, tokens_seen, real, syn, p2s, *, length: int):
        def body(carry, _):
            params, opt, keys, seen, loss_sum = carry
            params, opt, keys, loss, count = vstep(params, opt, keys, real, syn, p2s)
            return (params, opt, keys, seen + count, loss_sum + loss), None

        zero = jnp.zeros(p2s.shape, jnp.float32)
        carry = (params, opt, keys, tokens_seen, zero)
        (params, opt, keys, seen, loss_sum), _ = jax.lax.scan(body, carry, None, length=length)
        return params, opt, keys, seen, loss_sum

    if jax.default_backend() == "cpu":
        # one student after another inside one call: the forward pass of all students at once
        # outgrows the CPU's caches (six nano students at 64 rows: 2x slower than in turn)
        def evaluate(params, tokens, n_valid):
            return jax.lax.map(lambda p: eval_fn(p, tokens, n_valid), params)
    else:
        evaluate = jax.vmap(eval_fn, in_axes=(0, None, None))
    return jax.jit(init), segment, jax.jit(evaluate)


@functools.partial(jax.jit, static_argnums=1)
def _unstack(params: Any, r: int) -> list[Any]:
    """The ``r`` students' parameters of a stacked pytree, in one call (not one per leaf)."""
    return [jax.tree.map(lambda a, j=j: a[j], params) for j in range(r)]


def _evaluate_all(eval_all: Callable, params: Any, rows: Rows, batch: int) -> np.ndarray:
    """Every student's token-averaged test loss (as ``compiled_steps.evaluate``)."""
    return np.asarray(batched_loss(eval_all, params, rows, batch), np.float64)


def _segment_ends(train_cfg: TrainConfig, checkpointing: bool) -> list[int]:
    """The steps after which training stops to evaluate (or checkpoint), in order."""
    ends = set(range(train_cfg.eval_every, train_cfg.steps + 1, train_cfg.eval_every))
    ends.add(train_cfg.steps)
    if checkpointing:
        ends |= set(range(train_cfg.checkpoint_every, train_cfg.steps, train_cfg.checkpoint_every))
    return sorted(ends)


def _train_chunk(
    model_cfg: GPTConfig,
    train_cfg: TrainConfig,
    pools: tuple[tuple[jax.Array, jax.Array], tuple[jax.Array, jax.Array]],
    test: Rows,
    keys: jax.Array,
    p2s: np.ndarray,
    checkpoint_dir: str | os.PathLike[str] | None,
    progress: Callable[[int], None] | None,
) -> list[TrainResult]:
    init, segment, eval_all = _side_by_side(model_cfg, train_cfg)
    r = len(p2s)
    params, opt, k_train = init(keys)
    n_params = int(sum(x.size for x in jax.tree.leaves(params))) // r
    n_evals = -(-train_cfg.steps // train_cfg.eval_every)
    log = {k: np.full((n_evals, r), np.nan) for k in ("step", "tokens", "train_loss", "test_loss")}
    state = {
        "params": params,
        "opt": opt,
        "key": k_train,
        "step": 0,
        "tokens": np.zeros(r, np.float32),
    }
    manager = None
    if checkpoint_dir is not None:
        manager, state, log = resume(checkpoint_dir, state, log)
    params, opt, k_train = state["params"], state["opt"], state["key"]
    seen = jnp.asarray(state["tokens"], jnp.float32)
    start = int(state["step"])
    p2v = jnp.asarray(p2s, jnp.float32)
    loss_sum, loss_n, done = jnp.zeros(r, jnp.float32), 0, start
    try:
        for end in _segment_ends(train_cfg, manager is not None):
            if end <= done:
                continue
            length = end - done
            params, opt, k_train, seen, seg_sum = segment(
                params, opt, k_train, seen, *pools, p2v, length=length
            )
            loss_sum, loss_n, done = loss_sum + seg_sum, loss_n + length, end
            if done % train_cfg.eval_every == 0 or done == train_cfg.steps:
                i = (done - 1) // train_cfg.eval_every
                log["step"][i], log["tokens"][i] = done, np.asarray(seen)
                log["train_loss"][i] = np.asarray(loss_sum) / loss_n
                log["test_loss"][i] = _evaluate_all(eval_all, params, test, train_cfg.eval_batch)
                loss_sum, loss_n = jnp.zeros(r, jnp.float32), 0
            if manager is not None and done % train_cfg.checkpoint_every == 0:
                snapshot = {
                    "params": params,
                    "opt": opt,
                    "key": k_train,
                    "step": done,
                    "tokens": np.asarray(seen),
                    "log": log,
                }
                save_checkpoint(manager, done, snapshot)
            if progress is not None:
                progress(length * r)
    finally:
        if manager is not None:
            manager.wait_until_finished()
            manager.close()
    results = []
    for j, own in enumerate(_unstack(params, r)):
        history = pd.DataFrame({k: v[:, j] for k, v in log.items()})
        history = history.dropna(subset=["step"]).astype({"step": int})
        results.append(TrainResult(own, history, n_params, model_cfg, resumed_from=start))
    return results


def train_students(
    model_cfg: GPTConfig,
    train_cfg: TrainConfig,
    real: Rows,
    test: Rows,
    keys: Sequence[jax.Array] | jax.Array,
    p2s: Sequence[float],
    *,
    synthetic: Rows | None = None,
    memory_budget: int | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[TrainResult]:
    """Train one student per (key, p2) side by side: ``train`` vmapped over the students.

    Student ``j`` is ``train(model_cfg, train_cfg, real, test, keys[j], synthetic=synthetic,
    p2=p2s[j])`` up to float rounding: the same initialisation, batches (its own stream of
    ``jax.random`` keys) and updates. Students train in chunks that fit ``memory_budget``
    (``students_per_chunk``).

    Args:
      model_cfg: the students' shape (shared).
      train_cfg: the recipe (shared).
      real, test: real training rows and held-out real rows (shared).
      keys: one ``jax.random`` key per student.
      p2s: one synthetic fraction per student, each in [0, 1].
      synthetic: synthetic rows; required when some p2 > 0.
      memory_budget: bytes one chunk may use; None: ``simulate.driver.memory_budget()``.
      checkpoint_dir: orbax checkpoints of each chunk under ``checkpoint_dir/chunk<i>``
        (resumed from the newest one).
      progress: called with the number of student steps just done.

    Returns:
      One ``TrainResult`` per student, in the order of ``keys``.

    Raises:
      ValueError: keys and p2s of different lengths or empty, a p2 outside [0, 1], p2 > 0
        without synthetic rows, or rows as ``train`` refuses them.

    Example:
      >>> import jax
      >>> from simcollapse.lm import GPTConfig, encode_rows
      >>> rows = encode_rows([[5, 6, 7, 8], [9, 10]] * 8, context=4, bos_id=0, eos_id=1)
      >>> cfg = GPTConfig(vocab_size=16, layers=1, width=16, heads=2, context=8)
      >>> opt = TrainConfig(steps=4, batch_size=4, warmup_steps=1, eval_every=2)
      >>> keys = [jax.random.key(s) for s in (0, 1)]
      >>> runs = train_students(cfg, opt, rows, rows, keys, [0.0, 0.5], synthetic=rows)
      >>> len(runs), runs[0].history["step"].tolist()
      (2, [2, 4])
    """
    keys = list(keys) if not isinstance(keys, jax.Array) else list(keys)
    p2s = [float(p) for p in p2s]
    if len(keys) == 0 or len(keys) != len(p2s):
        raise ValueError(
            f"keys and p2s must be non-empty and of one length, got {len(keys)} and {len(p2s)}"
        )
    for p2 in p2s:
        synthetic_rows = checked_synthetic(model_cfg, real, test, synthetic, p2)
    pools = (
        (jnp.asarray(real.tokens), jnp.asarray(real.n_valid)),
        (jnp.asarray(synthetic_rows.tokens), jnp.asarray(synthetic_rows.n_valid)),
    )
    per = students_per_chunk(model_cfg, train_cfg, len(keys), memory_budget)
    n_chunks = math.ceil(len(keys) / per)
    per = math.ceil(len(keys) / n_chunks)  # balanced chunks: one compile when they divide
    results: list[TrainResult] = []
    for c in range(n_chunks):
        lo, hi = c * per, min(len(keys), (c + 1) * per)
        ckpt = None if checkpoint_dir is None else os.path.join(checkpoint_dir, f"chunk{c}")
        results += _train_chunk(
            model_cfg,
            train_cfg,
            pools,
            test,
            jnp.stack(keys[lo:hi]),
            np.asarray(p2s[lo:hi]),
            ckpt,
            progress,
        )
    return results
