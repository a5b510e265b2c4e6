"""The simulation engine's batching and generator options do not change what it computes."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import simcollapse as sc
from simcollapse.simulate import engine

PROB = sc.Problem.power_law(24, alpha=1.5, source=1.2, c2=0.5, sigma2=0.5)
LAM = jnp.asarray(np.repeat(np.geomspace(1e-3, 1.0, 3), 3))
N2 = jnp.asarray(engine.synthetic_rows(96, np.tile([0.0, 0.3, 1.0], 3)))


def run(**kw: object) -> np.ndarray:
    with jax.enable_x64(True):
        out = engine.draws(
            PROB, jax.random.key(5), LAM, N2, n=96, m=None, reps=4, dtype=np.float64, **kw
        )
        return np.asarray(out)


def test_result_does_not_depend_on_batch() -> None:
    # vmapped and sequential draws round differently: equal to rounding, not bitwise
    np.testing.assert_allclose(run(batch=1), run(), rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(run(batch=3), run(batch=4), rtol=1e-10, atol=1e-15)


def test_default_batch_follows_the_memory_budget() -> None:
    per_draw = 8 * (1000 * 100 + 3 * 1000 * 100 + 2 * 100 * 100 + 8 * 16 * 100)
    assert engine.default_batch(1000, 100, 100, 16, 64, 8, budget=10 * per_draw) == 10
    assert engine.default_batch(1000, 100, 100, 16, 4, 8, budget=10 * per_draw) == 4
    assert engine.default_batch(1000, 100, 100, 16, 64, 8, budget=1) == 1
    assert 1 <= engine.default_batch(1000, 100, 100, 16, 64, 8) <= 64


def test_rbg_generator_is_deterministic_and_optional() -> None:
    a, b = run(prng="rbg"), run(prng="rbg")
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, run())
    with pytest.raises(ValueError, match="prng"):
        run(prng="philox")
