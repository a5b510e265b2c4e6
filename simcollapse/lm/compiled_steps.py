"""The compiled functions of GPT training: batch sampling, the train step and evaluation.

Mixing (the paper's p2): every row of every batch is drawn, independently, from the synthetic
rows with probability ``p2`` and from the real rows otherwise (both with replacement), all inside
a jitted function from a ``jax.random`` key, so ``p2`` is a traced number and one compiled step
serves every p2. Tokens seen counts the valid targets of the rows drawn (padding excluded).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from simcollapse.lm.corpus import Rows
from simcollapse.lm.model import GPT, GPTConfig, token_nll
from simcollapse.lm.optimizer import TrainConfig, make_optimizer

__all__ = ["compiled_functions", "evaluate"]


def sample_batch(
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
sample_batch_jit = jax.jit(sample_batch, static_argnums=4)


def compiled_steps_for(model_cfg: GPTConfig, train_cfg: TrainConfig) -> tuple[Any, ...]:
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

    Example:
      >>> cfg = GPTConfig(vocab_size=258, layers=1, width=16, heads=2, context=8)
      >>> recipe = TrainConfig(steps=10, warmup_steps=1)
      >>> graphdef, init, step, eval_batch = compiled_functions(cfg, recipe)
      >>> params, opt_state = jax.eval_shape(init, jax.random.key(0))  # traced, not compiled
      >>> rows = jax.ShapeDtypeStruct((recipe.batch_size, cfg.context + 1), jnp.int32)
      >>> valid = jax.ShapeDtypeStruct((recipe.batch_size,), jnp.int32)
      >>> key = jax.random.key(1)
      >>> _, _, loss, count = jax.eval_shape(step, params, opt_state, key, rows, valid)
      >>> sum(x.size for x in jax.tree.leaves(params)), loss.shape, count.shape
      (7440, (), ())
      >>> compiled_functions(cfg, dataclasses.replace(recipe, eval_every=5))[2] is step
      True
    """
    return compiled_steps_for(model_cfg, train_cfg)


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
    *_, eval_fn = compiled_steps_for(model_cfg, train_cfg or TrainConfig())
    return float(batched_loss(eval_fn, params, rows, batch))


def batched_loss(eval_fn: Callable, params: Any, rows: Rows, batch: int) -> Any:
    """Token-averaged loss of ``rows`` through ``eval_fn(params, tokens, n_valid) -> (sum,
    count)``, in batches of ``batch`` rows (the last padded with empty rows)."""
    n = len(rows)
    pad = (-n) % batch
    tokens = np.concatenate([rows.tokens, np.zeros((pad, rows.tokens.shape[1]), np.int32)])
    n_valid = np.concatenate([rows.n_valid, np.zeros(pad, np.int32)])
    total, count = 0.0, 0.0
    for i in range(0, n + pad, batch):
        s, c = eval_fn(params, tokens[i : i + batch], n_valid[i : i + batch])
        total, count = total + s, count + c
    return total / count
