"""Optimisation settings of a GPT run and the optimiser they build.

The optimiser is the usual GPT recipe (paper Section 5 trains GPT-2 with AdamW): gradient
clipping by global norm, then AdamW with a learning rate that rises linearly from 0 over
``warmup_steps`` and decays by a cosine to ``min_lr_ratio * lr`` at ``steps``; weight decay
applies to matrices only (not to biases or layer-norm scales).
"""

from __future__ import annotations

import dataclasses
import math

import jax
import numpy as np
import optax

__all__ = ["TrainConfig", "make_optimizer"]


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
