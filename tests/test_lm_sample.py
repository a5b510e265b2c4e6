"""The sampler on hand-made logits: temperature -> 0 is the argmax, top-p keeps the nucleus."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from simcollapse.lm.sample import sample_logits, top_p_mask

# probabilities exactly representable in float32, in a shuffled order
PROBS = np.array([0.125, 0.5, 0.0625, 0.25, 0.0625])
LOGITS = jnp.log(jnp.asarray(PROBS, jnp.float32))


@pytest.mark.parametrize(
    ("p", "kept"),
    [
        (0.3, {1}),
        (0.5, {1}),  # the top token alone already has mass 0.5 >= p
        (0.6, {1, 3}),
        (0.75, {1, 3}),  # exactly reached by two tokens
        (0.8, {0, 1, 3}),
        (0.875, {0, 1, 3}),
        # 0.5 + 0.25 + 0.125 = 0.875 < 0.9: one of the tied 0.0625 tokens, the lower index
        (0.9, {0, 1, 2, 3}),
        (1.0, {0, 1, 2, 3, 4}),
    ],
)
def test_top_p_keeps_the_smallest_set_with_enough_mass(p, kept):
    mask = np.asarray(top_p_mask(LOGITS, p))
    got = set(np.flatnonzero(mask).tolist())
    assert got == kept
    # smallest: dropping the least likely kept token leaves mass < p
    mass = PROBS[mask].sum()
    assert mass >= p - 1e-7
    assert mass - PROBS[mask].min() < p


def test_top_p_batched_rows_are_independent():
    logits = jnp.stack([LOGITS, LOGITS[::-1]])
    mask = np.asarray(top_p_mask(logits, 0.6))
    assert set(np.flatnonzero(mask[0])) == {1, 3}
    assert set(np.flatnonzero(mask[1])) == {1, 3}  # reversed order: 0.5 at 3, 0.25 at 1


def test_temperature_zero_is_argmax_and_small_temperature_converges():
    logits = jax.random.normal(jax.random.key(0), (64, 50))
    best = np.asarray(jnp.argmax(logits, axis=-1))
    np.testing.assert_array_equal(np.asarray(sample_logits(jax.random.key(1), logits, 0.0)), best)
    for seed in range(5):
        draws = sample_logits(jax.random.key(seed), logits, temperature=1e-4)
        np.testing.assert_array_equal(np.asarray(draws), best)
    # temperature 1 is really random on these logits
    draws = np.asarray(sample_logits(jax.random.key(9), logits, 1.0))
    assert (draws != best).any()


def test_top_p_sampling_draws_only_the_nucleus_with_renormalised_frequencies():
    n = 20000
    logits = jnp.broadcast_to(LOGITS, (n, PROBS.size))
    draws = np.asarray(sample_logits(jax.random.key(2), logits, 1.0, top_p=0.8))
    assert set(np.unique(draws)) <= {0, 1, 3}
    freq = np.bincount(draws, minlength=5)[[1, 3, 0]] / n
    expected = np.array([0.5, 0.25, 0.125]) / 0.875
    se = np.sqrt(expected * (1 - expected) / n)
    np.testing.assert_array_less(np.abs(freq - expected), 4 * se)


@pytest.mark.parametrize(("temperature", "top_p"), [(-1.0, 1.0), (1.0, 0.0), (1.0, 1.5)])
def test_bad_sampling_settings(temperature, top_p):
    with pytest.raises(ValueError, match="temperature|top_p"):
        sample_logits(jax.random.key(0), LOGITS, temperature, top_p)
