"""IDX reader/writer and MNIST loading from a folder (files written by the tests themselves)."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from simcollapse.neural.idx import IDXError, read_idx, write_idx
from simcollapse.neural.mnist import (
    BUILTIN_SOURCE,
    DATA_ENV,
    IDX_FILES,
    MNISTFilesError,
    load_builtin,
    load_digits,
    load_idx_folder,
    one_hot,
)


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize(
    "array",
    [
        np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4),
        np.array([-5, 0, 7], dtype=np.int16),
        np.linspace(-1, 1, 6, dtype=np.float32).reshape(3, 2),
        np.array([[1.5, -2.25]], dtype=np.float64),
        np.array([-(2**31), 2**31 - 1], dtype=np.int32),
    ],
)
def test_idx_round_trip(tmp_path, suffix, array):
    path = write_idx(tmp_path / f"a.idx{suffix}", array)
    back = read_idx(path)
    assert back.shape == array.shape
    assert back.dtype == array.dtype
    np.testing.assert_array_equal(back, array)


def test_idx_header_is_big_endian_standard(tmp_path):
    path = write_idx(tmp_path / "labels", np.array([3, 1, 4], dtype=np.uint8))
    raw = path.read_bytes()
    assert raw[:4] == bytes([0, 0, 0x08, 1])
    assert raw[4:8] == (3).to_bytes(4, "big")
    assert raw[8:] == bytes([3, 1, 4])


def test_idx_wrong_magic(tmp_path):
    path = tmp_path / "bad"
    path.write_bytes(bytes([0x12, 0x34, 0x08, 1]) + (2).to_bytes(4, "big") + b"\x01\x02")
    with pytest.raises(IDXError, match="wrong magic number 0x12340801"):
        read_idx(path)
    path.write_bytes(bytes([0, 0, 0x07, 1]) + (2).to_bytes(4, "big") + b"\x01\x02")
    with pytest.raises(IDXError, match="wrong magic"):
        read_idx(path)


@pytest.mark.parametrize("cut", [2, 6, 20, 40])
def test_idx_truncated(tmp_path, cut):
    good = write_idx(tmp_path / "good", np.zeros((3, 4, 4), dtype=np.uint8)).read_bytes()
    path = tmp_path / "short"
    path.write_bytes(good[:cut])
    with pytest.raises(IDXError, match="truncated"):
        read_idx(path)


def test_idx_truncated_gzip_and_trailing_bytes(tmp_path):
    good = write_idx(tmp_path / "good.gz", np.zeros((50, 28, 28), dtype=np.uint8)).read_bytes()
    (tmp_path / "cut.gz").write_bytes(good[: len(good) // 2])
    with pytest.raises(IDXError, match="truncated or corrupt|truncated"):
        read_idx(tmp_path / "cut.gz")
    raw = write_idx(tmp_path / "plain", np.zeros(3, dtype=np.uint8)).read_bytes()
    (tmp_path / "long").write_bytes(raw + b"xx")
    with pytest.raises(IDXError, match="2 unexpected bytes"):
        read_idx(tmp_path / "long")


def test_idx_write_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(ValueError, match="dtype must be one of"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.uint16))


def _write_fake_mnist(folder, n_train=12, n_test=5, gz=False, skip=()):
    rng = np.random.default_rng(0)
    data = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train).astype(np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test).astype(np.uint8),
    }
    folder.mkdir(exist_ok=True)
    for key, stem in IDX_FILES.items():
        if key not in skip:
            write_idx(folder / (stem + (".gz" if gz else "")), data[key])
    return data


@pytest.mark.parametrize("gz", [False, True])
def test_load_idx_folder(tmp_path, gz):
    data = _write_fake_mnist(tmp_path / "mnist", gz=gz)
    digits = load_idx_folder(tmp_path / "mnist")
    assert digits.x_train.shape == (12, 784) and digits.x_test.shape == (5, 784)
    assert digits.source == f"mnist-idx:{tmp_path / 'mnist'}"
    np.testing.assert_array_equal(digits.y_test, data["y_test"])
    # scaled to [0, 1] then centred by the training mean: the train pool has zero mean per pixel
    np.testing.assert_allclose(digits.x_train.mean(0), 0.0, atol=1e-6)
    raw = data["x_test"].reshape(5, -1) / 255.0
    mean = data["x_train"].reshape(12, -1).mean(0) / 255.0
    np.testing.assert_allclose(digits.x_test, raw - mean, atol=1e-6)


def test_load_digits_uses_environment_variable(tmp_path, monkeypatch):
    _write_fake_mnist(tmp_path / "env")
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "env"))
    assert load_digits().source.startswith("mnist-idx:")
    monkeypatch.setenv(DATA_ENV, "")
    assert load_digits().source == BUILTIN_SOURCE


def test_missing_file_names_all_expected_files(tmp_path):
    _write_fake_mnist(tmp_path / "m", skip=("y_test",))
    with pytest.raises(MNISTFilesError) as err:
        load_idx_folder(tmp_path / "m")
    msg = str(err.value)
    assert "lacks t10k-labels-idx1-ubyte" in msg
    for stem in IDX_FILES.values():
        assert stem in msg
    with pytest.raises(MNISTFilesError, match="does not exist.*train-images-idx3-ubyte"):
        load_idx_folder(tmp_path / "nowhere")


def test_malformed_or_inconsistent_files(tmp_path):
    _write_fake_mnist(tmp_path / "m")
    (tmp_path / "m" / "t10k-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03\x00")
    with pytest.raises(MNISTFilesError, match="malformed MNIST file.*t10k-images"):
        load_idx_folder(tmp_path / "m")
    _write_fake_mnist(tmp_path / "m")
    write_idx(tmp_path / "m" / "train-labels-idx1-ubyte", np.zeros(3, dtype=np.uint8))
    with pytest.raises(MNISTFilesError, match="train files disagree"):
        load_idx_folder(tmp_path / "m")


def test_builtin_digits():
    digits = load_builtin()
    assert digits.source == BUILTIN_SOURCE
    assert digits.x_train.shape == (4000, 784) and digits.x_test.shape == (1000, 784)
    assert set(np.unique(digits.y_test)) == set(range(10))
    # fixed seed: the same split every call
    np.testing.assert_array_equal(load_builtin().y_test, digits.y_test)
    with pytest.raises(ValueError, match="n_test must be an integer in \\[1, 4999\\], got 5000"):
        load_builtin(n_test=5000)


def test_one_hot_rejects_bad_labels():
    np.testing.assert_array_equal(one_hot(np.array([2]))[0], np.eye(10)[2])
    with pytest.raises(ValueError, match="labels must lie in \\[0, 9\\]"):
        one_hot(np.array([10]))


def test_gzip_file_is_really_gzipped(tmp_path):
    path = write_idx(tmp_path / "a.gz", np.zeros(4, dtype=np.uint8))
    with gzip.open(path, "rb") as f:
        assert f.read(4) == bytes([0, 0, 8, 1])
