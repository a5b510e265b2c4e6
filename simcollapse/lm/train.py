"""Training a GPT on a mix of real and synthetic rows, with checkpoints and a loss log.

The optimiser is the usual GPT recipe (paper Section 5 trains GPT-2 with AdamW): gradient
clipping by global norm, then AdamW with a learning rate that rises linearly from 0 over
``warmup_steps`` and decays by a cosine to ``min_lr_ratio * lr`` at ``steps``; weight decay
applies to matrices only (not to biases or layer-norm scales).

Mixing (the paper's p2): every row of every batch is drawn, independently, from the synthetic
rows with probability ``p2`` and from the real rows otherwise (both with replacement), all inside
the jitted step from a ``jax.random`` key, so ``p2`` is a traced number and one compiled step
serves every p2. Tokens seen counts the valid targets of the rows drawn (padding excluded).

Interrupted runs resume: with ``checkpoint_dir`` set, parameters, optimiser state, PRNG key,
step and the loss log are saved with orbax every ``checkpoint_every`` steps, and ``train``
restarts from the latest checkpoint it finds there.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd
from flax import nnx

from simcollapse.lm.corpus import Rows
from simcollapse.lm.model import GPT, GPTConfig, token_nll

__all__ = [
    "TrainConfig",
    "TrainResult",
    "compiled_functions",
    "evaluate",
    "make_optimizer",
    "train",
]


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings.

    Attributes:
      steps: optimiser steps (>= 1).
      batch_size: rows per step (>= 1).
      lr: peak learning rate (> 0).
      warmup_steps: linear warm-up length, in [0, steps).
      min_lr_ratio: final learning rate / ``lr``, in [0, 1].
      weight_decay: AdamW decoupled weight decay (>= 0).
      clip_norm: global gradient-norm clip (> 0).
      b1, b2: Adam moment decay rates, in [0, 1).
      eval_every: evaluate the test loss every this many steps (and at the last step).
      eval_batch: rows per evaluation batch.
      checkpoint_every: save a checkpoint every this many steps (when a directory is given).

    Example:
      >>> cfg = TrainConfig(steps=100, warmup_steps=10)
      >>> cfg.lr, cfg.batch_size
      (0.003, 16)
    """

    steps: int = 200
    batch_size: int = 16
    lr: float = 3e-3
    warmup_steps: int = 20
    min_lr_ratio: float = 0.1
    weight_decay: float = 0.1
    clip_norm: float = 1.0
    b1: float = 0.9
    b2: float = 0.95
    eval_every: int = 50
    eval_batch: int = 128
    checkpoint_every: int = 500

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "eval_every", "eval_batch", "checkpoint_every"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        if not isinstance(self.warmup_steps, int) or not 0 <= self.warmup_steps < self.steps:
            raise ValueError(
                f"warmup_steps must be an integer in [0, steps={self.steps}), "
                f"got {self.warmup_steps!r}"
            )
        checks = {
            "lr": (self.lr, 0.0, math.inf, True),
            "clip_norm": (self.clip_norm, 0.0, math.inf, True),
            "weight_decay": (self.weight_decay, 0.0, math.inf, False),
            "min_lr_ratio": (self.min_lr_ratio, 0.0, 1.0, False),
            "b1": (self.b1, 0.0, 1.0, False),
            "b2": (self.b2, 0.0, 1.0, False),
        }
        for name, (v, lo, hi, open_lo) in checks.items():
            bad_lo = v <= lo if open_lo else v < lo
            bad_hi = v >= hi if name in ("b1", "b2") else v > hi
            if not np.isfinite(v) or bad_lo or bad_hi:
                lo_b = "(" if open_lo else "["
                hi_b = ")" if name in ("b1", "b2") or hi == math.inf else "]"
                raise ValueError(f"{name} must be in {lo_b}{lo:g}, {hi:g}{hi_b}, got {v!r}")


def make_optimizer(cfg: TrainConfig) -> optax.GradientTransformation:
    """clip_by_global_norm -> AdamW with linear warm-up and cosine decay (decay on matrices).

    lr(t) = lr * t / warmup for t < warmup, then
    lr * (r + (1 - r) * (1 + cos(pi * (t - warmup) / (steps - warmup))) / 2), r = min_lr_ratio.

    Example:
      >>> import jax.numpy as jnp
      >>> opt = make_optimizer(TrainConfig(steps=10, warmup_steps=2))
      >>> state = opt.init({"w": jnp.ones((2, 2))})
      >>> type(opt).__name__
      'GradientTransformationExtraArgs'
    """
    schedule = optax.warmup_cosine_decay_schedule(
        init_value=0.0,
        peak_value=cfg.lr,
        warmup_steps=cfg.warmup_steps,
        decay_steps=cfg.steps,
        end_value=cfg.lr * cfg.min_lr_ratio,
    )
    return optax.chain(
        optax.clip_by_global_norm(cfg.clip_norm),
        optax.adamw(
            schedule,
            b1=cfg.b1,
            b2=cfg.b2,
            weight_decay=cfg.weight_decay,
            mask=lambda params: jax.tree.map(lambda x: x.ndim >= 2, params),
        ),
    )


def _sample_batch(
    key: jax.Array, real: tuple[jax.Array, jax.Array], syn: tuple[jax.Array, jax.Array], p2, b: int
) -> tuple[jax.Array, jax.Array]:
    k_mix, k_r, k_s = jax.random.split(key, 3)
    from_syn = jax.random.bernoulli(k_mix, p2, (b,))
    i_r = jax.random.randint(k_r, (b,), 0, real[0].shape[0])
    i_s = jax.random.randint(k_s, (b,), 0, syn[0].shape[0])
    tokens = jnp.where(from_syn[:, None], syn[0][i_s], real[0][i_r])
    n_valid = jnp.where(from_syn, syn[1][i_s], real[1][i_r])
    return tokens, n_valid


# Batches are drawn by their own small compiled function, so the (slow to compile) train step
# sees only (batch, context + 1) arrays and is compiled once per model and recipe, whatever the
# sizes of the real and synthetic pools.
_sample_batch_jit = jax.jit(_sample_batch, static_argnums=4)


def _compiled(model_cfg: GPTConfig, train_cfg: TrainConfig) -> tuple[Any, ...]:
    """The compiled functions for a shape and recipe; logging settings do not recompile."""
    recipe = dataclasses.replace(train_cfg, eval_every=1, eval_batch=1, checkpoint_every=1)
    return _compiled_recipe(model_cfg, recipe)


def compiled_functions(model_cfg: GPTConfig, train_cfg: TrainConfig) -> tuple[Any, ...]:
    """The jitted functions ``train`` runs for one model shape and recipe (cached).

    Args:
      model_cfg: the model's shape.
      train_cfg: the recipe (optimizer, batch size, schedule); logging and checkpoint settings
        select the same entry.

    Returns:
      (graphdef, init, step, eval_batch): ``init(key) -> (params, opt_state)``,
      ``step(params, opt_state, key, tokens, n_valid) -> (params, opt_state, loss, count)``
      (params and opt_state donated) and ``eval_batch(params, tokens, n_valid) -> (nll, count)``.
    """
    return _compiled(model_cfg, train_cfg)


@functools.lru_cache(maxsize=32)
def _compiled_recipe(model_cfg: GPTConfig, train_cfg: TrainConfig) -> tuple[Any, ...]:
    """(graphdef, jitted init, jitted train step, jitted eval batch) for one shape and recipe."""
    graphdef, _ = nnx.split(nnx.eval_shape(lambda: GPT(model_cfg, rngs=nnx.Rngs(0))))
    tx = make_optimizer(train_cfg)

    def init(key):
        params = nnx.state(GPT(model_cfg, rngs=nnx.Rngs(params=key)), nnx.Param)
        return params, tx.init(params)

    def loss_fn(params, tokens, n_valid, key):
        model = nnx.merge(graphdef, params)
        logits, _ = model(tokens[:, :-1], dropout_key=key)
        total, count = token_nll(logits, tokens[:, 1:], n_valid)
        return total / jnp.maximum(count, 1.0), count

    def step(params, opt_state, key, tokens, n_valid):
        (loss, count), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            params, tokens, n_valid, key
        )
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss, count

    def eval_batch(params, tokens, n_valid):
        logits, _ = nnx.merge(graphdef, params)(tokens[:, :-1])
        return token_nll(logits, tokens[:, 1:], n_valid)

    return graphdef, jax.jit(init), jax.jit(step, donate_argnums=(0, 1)), jax.jit(eval_batch)


def evaluate(
    model_cfg: GPTConfig,
    params: Any,
    rows: Rows,
    batch: int = 128,
    train_cfg: TrainConfig | None = None,
) -> float:
    """Token-averaged cross-entropy (nats) of a model on rows (padding excluded).

    Args:
      model_cfg: the model's shape.
      params: its parameters (``nnx.state(model, nnx.Param)`` or a ``TrainResult.params``).
      rows: the rows to score.
      batch: rows per forward pass (the last batch is padded with empty rows).
      train_cfg: only selects the compile cache entry; default ``TrainConfig()``.

    Returns:
      sum of -log p(target) / number of valid targets.

    Example:
      >>> import jax, math
      >>> from flax import nnx
      >>> from simcollapse.lm import GPT, GPTConfig, encode_rows
      >>> rows = encode_rows([[5, 6, 7, 8]] * 4, context=4, bos_id=0, eos_id=1)
      >>> cfg = GPTConfig(vocab_size=16, layers=1, width=16, heads=2, context=8)
      >>> params = nnx.state(GPT(cfg, rngs=nnx.Rngs(0)), nnx.Param)
      >>> abs(evaluate(cfg, params, rows) - math.log(16)) < 0.5  # untrained: about log(vocab)
      True
    """
    *_, eval_fn = _compiled(model_cfg, train_cfg or TrainConfig())
    n = len(rows)
    pad = (-n) % batch
    tokens = np.concatenate([rows.tokens, np.zeros((pad, rows.tokens.shape[1]), np.int32)])
    n_valid = np.concatenate([rows.n_valid, np.zeros(pad, np.int32)])
    total, count = 0.0, 0.0
    for i in range(0, n + pad, batch):
        s, c = eval_fn(params, tokens[i : i + batch], n_valid[i : i + batch])
        total, count = total + s, count + c
    return float(total / count)


@dataclasses.dataclass
class TrainResult:
    """What ``train`` returns.

    Attributes:
      params: trained parameters (an ``nnx.State``); ``nnx.merge(graphdef, params)`` rebuilds
        the model, or use ``model()``.
      history: DataFrame with columns step, tokens (valid target tokens seen), train_loss
        (mean over the steps since the last evaluation), test_loss.
      n_params: number of parameters.
      resumed_from: step a checkpoint was restored from (0 for a fresh run).

    Example:
      >>> import jax
      >>> from simcollapse.lm import GPTConfig, encode_rows
      >>> rows = encode_rows([[2, 3, 4], [5, 6]] * 4, context=3, bos_id=0, eos_id=1)
      >>> cfg = GPTConfig(vocab_size=8, layers=1, width=8, heads=2, context=4)
      >>> result = train(cfg, TrainConfig(steps=2, batch_size=2, warmup_steps=0), rows, rows,
      ...                jax.random.key(1))
      >>> list(result.history.columns)[:3], type(result.model()).__name__
      (['step', 'tokens', 'train_loss'], 'GPT')
    """

    params: Any
    history: pd.DataFrame
    n_params: int
    model_cfg: GPTConfig
    resumed_from: int = 0

    def model(self) -> GPT:
        """The trained model as an ``nnx`` module."""
        graphdef, _ = nnx.split(nnx.eval_shape(lambda: GPT(self.model_cfg, rngs=nnx.Rngs(0))))
        return nnx.merge(graphdef, self.params)


def _restore(checkpoint_dir: str | os.PathLike[str], target: dict[str, Any]) -> tuple[Any, Any]:
    """(orbax CheckpointManager, the newest checkpoint that restores, or None).

    Two checkpoints are kept; one that fails to restore (truncated, half-copied) is moved out of
    the folder (``quarantine``: one StoreWarning) and the one before it is tried, then a fresh
    start.
    """
    import orbax.checkpoint as ocp

    from simcollapse.store import quarantine

    folder = os.path.abspath(checkpoint_dir)
    options = ocp.CheckpointManagerOptions(max_to_keep=2)
    manager = ocp.CheckpointManager(folder, options=options)
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, target)
    for step in sorted(manager.all_steps(), reverse=True):
        try:
            return manager, manager.restore(step, args=ocp.args.StandardRestore(abstract))
        except Exception as err:  # noqa: BLE001 - any failure: fall back to an older one
            manager.close()
            why = f"checkpoint of step {step} does not restore: {str(err).splitlines()[0][:200]}"
            quarantine(Path(folder) / str(step), why, f"{folder}.step{step}.corrupt")
            manager = ocp.CheckpointManager(folder, options=options)
    return manager, None


def _check_rows(name: str, rows: Rows, context: int) -> None:
    if len(rows) == 0:
        raise ValueError(f"{name} has no rows")
    if rows.context > context:
        raise ValueError(
            f"{name} rows have context {rows.context}, longer than the model's context {context}"
        )


def train(
    model_cfg: GPTConfig,
    train_cfg: TrainConfig,
    real: Rows,
    test: Rows,
    key: jax.Array,
    *,
    synthetic: Rows | None = None,
    p2: float = 0.0,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> TrainResult:
    """Train a fresh GPT on real rows mixed with synthetic rows at fraction ``p2``.

    Args:
      model_cfg: model shape; its context must be >= the rows' context.
      train_cfg: optimisation settings.
      real: real training rows.
      test: held-out real rows for the test loss.
      key: ``jax.random`` key; it fixes the initialisation, batches and dropout.
      synthetic: synthetic rows (same context as ``real``); required when ``p2 > 0``.
      p2: probability that a training row is synthetic, in [0, 1] (paper's p2).
      checkpoint_dir: folder for orbax checkpoints (resume from the latest one there).
      progress: called with the number of steps just done (e.g. a tqdm ``update``).

    Returns:
      A ``TrainResult``.

    Raises:
      ValueError: p2 outside [0, 1], p2 > 0 without synthetic rows, empty rows, or rows whose
        context differs from each other or exceeds the model's.

    Example:
      >>> import jax
      >>> from simcollapse.lm import GPTConfig, encode_rows
      >>> rows = encode_rows([[5, 6, 7, 8]] * 8, context=4, bos_id=0, eos_id=1)
      >>> cfg = GPTConfig(vocab_size=16, layers=1, width=16, heads=2, context=8)
      >>> opt = TrainConfig(steps=3, batch_size=4, warmup_steps=1)
      >>> result = train(cfg, opt, rows, rows, jax.random.key(0))
      >>> type(result).__name__, len(result.history) > 0, result.n_params > 0
      ('TrainResult', True, True)
    """
    if not isinstance(p2, (int, float, np.floating)) or not 0.0 <= float(p2) <= 1.0:
        raise ValueError(f"p2 must be a number in [0, 1], got {p2!r}")
    _check_rows("real", real, model_cfg.context)
    _check_rows("test", test, model_cfg.context)
    if synthetic is None or len(synthetic) == 0:
        if p2 > 0:
            raise ValueError(f"p2={p2} > 0 needs synthetic rows, got none")
        synthetic = Rows(real.tokens[:1], real.n_valid[:1])  # never drawn: p2 == 0
    if synthetic.context != real.context:
        raise ValueError(
            f"synthetic rows have context {synthetic.context}, real rows {real.context}"
        )
    graphdef, init_fn, step_fn, _ = _compiled(model_cfg, train_cfg)
    k_init, k_train = jax.random.split(key)
    params, opt_state = init_fn(k_init)
    n_params = int(sum(x.size for x in jax.tree.leaves(params)))

    n_evals = -(-train_cfg.steps // train_cfg.eval_every)
    log = {k: np.full(n_evals, np.nan) for k in ("step", "tokens", "train_loss", "test_loss")}
    state = {"params": params, "opt": opt_state, "key": k_train, "step": 0, "tokens": 0.0}
    manager, start = None, 0
    if checkpoint_dir is not None:
        import orbax.checkpoint as ocp

        manager, restored = _restore(checkpoint_dir, {**state, "log": log})
        if restored is not None:
            state = {k: restored[k] for k in state}
            log = {k: np.asarray(v) for k, v in restored["log"].items()}
            start = int(state["step"])

    real_d = (jnp.asarray(real.tokens), jnp.asarray(real.n_valid))
    syn_d = (jnp.asarray(synthetic.tokens), jnp.asarray(synthetic.n_valid))
    p2_d = jnp.float32(p2)
    params, opt_state, key = state["params"], state["opt"], state["key"]
    tokens_seen = jnp.float32(state["tokens"])
    loss_sum, loss_n = jnp.float32(0.0), 0
    try:
        for s in range(start, train_cfg.steps):
            key, k_batch, k_drop = jax.random.split(key, 3)
            batch = _sample_batch_jit(k_batch, real_d, syn_d, p2_d, train_cfg.batch_size)
            params, opt_state, loss, count = step_fn(params, opt_state, k_drop, *batch)
            tokens_seen, loss_sum, loss_n = tokens_seen + count, loss_sum + loss, loss_n + 1
            done = s + 1
            if done % train_cfg.eval_every == 0 or done == train_cfg.steps:
                i = (done - 1) // train_cfg.eval_every
                log["step"][i], log["tokens"][i] = done, float(tokens_seen)
                log["train_loss"][i] = float(loss_sum) / loss_n
                log["test_loss"][i] = evaluate(
                    model_cfg, params, test, train_cfg.eval_batch, train_cfg
                )
                loss_sum, loss_n = jnp.float32(0.0), 0
            if manager is not None and (done % train_cfg.checkpoint_every == 0):
                snapshot = {
                    "params": params,
                    "opt": opt_state,
                    "key": key,
                    "step": done,
                    "tokens": float(tokens_seen),
                    "log": log,
                }
                manager.save(done, args=ocp.args.StandardSave(snapshot))
                manager.wait_until_finished()
            if progress is not None:
                progress(1)
    finally:
        if manager is not None:
            manager.wait_until_finished()
            manager.close()
    history = pd.DataFrame(log).dropna(subset=["step"]).astype({"step": int})
    return TrainResult(params, history, n_params, model_cfg, resumed_from=start)
