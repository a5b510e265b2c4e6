"""One spelling for randomness in Python: key= (an int or a jax.random key). The older seed=
keyword gives the same numbers bit for bit, with a DeprecationWarning naming key=."""

from __future__ import annotations

import importlib
import inspect

import jax
import numpy as np
import pandas as pd
import pytest

import simcollapse as sc
from simcollapse._aliases import seed_keyword
from simcollapse.analysis import fit_joint_law, fit_power_law
from simcollapse.figures import FigureContext
from simcollapse.keys import as_key, as_seed
from simcollapse.simulate.verified import verified_limit

OLD = r"'seed=' is the 0\.1 spelling of 'key=' and will be removed; write 'key='"


def test_as_seed_keeps_ints_and_draws_from_keys() -> None:
    assert as_seed(0) == 0 and as_seed(np.int64(12)) == 12
    one = as_seed(jax.random.key(1))
    assert one == as_seed(jax.random.key(1)) and 0 <= one < 2**31
    assert one != as_seed(jax.random.key(2))
    assert as_seed(jax.random.PRNGKey(1)) == one  # a raw uint32[2] key is the same key
    same = jax.random.key_data(as_key(5)) == jax.random.key_data(jax.random.key(5))
    assert bool(same.all())


@pytest.mark.parametrize("bad", [True, 1.5, "0", None, np.zeros(3)])
def test_as_key_and_as_seed_refuse_other_types(bad) -> None:
    with pytest.raises(TypeError, match="key must be an int seed or a jax.random key"):
        as_key(bad)
    with pytest.raises(TypeError, match="key must be an int seed or a jax.random key"):
        as_seed(bad)


def test_seed_keyword_warns_at_the_call_and_refuses_both() -> None:
    @seed_keyword
    def draw(n: int, key=0):
        return n, key

    with pytest.warns(DeprecationWarning, match=OLD) as caught:
        assert draw(1, seed=4) == (1, 4)
    assert caught[0].filename == __file__  # the warning points at the caller's line
    with pytest.raises(TypeError, match="got both key= and seed="):
        draw(1, key=1, seed=1)
    assert list(inspect.signature(draw).parameters) == ["n", "key"]


def _table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = np.tile(np.geomspace(10, 1e4, 12), 3)
    noise = np.exp(0.05 * rng.standard_normal(n.size))
    return pd.DataFrame(
        {"n": n, "total": (0.01 + 2 * n**-0.7) * noise, "seed": np.repeat([0, 1, 2], 12)}
    )


def test_power_law_bootstrap_same_bits_for_seed_key_and_jax_key() -> None:
    table = _table()
    new = fit_power_law(table, bootstrap=40, key=3).fits
    with pytest.warns(DeprecationWarning, match=OLD):
        old = fit_power_law(table, bootstrap=40, seed=3).fits
    pd.testing.assert_frame_equal(old, new, check_exact=True)
    # an int key is jax.random.key(int): the numbers of the older integer seed
    pd.testing.assert_frame_equal(
        fit_power_law(table, bootstrap=40, key=jax.random.key(3)).fits, new, check_exact=True
    )
    assert not fit_power_law(table, bootstrap=40, key=4).fits.equals(new)


def test_joint_law_bootstrap_same_bits_for_seed_and_key() -> None:
    n, m = np.meshgrid(np.geomspace(1e2, 1e5, 8), np.geomspace(10, 1e4, 6))
    table = pd.DataFrame({"n": n.ravel(), "m": m.ravel()})
    noise = np.exp(0.03 * np.random.default_rng(1).standard_normal(len(table)))
    table["total"] = (0.05 + 3.0 * table.n**-0.6 + 2.0 * table.m**-0.35) * noise
    new = fit_joint_law(table, bootstrap=10, key=2).fits
    with pytest.warns(DeprecationWarning, match=OLD):
        old = fit_joint_law(table, bootstrap=10, seed=2).fits
    pd.testing.assert_frame_equal(old, new, check_exact=True)


def test_verified_limit_numpy_draws_from_the_int_key() -> None:
    prob = sc.Problem.isotropic(20, c2=1.0, sigma2=1.0)
    new = verified_limit(prob, 0.5, 0.3, 0.2, draws=64, key=5)
    with pytest.warns(DeprecationWarning, match=OLD):
        assert verified_limit(prob, 0.5, 0.3, 0.2, draws=64, seed=5) == new
    seeded = verified_limit(prob, 0.5, 0.3, 0.2, draws=64, key=as_seed(jax.random.key(5)))
    assert verified_limit(prob, 0.5, 0.3, 0.2, draws=64, key=jax.random.key(5)) == seeded


def test_figure_context_takes_key_and_keeps_the_integer_seed() -> None:
    assert FigureContext(key=6).seed == 6
    with pytest.warns(DeprecationWarning, match=OLD):
        ctx = FigureContext(mode="default", seed=6)
    assert ctx.key == 6 and ctx.seed == 6 and ctx.mode == "default"
    assert FigureContext(key=jax.random.key(6)).seed == as_seed(jax.random.key(6))


def test_language_model_experiments_and_splits() -> None:
    lm = pytest.importorskip("simcollapse.lm")
    with pytest.warns(DeprecationWarning, match=OLD):
        assert lm.default_experiment(seed=3) == lm.default_experiment(key=3)
    assert lm.default_experiment(key=3).seeds == (3, 4, 5)
    assert lm.depth_experiment("default", 2).seeds == (2, 3)  # the key stays positional
    stories = lm.default_grammar().sample(40, key=7)
    with pytest.warns(DeprecationWarning, match=OLD):
        assert lm.default_grammar().sample(40, seed=7) == stories
    rng = np.random.default_rng(7)
    assert lm.default_grammar().sample(40, key=rng) == stories  # a Generator is drawn from
    with pytest.warns(DeprecationWarning, match=OLD):
        assert lm.split_stories(stories, 3, 3, None, seed=1) == lm.split_stories(
            stories, 3, 3, None, key=1
        )


def test_mnist_splits_and_targets() -> None:
    neural = pytest.importorskip("simcollapse.neural")
    split = neural.draw_split(100, 20, 10, key=3, n_val=5)
    perm = np.random.default_rng(3).permutation(100)  # what the integer seed 3 drew
    assert np.array_equal(split.teacher, perm[:10]) and np.array_equal(split.train, perm[15:35])
    assert split.seed == 3
    with pytest.warns(DeprecationWarning, match=OLD):
        old = neural.draw_split(100, 20, 10, seed=3, n_val=5)
    assert np.array_equal(old.train, split.train)
    with pytest.raises(ValueError, match=r"key must hold integers in \[0, inf\)"):
        neural.draw_split(100, 20, 10, key=-1)
    y0, y1 = np.zeros((6, 2)), np.ones((6, 2))
    new = neural.mixed_targets(y0, y1, [0.5], label_noise=0.3, key=9)
    with pytest.warns(DeprecationWarning, match=OLD):
        assert np.array_equal(neural.mixed_targets(y0, y1, [0.5], label_noise=0.3, seed=9), new)


# Public Python names that keep a ``seed`` parameter: integers recorded in files, not draws.
KEEP_SEED = {
    "Sweep",  # the TOML sweep's seed: part of every stored chunk's identity
    "MixedSplit",  # the record of the seed a split was drawn with
    "rf_key",  # the experiment's (seed, width) -> its first layer's key
}


@pytest.mark.parametrize(
    "module",
    [
        "simcollapse",
        "simcollapse.analysis",
        "simcollapse.simulate",
        "simcollapse.figures",
        "simcollapse.sweep",
        "simcollapse.lm",
        "simcollapse.neural",
    ],  # fmt: skip
)
def test_no_public_function_takes_seed(module: str) -> None:
    try:
        mod = importlib.import_module(module)
    except ImportError:
        pytest.skip(f"{module} needs its extra")
    found = []
    for name in getattr(mod, "__all__", []):
        obj = getattr(mod, name)
        if name in KEEP_SEED or not callable(obj):
            continue
        targets = [obj] + [v for k, v in vars(obj).items() if not k.startswith("_")] * isinstance(
            obj, type
        )
        for target in targets:
            try:
                params = inspect.signature(target).parameters
            except (TypeError, ValueError):
                continue
            if "seed" in params:
                found.append(f"{module}.{name}")
    assert not found, f"public callables with a seed= parameter (write key=): {found}"
