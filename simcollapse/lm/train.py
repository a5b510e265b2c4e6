"""Training a GPT on a mix of real and synthetic rows, with checkpoints and a loss log.

The optimiser (``simcollapse.lm.optimizer``) is the usual GPT recipe (paper Section 5 trains
GPT-2 with AdamW): gradient clipping by global norm, then AdamW with a learning rate that rises
linearly from 0 over ``warmup_steps`` and decays by a cosine to ``min_lr_ratio * lr`` at
``steps``; weight decay applies to matrices only (not to biases or layer-norm scales).

Mixing (the paper's p2): every row of every batch is drawn, independently, from the synthetic
rows with probability ``p2`` and from the real rows otherwise (both with replacement), all inside
a jitted function from a ``jax.random`` key (``simcollapse.lm.compiled_steps``), so ``p2`` is a
traced number and one compiled step serves every p2. Tokens seen counts the valid targets of the
rows drawn (padding excluded).

Interrupted runs resume: with ``checkpoint_dir`` set, parameters, optimiser state, PRNG key,
step and the loss log are saved with orbax every ``checkpoint_every`` steps, and ``train``
restarts from the latest checkpoint it finds there (``simcollapse.lm.checkpoint``).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from flax import nnx

from simcollapse.lm.checkpoint import resume, save_checkpoint
from simcollapse.lm.compiled_steps import (
    compiled_functions,
    compiled_steps_for,
    evaluate,
    sample_batch_jit,
)
from simcollapse.lm.corpus import Rows
from simcollapse.lm.model import GPT, GPTConfig
from simcollapse.lm.optimizer import TrainConfig, make_optimizer

__all__ = [
    "TrainConfig",
    "TrainResult",
    "compiled_functions",
    "evaluate",
    "make_optimizer",
    "train",
]


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


def _check_rows(name: str, rows: Rows, context: int) -> None:
    if len(rows) == 0:
        raise ValueError(f"{name} has no rows")
    if rows.context > context:
        raise ValueError(
            f"{name} rows have context {rows.context}, longer than the model's context {context}"
        )


def checked_synthetic(
    model_cfg: GPTConfig, real: Rows, test: Rows, synthetic: Rows | None, p2: float
) -> Rows:
    """Validate ``train``'s rows and p2; the synthetic rows (a never-drawn row when p2 == 0)."""
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
    return synthetic


class _Pools(NamedTuple):
    """The device arrays batches are drawn from: (tokens, n_valid) of each pool, and p2."""

    real: tuple[jax.Array, jax.Array]
    synthetic: tuple[jax.Array, jax.Array]
    p2: jax.Array


def _initial_state(
    model_cfg: GPTConfig,
    train_cfg: TrainConfig,
    key: jax.Array,
    checkpoint_dir: str | os.PathLike[str] | None,
) -> tuple[dict[str, Any], dict[str, np.ndarray], int, Any]:
    """(state, loss log, number of parameters, checkpoint manager or None) of a fresh run, or
    of the newest checkpoint in ``checkpoint_dir``."""
    _, init_fn, _, _ = compiled_steps_for(model_cfg, train_cfg)
    k_init, k_train = jax.random.split(key)
    params, opt_state = init_fn(k_init)
    n_params = int(sum(x.size for x in jax.tree.leaves(params)))
    n_evals = -(-train_cfg.steps // train_cfg.eval_every)
    log = {k: np.full(n_evals, np.nan) for k in ("step", "tokens", "train_loss", "test_loss")}
    state = {"params": params, "opt": opt_state, "key": k_train, "step": 0, "tokens": 0.0}
    manager = None
    if checkpoint_dir is not None:
        manager, state, log = resume(checkpoint_dir, state, log)
    return state, log, n_params, manager


def _run_steps(
    model_cfg: GPTConfig,
    train_cfg: TrainConfig,
    pools: _Pools,
    test: Rows,
    state: dict[str, Any],
    log: dict[str, np.ndarray],
    manager: Any,
    progress: Callable[[int], None] | None,
) -> Any:
    """Train from ``state`` to ``train_cfg.steps``, filling ``log`` in place; the parameters."""
    _, _, step_fn, _ = compiled_steps_for(model_cfg, train_cfg)
    params, opt_state, key = state["params"], state["opt"], state["key"]
    tokens_seen = jnp.float32(state["tokens"])
    loss_sum, loss_n = jnp.float32(0.0), 0
    for s in range(int(state["step"]), train_cfg.steps):
        key, k_batch, k_drop = jax.random.split(key, 3)
        batch = sample_batch_jit(k_batch, *pools, train_cfg.batch_size)
        params, opt_state, loss, count = step_fn(params, opt_state, k_drop, *batch)
        tokens_seen, loss_sum, loss_n = tokens_seen + count, loss_sum + loss, loss_n + 1
        done = s + 1
        if done % train_cfg.eval_every == 0 or done == train_cfg.steps:
            i = (done - 1) // train_cfg.eval_every
            log["step"][i], log["tokens"][i] = done, float(tokens_seen)
            log["train_loss"][i] = float(loss_sum) / loss_n
            log["test_loss"][i] = evaluate(model_cfg, params, test, train_cfg.eval_batch, train_cfg)
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
            save_checkpoint(manager, done, snapshot)
        if progress is not None:
            progress(1)
    return params


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
    synthetic = checked_synthetic(model_cfg, real, test, synthetic, p2)
    state, log, n_params, manager = _initial_state(model_cfg, train_cfg, key, checkpoint_dir)
    start = int(state["step"])
    pools = _Pools(
        (jnp.asarray(real.tokens), jnp.asarray(real.n_valid)),
        (jnp.asarray(synthetic.tokens), jnp.asarray(synthetic.n_valid)),
        jnp.float32(p2),
    )
    try:
        params = _run_steps(model_cfg, train_cfg, pools, test, state, log, manager, progress)
    finally:
        if manager is not None:
            manager.wait_until_finished()
            manager.close()
    history = pd.DataFrame(log).dropna(subset=["step"]).astype({"step": int})
    return TrainResult(params, history, n_params, model_cfg, resumed_from=start)
