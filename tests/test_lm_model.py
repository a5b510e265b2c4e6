"""The GPT: shapes, validation, parameter count, causal masking, cached decoding."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from simcollapse.lm.model import GPT, SIZES, GPTConfig, KVCache, count_params, token_nll


def _jitted(model: GPT):
    """The model's forward pass compiled once (eager flax dispatches op by op: slow)."""
    graphdef, params = nnx.split(model)

    @jax.jit
    def forward(params, tokens, offset=0, cache=None, dropout_key=None):
        m = nnx.merge(graphdef, params)
        return m(tokens, offset=offset, cache=cache, dropout_key=dropout_key)

    return lambda *a, **k: forward(params, *a, **k)


def _abstract_params(cfg: GPTConfig) -> int:
    model = nnx.eval_shape(lambda: GPT(cfg, rngs=nnx.Rngs(0)))
    return int(sum(np.prod(x.shape) for x in jax.tree.leaves(nnx.state(model, nnx.Param))))


def test_gpt2_small_has_gpt2_small_parameter_count():
    layers, width, heads = SIZES["gpt2-small"]
    cfg = GPTConfig(50257, layers, width, heads, context=1024, positions="learned")
    assert _abstract_params(cfg) == 124_439_808  # GPT-2 small (Radford et al. 2019)


@pytest.mark.parametrize("positions", ["rope", "learned"])
def test_cached_decoding_equals_full_forward(positions):
    cfg = GPTConfig(vocab_size=40, layers=2, width=16, heads=2, context=12, positions=positions)
    model = _jitted(GPT(cfg, rngs=nnx.Rngs(0)))
    tokens = jax.random.randint(jax.random.key(1), (3, 9), 0, 40)
    full, cache_out = model(tokens)
    assert full.shape == (3, 9, 40) and cache_out is None
    cache = KVCache.zeros(cfg, 3)
    steps = []
    for t in range(9):
        logits, cache = model(tokens[:, t : t + 1], offset=t, cache=cache)
        steps.append(logits)
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-5)


def test_causal_future_tokens_do_not_change_the_past():
    cfg = GPTConfig(vocab_size=40, layers=2, width=16, heads=2, context=12)
    model = _jitted(GPT(cfg, rngs=nnx.Rngs(0)))
    a = jnp.arange(10)[None] % 40
    b = a.at[0, 6:].set(7)
    la, _ = model(a)
    lb, _ = model(b)
    np.testing.assert_allclose(la[0, :6], lb[0, :6], atol=1e-6)
    assert not np.allclose(la[0, 6:], lb[0, 6:])


def test_dropout_only_with_a_key():
    cfg = GPTConfig(vocab_size=40, layers=1, width=16, heads=2, context=8, dropout=0.5)
    model = _jitted(GPT(cfg, rngs=nnx.Rngs(0)))
    x = jnp.arange(8)[None]
    np.testing.assert_array_equal(model(x)[0], model(x)[0])
    assert not np.allclose(model(x, dropout_key=jax.random.key(0))[0], model(x)[0])


def test_token_nll_masks_padding():
    logits = jnp.zeros((2, 3, 4))  # uniform: log 4 per token
    targets = jnp.zeros((2, 3), jnp.int32)
    total, count = token_nll(logits, targets, jnp.array([3, 1]))
    assert float(count) == 4
    assert float(total) == pytest.approx(4 * np.log(4), rel=1e-6)


def test_count_params_of_a_real_model():
    cfg = GPTConfig(vocab_size=40, layers=1, width=16, heads=2, context=8, positions="learned")
    assert count_params(GPT(cfg, rngs=nnx.Rngs(0))) == _abstract_params(cfg)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"width": 30, "heads": 4}, "multiple of heads"),
        ({"width": 6, "heads": 2}, "even head size"),
        ({"layers": 0}, "layers"),
        ({"context": 0}, "context"),
        ({"dropout": 1.0}, "dropout"),
        ({"positions": "alibi"}, "positions"),
    ],
)
def test_bad_config(kwargs, match):
    base = {"vocab_size": 40, "layers": 2, "width": 16, "heads": 2, "context": 8}
    with pytest.raises(ValueError, match=match):
        GPTConfig(**{**base, **kwargs})
