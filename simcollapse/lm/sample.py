"""Sampling stories from a trained GPT: temperature, nucleus (top-p), batched and jit-compiled.

Synthetic data of the paper (Section 5) is sampled from a generator at temperature 1 and top-p 1;
both are configurable here. One token is drawn as

    p_T(i) = softmax(logits / T)_i,      T = temperature > 0,
    keep   = the smallest set S of tokens, taken in decreasing p_T, with sum_{i in S} p_T(i) >= p,
    draw   i ~ p_T restricted to S and renormalised,

and T = 0 means the argmax (the limit T -> 0). Generation runs a ``lax.scan`` over positions with
a key/value cache, for a whole batch at once; the generator's own log-probability of each drawn
token (untempered, unfiltered) is returned, for the perplexity quality filter.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from simcollapse.lm.model import GPT, GPTConfig, KVCache

__all__ = ["generate", "sample_logits", "top_p_mask"]


def _check(temperature: float, top_p: float) -> None:
    if not isinstance(temperature, (int, float)) or not 0.0 <= temperature < np.inf:
        raise ValueError(f"temperature must be a finite number >= 0, got {temperature!r}")
    if not isinstance(top_p, (int, float)) or not 0.0 < top_p <= 1.0:
        raise ValueError(f"top_p must be in (0, 1], got {top_p!r}")


def top_p_mask(logits: jax.Array, top_p: float) -> jax.Array:
    """Which tokens nucleus sampling keeps: the smallest set with probability mass >= ``top_p``.

    Tokens are ranked by probability (ties by lower index first); a token is kept when the mass of
    the tokens ranked strictly before it is < ``top_p``, so the top token is always kept and the
    kept set is the shortest prefix of the ranking whose mass reaches ``top_p``.

    Args:
      logits: (..., vocab) float.
      top_p: in (0, 1]; 1 keeps every token with non-zero probability.

    Returns:
      bool array of the shape of ``logits``.

    Raises:
      ValueError: if ``top_p`` is outside (0, 1].

    Example:
      >>> import jax.numpy as jnp
      >>> logits = jnp.log(jnp.array([[0.5, 0.3, 0.2]]))
      >>> top_p_mask(logits, 0.7).tolist(), top_p_mask(logits, 0.9).tolist()
      ([[True, True, False]], [[True, True, True]])
    """
    _check(1.0, top_p)
    probs = jax.nn.softmax(logits.astype(jnp.float32), axis=-1)
    order = jnp.argsort(-probs, axis=-1, stable=True)
    sorted_p = jnp.take_along_axis(probs, order, axis=-1)
    before = jnp.cumsum(sorted_p, axis=-1) - sorted_p
    keep_sorted = before < top_p
    inverse = jnp.argsort(order, axis=-1)
    return jnp.take_along_axis(keep_sorted, inverse, axis=-1)


def sample_logits(
    key: jax.Array, logits: jax.Array, temperature: float = 1.0, top_p: float = 1.0
) -> jax.Array:
    """Draw one token per row of ``logits`` with temperature and top-p (module docstring).

    Args:
      key: a ``jax.random`` key.
      logits: (..., vocab) float.
      temperature: >= 0; 0 returns the argmax (no randomness).
      top_p: in (0, 1].

    Returns:
      int32 token ids of shape ``logits.shape[:-1]``.

    Raises:
      ValueError: if ``temperature`` < 0 or ``top_p`` is outside (0, 1].

    Example:
      >>> import jax, jax.numpy as jnp
      >>> logits = jnp.array([[0.0, 5.0, 0.0], [3.0, 0.0, 0.0]])
      >>> sample_logits(jax.random.key(0), logits, temperature=0.0).tolist()  # greedy: the argmax
      [1, 0]
    """
    _check(temperature, top_p)
    if temperature == 0.0:
        return jnp.argmax(logits, axis=-1).astype(jnp.int32)
    scaled = logits.astype(jnp.float32) / temperature
    if top_p < 1.0:
        scaled = jnp.where(top_p_mask(scaled, top_p), scaled, -jnp.inf)
    return jax.random.categorical(key, scaled, axis=-1).astype(jnp.int32)


@functools.lru_cache(maxsize=16)
def _generator(cfg: GPTConfig, batch: int, length: int, temperature: float, top_p: float, bos: int):
    graphdef, _ = nnx.split(nnx.eval_shape(lambda: GPT(cfg, rngs=nnx.Rngs(0))))

    @jax.jit
    def run(params: Any, key: jax.Array) -> tuple[jax.Array, jax.Array]:
        model = nnx.merge(graphdef, params)

        def body(carry, t):
            token, cache, key = carry
            key, k = jax.random.split(key)
            logits, cache = model(token[:, None], offset=t, cache=cache)
            logits = logits[:, 0]
            nxt = sample_logits(k, logits, temperature, top_p)
            logp = jnp.take_along_axis(jax.nn.log_softmax(logits), nxt[:, None], axis=-1)[:, 0]
            return (nxt, cache, key), (nxt, logp)

        start = jnp.full((batch,), bos, jnp.int32)
        init = (start, KVCache.zeros(cfg, batch, length), key)
        _, (tokens, logps) = jax.lax.scan(body, init, jnp.arange(length))
        return tokens.T, logps.T

    return run


def generate(
    cfg: GPTConfig,
    params: Any,
    key: jax.Array,
    n: int,
    length: int,
    bos_id: int,
    eos_id: int,
    *,
    temperature: float = 1.0,
    top_p: float = 1.0,
    batch_size: int = 256,
) -> tuple[list[list[int]], np.ndarray]:
    """Sample ``n`` stories from a model, each up to its end-of-story token or ``length`` tokens.

    Args:
      cfg: the model's shape.
      params: its parameters.
      key: a ``jax.random`` key (batch ``i`` uses ``fold_in(key, i)``).
      n: number of stories (>= 1).
      length: the most tokens drawn per story, in [1, cfg.context].
      bos_id: the begin-of-story token fed first.
      eos_id: the end-of-story token; a story stops at (and excludes) it.
      temperature: >= 0 (0: greedy).
      top_p: in (0, 1].
      batch_size: stories generated per compiled call (the last call is padded).

    Returns:
      (token lists without BOS/EOS, per-token NLL of each story under the untempered model,
      averaged over its tokens and its EOS if drawn; a float64 array of length ``n``).

    Raises:
      ValueError: on any argument out of range.

    Example:
      >>> import jax
      >>> from flax import nnx
      >>> from simcollapse.lm import GPT, GPTConfig
      >>> cfg = GPTConfig(vocab_size=258, layers=1, width=16, heads=2, context=16)
      >>> params = nnx.state(GPT(cfg, rngs=nnx.Rngs(0)), nnx.Param)
      >>> stories, nll = generate(cfg, params, jax.random.key(0), 3, 8, bos_id=256, eos_id=257)
      >>> len(stories), all(len(s) <= 8 for s in stories), nll.shape
      (3, True, (3,))
    """
    _check(temperature, top_p)
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    if not isinstance(length, (int, np.integer)) or not 1 <= length <= cfg.context:
        raise ValueError(f"length must be an integer in [1, {cfg.context}], got {length!r}")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    batch = min(int(batch_size), int(n))
    run = _generator(cfg, batch, int(length), float(temperature), float(top_p), int(bos_id))
    stories: list[list[int]] = []
    nll = []
    for i in range(-(-n // batch)):
        tokens, logps = jax.device_get(run(params, jax.random.fold_in(key, i)))
        for row, lp in zip(tokens, logps, strict=True):
            hits = np.flatnonzero(row == eos_id)
            end = int(hits[0]) if hits.size else len(row)
            stories.append([int(t) for t in row[:end]])
            counted = lp[: end + 1] if hits.size else lp
            nll.append(float(-np.mean(counted)))
    return stories[:n], np.asarray(nll[:n], dtype=np.float64)
