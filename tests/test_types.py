"""Values are type-checked where they enter, and equal settings hash equally."""

from __future__ import annotations

import numpy as np
import pytest

import simcollapse as sc
from simcollapse._validate import check_count, check_real
from simcollapse.sweep import Sweep

TOML = "[problem]\nd = 300\nc2 = 0.5\n[run]\nreps = 32\n[axes]\nn = [100, 200]\np2 = [0.1]\n"


@pytest.mark.parametrize(
    "old, new", [("c2 = 0.5", "c2 = 0.50"), ("d = 300", "d = 300.0"), ("reps = 32", "reps = 32.0")]
)
def test_equal_settings_hash_equally(old: str, new: str) -> None:
    assert Sweep.from_toml_text(TOML.replace(old, new)).hash == Sweep.from_toml_text(TOML).hash


def test_sweep_normalises_numpy_scalars() -> None:
    a = Sweep(d=np.int64(50), c2=np.float32(0.25), reps=np.int32(4), axes={"n": [100]})
    b = Sweep(d=50, c2=0.25, reps=4, axes={"n": [100]})
    assert a.hash == b.hash and type(a.d) is int and type(a.c2) is float


@pytest.mark.parametrize("value", [3, np.int64(3), 3.0, np.array(3)])
def test_counts_accept_integers(value) -> None:
    assert check_count("reps", value) == 3


@pytest.mark.parametrize("value", [True, "3", 3.5, [3], None, 3 + 0j])
def test_counts_refuse_the_rest(value) -> None:
    with pytest.raises(ValueError, match=r"reps must (be an integer|hold integers)"):
        check_count("reps", value)


@pytest.mark.parametrize("value", [False, "0.5", [0.5], None])
def test_reals_refuse_non_numbers(value) -> None:
    with pytest.raises(ValueError, match="c2 must be a real number"):
        check_real("c2", value, 0.0)


def test_theory_accepts_numpy_and_jax_numbers() -> None:
    import jax.numpy as jnp

    prob = sc.Problem.power_law(20)
    a = sc.theory.ridge_error(prob, np.int32(100), np.float32(0.1), jnp.asarray(0.2))
    b = sc.theory.ridge_error(prob, 100, 0.1, 0.2)
    np.testing.assert_allclose(a.total, b.total, rtol=1e-6)
