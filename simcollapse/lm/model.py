"""A decoder-only transformer (GPT) in flax.nnx, with a key/value cache for generation.

The architecture of GPT-2 (Radford et al. 2019), which the paper trains in Section 5: token
embedding, ``layers`` pre-norm blocks ``x + attn(ln(x))``, ``x + mlp(ln(x))`` with causal
multi-head self-attention and a GELU MLP of width ``mlp_ratio * width``, a final layer norm and
an output layer tied to the token embedding. Positions are learned (GPT-2) or rotary (RoPE, Su
et al. 2021). Dropout (rate ``dropout``) is applied to the embeddings, to each residual branch
and to the attention probabilities during training when a dropout key is given.

The forward pass takes an ``offset`` and an optional cache so that the same code trains on whole
rows and generates one token at a time (``sample.py``).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import jax
import jax.numpy as jnp
from flax import nnx

__all__ = ["SIZES", "GPT", "GPTConfig", "KVCache", "count_params", "token_nll"]

Positions = Literal["learned", "rope"]


@dataclasses.dataclass(frozen=True)
class GPTConfig:
    """Shape of a GPT.

    Attributes:
      vocab_size: number of token ids (>= 2).
      layers: number of transformer blocks (>= 1).
      width: residual width (a multiple of ``heads``; even head size for rotary positions).
      heads: attention heads (>= 1).
      context: the longest sequence the model reads (>= 1).
      dropout: dropout rate in [0, 1).
      positions: "learned" (GPT-2) or "rope" (rotary).
      mlp_ratio: MLP hidden width / ``width`` (>= 1).
      bf16: compute in bfloat16 (parameters and loss stay float32); meant for accelerators.

    Example:
      >>> cfg = GPTConfig(vocab_size=258, layers=2, width=32, heads=2, context=64)
      >>> cfg.positions, cfg.width // cfg.heads
      ('rope', 16)
    """

    vocab_size: int
    layers: int
    width: int
    heads: int
    context: int
    dropout: float = 0.0
    positions: Positions = "rope"
    mlp_ratio: int = 4
    bf16: bool = False

    def __post_init__(self) -> None:
        for name in ("vocab_size", "layers", "width", "heads", "context", "mlp_ratio"):
            v = getattr(self, name)
            low = 2 if name == "vocab_size" else 1
            if not isinstance(v, int) or isinstance(v, bool) or v < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {v!r}")
        if self.width % self.heads:
            raise ValueError(
                f"width must be a multiple of heads, got width={self.width}, heads={self.heads}"
            )
        if self.positions not in ("learned", "rope"):
            raise ValueError(f"positions must be 'learned' or 'rope', got {self.positions!r}")
        if self.positions == "rope" and (self.width // self.heads) % 2:
            raise ValueError(
                f"rotary positions need an even head size, got width/heads = "
                f"{self.width}/{self.heads} = {self.width // self.heads}"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")

    @property
    def head_dim(self) -> int:
        return self.width // self.heads


#: Model sizes by (layers, width, heads): from a 2-layer toy to GPT-2 small (12/768/12), and
#: narrow models from 1 to 24 layers.
SIZES: dict[str, tuple[int, int, int]] = {
    "nano": (2, 16, 2),
    "toy": (2, 32, 2),
    "tiny": (2, 64, 4),
    "mini": (4, 128, 4),
    "small": (6, 256, 8),
    "medium": (8, 512, 8),
    "gpt2-small": (12, 768, 12),
    "gpt2-18": (18, 768, 12),
    "gpt2-24": (24, 768, 12),
    # Deep and narrow (nano's width): the paper's 12-, 18- and 24-layer comparison at a width a
    # CPU trains, and shallow ones of the same width for a fast look.
    "narrow-1": (1, 16, 2),
    "narrow-4": (4, 16, 2),
    "narrow-12": (12, 16, 2),
    "narrow-18": (18, 16, 2),
    "narrow-24": (24, 16, 2),
}


@dataclasses.dataclass
class KVCache:
    """Keys and values of every layer, shape (layers, batch, context, heads, head_dim).

    Example:
      >>> import jax.numpy as jnp
      >>> from flax import nnx
      >>> cfg = GPTConfig(vocab_size=258, layers=2, width=32, heads=2, context=16)
      >>> model = GPT(cfg, rngs=nnx.Rngs(0))
      >>> empty = jnp.zeros((cfg.layers, 1, cfg.context, cfg.heads, cfg.width // cfg.heads))
      >>> logits, cache = model(jnp.zeros((1, 4), jnp.int32), cache=KVCache(empty, empty))
      >>> logits.shape, cache.k.shape
      ((1, 4, 258), (2, 1, 16, 2, 16))
    """

    k: jax.Array
    v: jax.Array

    @classmethod
    def zeros(cls, cfg: GPTConfig, batch: int, length: int | None = None) -> KVCache:
        shape = (cfg.layers, batch, length or cfg.context, cfg.heads, cfg.head_dim)
        dtype = jnp.bfloat16 if cfg.bf16 else jnp.float32
        return cls(jnp.zeros(shape, dtype), jnp.zeros(shape, dtype))


jax.tree_util.register_dataclass(KVCache, data_fields=["k", "v"], meta_fields=[])


def _dropout(x: jax.Array, rate: float, key: jax.Array | None) -> jax.Array:
    if key is None or rate == 0.0:
        return x
    keep = jax.random.bernoulli(key, 1.0 - rate, x.shape)
    return jnp.where(keep, x / (1.0 - rate), 0.0).astype(x.dtype)


def _rope(x: jax.Array, positions: jax.Array) -> jax.Array:
    """Rotary embedding of x (batch, T, heads, d) at integer positions (T,)."""
    d = x.shape[-1]
    freqs = 1.0 / (10000.0 ** (jnp.arange(0, d, 2, dtype=jnp.float32) / d))
    angles = positions.astype(jnp.float32)[:, None] * freqs[None, :]  # (T, d/2)
    cos, sin = jnp.cos(angles)[None, :, None, :], jnp.sin(angles)[None, :, None, :]
    x1, x2 = x[..., 0::2].astype(jnp.float32), x[..., 1::2].astype(jnp.float32)
    out = jnp.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], axis=-1)
    return out.reshape(x.shape).astype(x.dtype)


class Block(nnx.Module):
    """One pre-norm transformer block: x + attn(ln1(x)), then x + mlp(ln2(x))."""

    def __init__(self, cfg: GPTConfig, *, rngs: nnx.Rngs) -> None:
        w, dt = cfg.width, (jnp.bfloat16 if cfg.bf16 else None)
        init = nnx.initializers.normal(0.02)
        resid = nnx.initializers.normal(0.02 / math.sqrt(2 * cfg.layers))
        self.cfg = cfg
        self.ln1 = nnx.LayerNorm(w, dtype=dt, rngs=rngs)
        self.qkv = nnx.Linear(w, 3 * w, kernel_init=init, dtype=dt, rngs=rngs)
        self.proj = nnx.Linear(w, w, kernel_init=resid, dtype=dt, rngs=rngs)
        self.ln2 = nnx.LayerNorm(w, dtype=dt, rngs=rngs)
        self.fc = nnx.Linear(w, cfg.mlp_ratio * w, kernel_init=init, dtype=dt, rngs=rngs)
        self.out = nnx.Linear(cfg.mlp_ratio * w, w, kernel_init=resid, dtype=dt, rngs=rngs)

    def __call__(
        self,
        x: jax.Array,
        positions: jax.Array,
        cache: tuple[jax.Array, jax.Array] | None,
        offset: jax.Array | int,
        key: jax.Array | None,
    ) -> tuple[jax.Array, tuple[jax.Array, jax.Array] | None]:
        cfg = self.cfg
        b, t, _ = x.shape
        keys = (None,) * 3 if key is None else tuple(jax.random.split(key, 3))
        q, k, v = jnp.split(self.qkv(self.ln1(x)), 3, axis=-1)
        q, k, v = (a.reshape(b, t, cfg.heads, cfg.head_dim) for a in (q, k, v))
        if cfg.positions == "rope":
            q, k = _rope(q, positions), _rope(k, positions)
        if cache is None:
            k_all, v_all, new_cache = k, v, None
            key_pos = positions
        else:
            k_all = jax.lax.dynamic_update_slice(
                cache[0], k.astype(cache[0].dtype), (0, offset, 0, 0)
            )
            v_all = jax.lax.dynamic_update_slice(
                cache[1], v.astype(cache[1].dtype), (0, offset, 0, 0)
            )
            new_cache = (k_all, v_all)
            key_pos = jnp.arange(k_all.shape[1])
        # (batch, heads) lead every product: batched matrix products with their batch axes
        # first, which XLA's CPU backend runs many times faster than the same contraction over
        # axes in the middle (small head sizes in particular)
        qh, kh, vh = (jnp.swapaxes(a, 1, 2) for a in (q, k_all, v_all))  # (b, heads, T, d)
        scores = jnp.matmul(qh, jnp.swapaxes(kh, 2, 3)).astype(jnp.float32)
        scores = scores / math.sqrt(cfg.head_dim)
        causal = key_pos[None, :] <= positions[:, None]  # (T, S)
        scores = jnp.where(causal[None, None], scores, -1e30)
        probs = _dropout(jax.nn.softmax(scores, axis=-1), cfg.dropout, keys[0]).astype(q.dtype)
        att = jnp.swapaxes(jnp.matmul(probs, vh), 1, 2).reshape(b, t, cfg.width)
        x = x + _dropout(self.proj(att), cfg.dropout, keys[1])
        h = self.out(jax.nn.gelu(self.fc(self.ln2(x))))
        return x + _dropout(h, cfg.dropout, keys[2]), new_cache


class GPT(nnx.Module):
    """Decoder-only transformer; see the module docstring.

    Args:
      cfg: its ``GPTConfig``.
      rngs: parameter initialisation randomness, e.g. ``nnx.Rngs(0)``.

    Example:
      >>> cfg = GPTConfig(vocab_size=258, layers=2, width=32, heads=2, context=64)
      >>> model = GPT(cfg, rngs=nnx.Rngs(0))
      >>> logits, _ = model(jnp.zeros((1, 8), jnp.int32))
      >>> logits.shape
      (1, 8, 258)
    """

    def __init__(self, cfg: GPTConfig, *, rngs: nnx.Rngs) -> None:
        dt = jnp.bfloat16 if cfg.bf16 else None
        self.cfg = cfg
        init = nnx.initializers.normal(0.02)
        self.embed = nnx.Embed(cfg.vocab_size, cfg.width, embedding_init=init, dtype=dt, rngs=rngs)
        if cfg.positions == "learned":
            self.pos = nnx.Embed(cfg.context, cfg.width, embedding_init=init, dtype=dt, rngs=rngs)
        self.blocks = nnx.List([Block(cfg, rngs=rngs) for _ in range(cfg.layers)])
        self.ln_f = nnx.LayerNorm(cfg.width, dtype=dt, rngs=rngs)

    def __call__(
        self,
        tokens: jax.Array,
        *,
        offset: jax.Array | int = 0,
        cache: KVCache | None = None,
        dropout_key: jax.Array | None = None,
    ) -> tuple[jax.Array, KVCache | None]:
        """Next-token logits.

        Args:
          tokens: int array (batch, T) of token ids at positions ``offset .. offset + T - 1``.
          offset: position of the first token (a traced scalar is fine); 0 when training.
          cache: a ``KVCache`` to read earlier keys/values from and write this call's into;
            None: attend only within ``tokens`` (training, scoring).
          dropout_key: a PRNG key to apply dropout with; None: deterministic (evaluation).

        Returns:
          (logits float32 (batch, T, vocab), the updated cache or None).
        """
        cfg = self.cfg
        positions = offset + jnp.arange(tokens.shape[1])
        x = self.embed(tokens)
        if cfg.positions == "learned":
            x = x + self.pos(positions)
        keys = None if dropout_key is None else jax.random.split(dropout_key, cfg.layers + 1)
        x = _dropout(x, cfg.dropout, None if keys is None else keys[-1])
        new_k, new_v = [], []
        for i, block in enumerate(self.blocks):
            layer_cache = None if cache is None else (cache.k[i], cache.v[i])
            x, c = block(x, positions, layer_cache, offset, None if keys is None else keys[i])
            if c is not None:
                new_k.append(c[0])
                new_v.append(c[1])
        logits = self.embed.attend(self.ln_f(x)).astype(jnp.float32)
        out_cache = None if cache is None else KVCache(jnp.stack(new_k), jnp.stack(new_v))
        return logits, out_cache


def count_params(model: nnx.Module) -> int:
    """Number of trainable parameters (tied embedding counted once).

    Example:
      >>> from flax import nnx
      >>> cfg = GPTConfig(vocab_size=258, layers=2, width=32, heads=2, context=64)
      >>> count_params(GPT(cfg, rngs=nnx.Rngs(0)))
      33728
    """
    return int(sum(x.size for x in jax.tree.leaves(nnx.state(model, nnx.Param))))


def token_nll(logits: jax.Array, targets: jax.Array, n_valid: jax.Array) -> tuple[jax.Array, ...]:
    """Summed cross-entropy over the valid targets, and their count.

    Args:
      logits: (batch, T, vocab) float.
      targets: (batch, T) int.
      n_valid: (batch,) int: positions ``< n_valid`` count, later ones are padding.

    Returns:
      (sum of -log p(target) over valid positions, number of valid positions), float32 scalars.
      Their ratio is the token-averaged loss in nats, the quantity bounded below by the
      grammar's ``entropy_per_token``.

    Example:
      >>> import jax.numpy as jnp
      >>> logits = jnp.zeros((1, 3, 4))  # uniform over 4 tokens: log 4 nats each
      >>> total, count = token_nll(logits, jnp.array([[1, 2, 3]]), jnp.array([2]))
      >>> round(float(total / count), 4), int(count)  # log 4 = 1.3863, the last target is padding
      (1.3863, 2)
    """
    logp = jax.nn.log_softmax(logits.astype(jnp.float32), axis=-1)
    nll = -jnp.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]
    mask = jnp.arange(targets.shape[1])[None, :] < n_valid[:, None]
    return jnp.sum(jnp.where(mask, nll, 0.0)), jnp.sum(mask).astype(jnp.float32)
