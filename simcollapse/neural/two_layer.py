"""A two-layer ReLU network (flax.nnx) trained with Optax on real + synthetic targets.

Model: f(x) = b2 + A relu(W x + b1), W in R^{m x d}, A in R^{k x m} (``TwoLayerNet``, flax.nnx
Linear layers, kernels N(0, 1/fan_in), biases 0). Loss: squared error summed over the k outputs,
mean over the batch, the paper's regression loss (Strong Model Collapse, Dohmatob et al., ICLR 2025,
its two-layer networks on MNIST). Optimiser: ``optax.adamw`` with a cosine-decay learning-rate
schedule over all steps and decoupled weight decay.

Several runs (seeds, synthetic fractions) train at once: the nnx module is split into a static
graph and a parameter pytree (``nnx.split``), and a pure training function of (key, x, y) is
``jax.vmap``-ed over runs and jitted; ``lax.scan`` runs the epochs and the minibatches. Early
stopping on a held-out real split keeps, per run, the parameters of the epoch with the lowest
validation loss (selected with ``jnp.where``, no Python branch on traced values); without a
validation split all epochs run and the last parameters are kept.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from simcollapse._validate import check_range

__all__ = ["TwoLayerConfig", "TwoLayerFit", "TwoLayerNet", "train_two_layer"]


def fan_in_normal(key: jax.Array, shape: tuple[int, ...], dtype=jnp.float32) -> jax.Array:
    """Kernel init N(0, 1/fan_in) (LeCun normal, untruncated), shape (fan_in, fan_out).

    Drawn as a flat vector and reshaped: XLA on CPU compiles a 2-D draw with a small trailing
    dimension (e.g. (16, 10)) many times slower, and this init sits inside every training jit.
    """
    flat = jax.random.normal(key, (int(np.prod(shape)),), dtype)
    return flat.reshape(shape) / jnp.sqrt(jnp.asarray(shape[0], dtype))


class TwoLayerNet(nnx.Module):
    """f(x) = out(relu(hidden(x))): a width-``width`` two-layer ReLU network.

    Kernels start N(0, 1/fan_in) (``fan_in_normal``), biases at zero.

    Example:
      >>> import jax.numpy as jnp
      >>> from flax import nnx
      >>> net = TwoLayerNet(5, 8, 3, rngs=nnx.Rngs(0))
      >>> net(jnp.ones((4, 5))).shape
      (4, 3)
    """

    def __init__(self, d: int, width: int, k: int, *, rngs: nnx.Rngs) -> None:
        self.hidden = nnx.Linear(d, width, kernel_init=fan_in_normal, rngs=rngs)
        self.out = nnx.Linear(width, k, kernel_init=fan_in_normal, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.out(jax.nn.relu(self.hidden(x)))


@dataclasses.dataclass(frozen=True)
class TwoLayerConfig:
    """Hyper-parameters of ``train_two_layer`` (hashable: it is a static argument of the jit).

    Attributes:
      width: hidden width m, >= 1.
      epochs: passes over the training set, >= 1.
      lr: peak learning rate of the cosine schedule, > 0.
      weight_decay: AdamW decoupled weight decay, >= 0.
      batch_size: minibatch size, or None for full-batch gradient steps (one step per epoch).

    Example:
      >>> cfg = TwoLayerConfig(width=64)
      >>> cfg.epochs, cfg.batch_size, hash(cfg) == hash(TwoLayerConfig(width=64))
      (200, None, True)
    """

    width: int
    epochs: int = 200
    lr: float = 3e-3
    weight_decay: float = 1e-4
    batch_size: int | None = None

    def validate(self, n: int) -> None:
        check_range("width", self.width, 1, integer=True)
        check_range("epochs", self.epochs, 1, integer=True)
        check_range("lr", self.lr, 0.0, low_open=True)
        check_range("weight_decay", self.weight_decay, 0.0)
        if self.batch_size is not None:
            check_range("batch_size", self.batch_size, 1, n, integer=True)


@dataclasses.dataclass(frozen=True, eq=False)
class TwoLayerFit:
    """Trained networks, one per run, stacked on a leading axis.

    Attributes:
      graphdef: the static nnx graph of ``TwoLayerNet``.
      params: the parameter state, every leaf with a leading run axis R.
      train_loss: (R, epochs) mean training loss of each epoch.
      val_loss: (R, epochs) validation loss after each epoch (NaN without a validation split).
      best_epoch: (R,) epoch whose parameters were kept.

    Example:
      >>> import jax, numpy as np
      >>> rng = np.random.default_rng(0)
      >>> x, y = rng.standard_normal((32, 5)), rng.standard_normal((32, 3))
      >>> keys = jax.random.split(jax.random.key(0), 2)
      >>> fit = train_two_layer(keys, x, y, TwoLayerConfig(width=8, epochs=3))
      >>> fit.train_loss.shape, fit.best_epoch.tolist(), fit.predict(x[:4]).shape
      ((2, 3), [2, 2], (2, 4, 3))
    """

    graphdef: nnx.GraphDef
    params: nnx.State
    train_loss: np.ndarray
    val_loss: np.ndarray
    best_epoch: np.ndarray

    def predict(self, x) -> jax.Array:
        """Outputs of every run: (R, N, k) for x of shape (N, d), or (R, N, d) per run."""
        return _predict(self.graphdef, self.params, jnp.asarray(x, jnp.float32))

    def model(self, run: int = 0) -> TwoLayerNet:
        """The nnx module of one run (for inspection or further training)."""
        return nnx.merge(self.graphdef, jax.tree.map(lambda a: a[run], self.params))


@functools.partial(jax.jit, static_argnums=0)
def _predict(graphdef, params, x):
    in_x = 0 if x.ndim == 3 else None
    return jax.vmap(lambda p, xx: nnx.merge(graphdef, p)(xx), in_axes=(0, in_x))(params, x)


def _mse(pred, y):
    return jnp.mean(jnp.sum((pred - y) ** 2, axis=-1))


@functools.partial(jax.jit, static_argnames=("cfg", "d", "k", "has_val"))
def _train(keys, x, y, x_val, y_val, *, cfg: TwoLayerConfig, d: int, k: int, has_val: bool):
    graphdef, _ = nnx.split(nnx.eval_shape(lambda: TwoLayerNet(d, cfg.width, k, rngs=nnx.Rngs(0))))
    n = y.shape[1]
    bs = n if cfg.batch_size is None else cfg.batch_size
    steps = n // bs
    tx = optax.adamw(
        optax.cosine_decay_schedule(cfg.lr, cfg.epochs * steps), weight_decay=cfg.weight_decay
    )

    def one_run(key, xr, yr, xv, yv):
        init_key, data_key = jax.random.split(key)
        params = nnx.split(TwoLayerNet(d, cfg.width, k, rngs=nnx.Rngs(params=init_key)))[1]
        opt_state = tx.init(params)

        def loss_fn(p, xb, yb):
            return _mse(nnx.merge(graphdef, p)(xb), yb)

        def step(carry, idx):
            p, o = carry
            if cfg.batch_size is None:  # static: full batch, no gather
                xb, yb = xr, yr
            else:
                xb, yb = xr[idx], yr[idx]
            loss, grads = jax.value_and_grad(loss_fn)(p, xb, yb)
            updates, o = tx.update(grads, o, p)
            return (optax.apply_updates(p, updates), o), loss

        def epoch(carry, ekey):
            p, o, best_p, best_v, best_e, e = carry
            if cfg.batch_size is None:  # static: one full-batch step, no shuffle to compile
                order = jnp.zeros((1, 1), jnp.int32)
            else:
                order = jax.random.permutation(ekey, n)[: steps * bs].reshape(steps, bs)
            (p, o), losses = jax.lax.scan(step, (p, o), order)
            v = loss_fn(p, xv, yv) if has_val else jnp.asarray(jnp.nan, losses.dtype)
            better = (v < best_v) if has_val else jnp.asarray(True)
            best_p = jax.tree.map(lambda a, b: jnp.where(better, a, b), p, best_p)
            best_v = jnp.where(better, v, best_v)
            best_e = jnp.where(better, e, best_e)
            return (p, o, best_p, best_v, best_e, e + 1), (losses.mean(), v)

        init = (
            params,
            opt_state,
            params,
            jnp.asarray(jnp.inf, jnp.float32),
            jnp.asarray(0),
            jnp.asarray(0),
        )
        ekeys = jax.random.split(data_key, cfg.epochs)
        (_, _, best_p, _, best_e, _), (tl, vl) = jax.lax.scan(epoch, init, ekeys)
        return best_p, tl, vl, best_e

    in_x = 0 if x.ndim == 3 else None
    in_v = 0 if x_val.ndim == 3 else None
    return jax.vmap(one_run, in_axes=(0, in_x, 0, in_v, 0 if y_val.ndim == 3 else None))(
        keys, x, y, x_val, y_val
    ), graphdef


def _checked_training_data(keys, x, y) -> tuple[jax.Array, jax.Array, jax.Array]:
    """keys (R,), x (n, d) or (R, n, d) and y (R, n, k) as float32, y broadcast over the runs."""
    keys = jnp.asarray(keys)
    if keys.ndim != 1:
        raise ValueError(f"keys must be a 1-D array of PRNG keys (one per run), got {keys.shape}")
    r = keys.shape[0]
    x = jnp.asarray(x, jnp.float32)
    y = jnp.asarray(y, jnp.float32)
    if y.ndim == 2:
        y = jnp.broadcast_to(y, (r,) + y.shape)
    if x.ndim not in (2, 3) or y.ndim != 3 or y.shape[0] != r or x.shape[-2] != y.shape[1]:
        raise ValueError(
            f"x must be (n, d) or (R, n, d) and y (R, n, k) with R = {r} keys; "
            f"got x {x.shape}, y {y.shape}"
        )
    if x.ndim == 3 and x.shape[0] != r:
        raise ValueError(f"x has {x.shape[0]} runs but there are {r} keys")
    return keys, x, y


def _checked_validation_data(x_val, y_val, d: int, k: int) -> tuple[jax.Array, jax.Array, bool]:
    """The held-out split as float32 and whether there is one (else a (1, d) / (1, k) dummy)."""
    if (x_val is None) != (y_val is None):
        raise ValueError("give both x_val and y_val, or neither")
    if x_val is None:
        return jnp.zeros((1, d), jnp.float32), jnp.zeros((1, k), jnp.float32), False
    x_val = jnp.asarray(x_val, jnp.float32)
    y_val = jnp.asarray(y_val, jnp.float32)
    if x_val.shape[-1] != d or y_val.shape[-1] != k or x_val.shape[-2] != y_val.shape[-2]:
        raise ValueError(
            f"x_val must be (n_val, {d}) and y_val (n_val, {k}); got {x_val.shape}, {y_val.shape}"
        )
    return x_val, y_val, True


def train_two_layer(
    keys: jax.Array,
    x,
    y,
    cfg: TwoLayerConfig,
    *,
    x_val=None,
    y_val=None,
) -> TwoLayerFit:
    """Train R two-layer networks at once (vmapped), one per key.

    Args:
      keys: (R,) PRNG keys (``jax.random.split(jax.random.key(seed), R)``); each run's key sets its
        initialisation and its minibatch order.
      x: (n, d) inputs shared by every run, or (R, n, d) one set per run.
      y: (R, n, k) targets per run (e.g. the same images with different synthetic fractions), or
        (n, k) shared.
      cfg: hyper-parameters (``TwoLayerConfig``).
      x_val, y_val: optional held-out real split ((n_val, d) / (n_val, k), or with a leading R) for
        early stopping: each run keeps the parameters of its best validation epoch.

    Returns:
      A ``TwoLayerFit`` (parameters of every run, loss curves, the epoch kept).

    Raises:
      ValueError: hyper-parameters out of range (``TwoLayerConfig.validate``), inconsistent shapes,
        only one of x_val / y_val given.

    Example:
      >>> import numpy as np
      >>> rng = np.random.default_rng(0)
      >>> x, y = rng.standard_normal((32, 5)), rng.standard_normal((32, 3))
      >>> keys = jax.random.split(jax.random.key(0), 3)  # three runs, trained together
      >>> fit = train_two_layer(keys, x, y, TwoLayerConfig(width=16, epochs=20, lr=1e-2))
      >>> fit.predict(x).shape, bool((fit.train_loss[:, -1] < fit.train_loss[:, 0]).all())
      ((3, 32, 3), True)
    """
    keys, x, y = _checked_training_data(keys, x, y)
    n, d, k = y.shape[1], x.shape[-1], y.shape[-1]
    cfg.validate(n)
    x_val, y_val, has_val = _checked_validation_data(x_val, y_val, d, k)
    (params, tl, vl, be), graphdef = _train(
        keys, x, y, x_val, y_val, cfg=cfg, d=d, k=k, has_val=has_val
    )
    return TwoLayerFit(
        graphdef=graphdef,
        params=params,
        train_loss=np.asarray(tl),
        val_loss=np.asarray(vl),
        best_epoch=np.asarray(be),
    )
