"""The flax.nnx two-layer trainer: real accuracy, vmap = loop, early stopping, bad inputs."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from flax import nnx

from simcollapse.neural.experiments import mse_and_accuracy, two_layer_sweep
from simcollapse.neural.mnist import load_builtin, one_hot
from simcollapse.neural.teacher import draw_split
from simcollapse.neural.two_layer import TwoLayerConfig, TwoLayerNet, train_two_layer


@pytest.fixture(scope="module")
def digits():
    return load_builtin()


def test_reaches_under_ten_percent_test_error_with_real_labels(digits):
    split = draw_split(digits.n_pool, 3000, 1, key=0)  # p2 = 0: all real labels
    x, y = digits.x_train[split.train], one_hot(digits.y_train[split.train])
    cfg = TwoLayerConfig(width=256, epochs=8, lr=3e-3, weight_decay=1e-4, batch_size=50)
    fit = train_two_layer(jax.random.split(jax.random.key(0), 1), x, y, cfg)
    _, acc = mse_and_accuracy(fit.predict(digits.x_test), digits.y_test)
    assert 1 - acc[0] < 0.10, f"test error {1 - acc[0]:.3f}"
    assert fit.train_loss[0, -1] < fit.train_loss[0, 0] / 3  # it trained
    assert isinstance(fit.model(0), TwoLayerNet)
    assert fit.model(0).hidden.kernel.get_value().shape == (784, 256)


_SMALL = TwoLayerConfig(width=16, epochs=30, lr=1e-2, weight_decay=0.0)  # full batch


def test_vmapped_runs_equal_separate_runs(digits):
    x, y = digits.x_train[:300], one_hot(digits.y_train[:300])
    y2 = np.stack([y, y[::-1]])
    keys = jax.random.split(jax.random.key(1), 2)
    together = train_two_layer(keys, x, y2, _SMALL).predict(digits.x_test[:100])
    for r in range(2):
        alone = train_two_layer(keys[r : r + 1], x, y2[r : r + 1], _SMALL).predict(
            digits.x_test[:100]
        )
        np.testing.assert_allclose(together[r], alone[0], atol=1e-4)
    assert not np.allclose(together[0], together[1])


def test_early_stopping_keeps_best_validation_epoch(digits):
    x, y = digits.x_train[:300], one_hot(digits.y_train[:300])
    # validation targets the training cannot fit (labels shifted by one): the validation loss
    # rises as training proceeds, so an early epoch must be kept
    wrong = (digits.y_train[300:500] + 1) % 10
    xv, yv = digits.x_train[300:500], one_hot(wrong)
    keys = jax.random.split(jax.random.key(2), 2)
    fit = train_two_layer(keys, x, y, _SMALL, x_val=xv, y_val=yv)
    np.testing.assert_array_equal(fit.best_epoch, np.argmin(fit.val_loss, axis=1))
    assert (fit.best_epoch < _SMALL.epochs // 2).all()
    assert (fit.val_loss[:, -1] > fit.val_loss.min(axis=1)).all()
    kept, _ = mse_and_accuracy(fit.predict(xv), wrong)
    np.testing.assert_allclose(kept, fit.val_loss.min(axis=1), rtol=1e-4)
    plain = train_two_layer(keys, x, y, _SMALL)
    assert (plain.best_epoch == _SMALL.epochs - 1).all() and np.isnan(plain.val_loss).all()


def test_sweep_table_columns_and_collapse(digits):
    table = two_layer_sweep(digits, 600, [32], [0.0, 0.5], [0, 1], n0=30, epochs=6, batch_size=50)
    assert len(table) == 4
    for col in [
        "model",
        "n",
        "m",
        "p2",
        "seed",
        "test_mse",
        "test_acc",
        "teacher_mse",
        "data_source",
        "n_synthetic",
    ]:
        assert col in table.columns
    assert set(table.n_synthetic) == {0, 300}
    means = table.groupby("p2").test_mse.mean()
    assert means[0.5] > means[0.0]  # half weak-teacher labels hurt


@pytest.mark.parametrize(
    ("cfg", "match"),
    [
        (TwoLayerConfig(width=0), "width must hold integers in \\[1, inf\\); got 0"),
        (TwoLayerConfig(width=4, epochs=0), "epochs must hold integers"),
        (TwoLayerConfig(width=4, lr=-1.0), "lr must hold values in \\(0, inf\\); got -1"),
        (TwoLayerConfig(width=4, batch_size=11), "batch_size must hold integers in \\[1, 10\\]"),
    ],
)
def test_rejects_bad_config(cfg, match):
    with pytest.raises(ValueError, match=match):
        train_two_layer(
            jax.random.split(jax.random.key(0), 1), np.zeros((10, 3)), np.zeros((10, 2)), cfg
        )


def test_rejects_bad_shapes():
    keys = jax.random.split(jax.random.key(0), 2)
    with pytest.raises(ValueError, match="with R = 2 keys"):
        train_two_layer(keys, np.zeros((10, 3)), np.zeros((3, 10, 2)), TwoLayerConfig(4))
    with pytest.raises(ValueError, match="give both x_val and y_val"):
        train_two_layer(
            keys, np.zeros((10, 3)), np.zeros((10, 2)), TwoLayerConfig(4), x_val=np.zeros((5, 3))
        )


def test_two_layer_net_is_an_nnx_module():
    net = TwoLayerNet(5, 7, 3, rngs=nnx.Rngs(0))
    assert net(np.ones((2, 5), np.float32)).shape == (2, 3)
