"""Synthetic labels on real images: a teacher fitted on n0 real digits, the real/synthetic split.

Setting (Strong Model Collapse, Dohmatob et al., ICLR 2025, Definition 1 and
its MNIST experiments): the training set holds n images; exactly n2 = round(p2 n) of them carry the
teacher's labels, the other n1 = n - n2 their true one-hot labels. The teacher is a ridge
regression fitted on n0 other real images (on pixels, or on random features); the quality of its
labels is its own test error on real data,
  c^2 = E ||f_teacher(x) - y||^2   (squared error summed over the 10 outputs, mean over test),
the analogue of c^2 = tr(Sigma Delta) in docs/theory.md. Optional extra Gaussian noise of standard
deviation ``label_noise`` is added to the teacher's labels (each output independently).

The split draws one permutation of the training pool per seed: the first n0 indices fit the
teacher, the next n_val are a held-out real split (early stopping), the next n are the training
images. So teacher images are never training images of the same run, and a larger n extends a
smaller one (nested designs).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Literal

import jax
import jax.numpy as jnp
import numpy as np

from simcollapse._aliases import seed_keyword
from simcollapse._validate import check_range
from simcollapse.keys import as_seed
from simcollapse.neural.random_features import fit_random_features

__all__ = ["MixedSplit", "Teacher", "draw_split", "fit_teacher", "mixed_targets", "n_synthetic"]

TeacherKind = Literal["pixels", "random_features"]


def n_synthetic(n: int, p2: float) -> int:
    """Number of teacher-labelled images, round(p2 n) (Python's round: half to even).

    Example:
      >>> n_synthetic(10, 0.25), n_synthetic(10, 0.75)  # round(2.5) = 2, round(7.5) = 8
      (2, 8)
    """
    check_range("n", n, 1, integer=True)
    check_range("p2", p2, 0.0, 1.0)
    return int(round(p2 * n))


@dataclasses.dataclass(frozen=True, eq=False)
class MixedSplit:
    """Indices into the training pool for one run.

    Attributes:
      teacher: (n0,) images that fit the teacher.
      val: (n_val,) held-out real images (early stopping); may be empty.
      train: (n,) training images; ``train[:round(p2 n)]`` get teacher labels (``mixed_targets``).
      seed: the integer seed of the permutation (``keys.as_seed`` of the key drawn with).

    Example:
      >>> split = draw_split(n_pool=100, n=20, n0=10, key=0, n_val=5)
      >>> type(split).__name__, len(split.teacher), len(split.val), len(split.train)
      ('MixedSplit', 10, 5, 20)
    """

    teacher: np.ndarray
    val: np.ndarray
    train: np.ndarray
    seed: int


@seed_keyword
def draw_split(n_pool: int, n: int, n0: int, key: Any, n_val: int = 0) -> MixedSplit:
    """Disjoint teacher / validation / training indices from one permutation of the pool.

    Args:
      n_pool: number of images in the training pool.
      n: training-set size, >= 1.
      n0: teacher's training-set size, >= 1.
      key: an int >= 0 or a ``jax.random`` key; the permutation is NumPy's, seeded by
        ``keys.as_seed(key)``.
      n_val: held-out real images, >= 0.

    Raises:
      ValueError: a size out of range, or n0 + n_val + n > n_pool (message gives all four).

    Example:
      >>> import numpy as np
      >>> split = draw_split(n_pool=100, n=20, n0=10, key=0)
      >>> len(np.intersect1d(split.teacher, split.train))  # disjoint
      0
      >>> draw_split(n_pool=100, n=95, n0=10, key=0)  # doctest: +ELLIPSIS
      Traceback (most recent call last):
          ...
      ValueError: n0 + n_val + n must not exceed the pool of 100 images; ...
    """
    check_range("n", n, 1, integer=True)
    check_range("n0", n0, 1, integer=True)
    check_range("n_val", n_val, 0, integer=True)
    seed = as_seed(key)
    check_range("key", seed, 0, integer=True)
    if n0 + n_val + n > n_pool:
        raise ValueError(
            f"n0 + n_val + n must not exceed the pool of {n_pool} images; got n0={n0}, "
            f"n_val={n_val}, n={n} (sum {n0 + n_val + n})"
        )
    perm = np.random.default_rng(seed).permutation(n_pool)
    return MixedSplit(
        teacher=perm[:n0],
        val=perm[n0 : n0 + n_val],
        train=perm[n0 + n_val : n0 + n_val + n],
        seed=seed,
    )


@dataclasses.dataclass(frozen=True, eq=False)
class Teacher:
    """A fitted teacher: ``predict(x)`` gives its (continuous) labels; ``test_mse`` is c^2.

    Example:
      >>> import numpy as np
      >>> x = np.random.default_rng(1).standard_normal((50, 5)).astype(np.float32)
      >>> y = np.eye(2, dtype=np.float32)[(x[:, 0] > 0).astype(int)]  # two one-hot classes
      >>> teacher = fit_teacher(x[:40], y[:40], x[40:], y[40:])
      >>> type(teacher).__name__, teacher.kind, teacher.predict(x[40:]).shape
      ('Teacher', 'pixels', (10, 2))
    """

    kind: str
    n0: int
    lam: float
    weights: jax.Array | None
    rf: object | None
    test_mse: float

    def predict(self, x) -> jax.Array:
        if self.rf is not None:
            return self.rf.predict(x)
        return jnp.asarray(x, self.weights.dtype) @ self.weights


@jax.jit
def _ridge_pixels(x, y, lam):
    # (X'X/n0 + lam I)^{-1} X'Y/n0 written in the dual form when n0 < d: X'(XX'/n0 + lam I)^{-1}Y/n0
    n0, d = x.shape
    if n0 < d:  # static shapes, not traced values
        a = x @ x.T / n0 + lam * jnp.eye(n0, dtype=x.dtype)
        return x.T @ jnp.linalg.solve(a, y) / n0
    a = x.T @ x / n0 + lam * jnp.eye(d, dtype=x.dtype)
    return jnp.linalg.solve(a, x.T @ y / n0)


def fit_teacher(
    x0,
    y0,
    x_test,
    y_test,
    *,
    kind: TeacherKind = "pixels",
    lam: float = 1e-2,
    m: int = 1000,
    key: jax.Array | None = None,
) -> Teacher:
    """Fit the teacher by ridge on n0 real images and measure c^2 on the real test set.

    Args:
      x0: (n0, d) the teacher's real images. y0: (n0, k) their one-hot targets.
      x_test, y_test: real test images and one-hot targets (for c^2).
      kind: "pixels" (linear ridge on pixels) or "random_features" (ridge on relu(Wx), width m).
      lam: ridge penalty (> 0).
      m: width for kind="random_features".
      key: PRNG key for kind="random_features" (default key(0)).

    Returns:
      A ``Teacher``; ``test_mse`` = c^2, its squared error summed over outputs, mean over test.

    Raises:
      ValueError: unknown kind, lam <= 0, mismatched shapes.

    Example:
      >>> import numpy as np
      >>> rng = np.random.default_rng(0)
      >>> x = rng.standard_normal((50, 5)).astype(np.float32)
      >>> y = x @ rng.standard_normal((5, 2)).astype(np.float32)
      >>> teacher = fit_teacher(x[:40], y[:40], x[40:], y[40:], lam=1e-3)
      >>> teacher.test_mse < 1e-3  # a linear target: the pixel teacher is almost exact (c^2 ~ 0)
      True
    """
    check_range("lam", lam, 0.0, low_open=True)
    if kind not in ("pixels", "random_features"):
        raise ValueError(f"kind must be 'pixels' or 'random_features', got {kind!r}")
    x0 = jnp.asarray(x0, jnp.float32)
    y0 = jnp.asarray(y0, jnp.float32)
    if x0.ndim != 2 or y0.ndim != 2 or x0.shape[0] != y0.shape[0]:
        raise ValueError(f"x0 must be (n0, d) and y0 (n0, k); got {x0.shape} and {y0.shape}")
    if kind == "pixels":
        weights, rf = _ridge_pixels(x0, y0, jnp.float32(lam)), None
        pred = jnp.asarray(x_test, jnp.float32) @ weights
    else:
        key = jax.random.key(0) if key is None else key
        weights, rf = None, fit_random_features(key, x0, y0, m, lam)
        pred = rf.predict(x_test)
    c2 = float(jnp.mean(jnp.sum((pred - jnp.asarray(y_test)) ** 2, axis=1)))
    return Teacher(
        kind=kind, n0=int(x0.shape[0]), lam=float(lam), weights=weights, rf=rf, test_mse=c2
    )


@seed_keyword
def mixed_targets(
    y_real: np.ndarray,
    y_teacher: np.ndarray,
    p2s,
    *,
    label_noise: float = 0.0,
    key: Any = 0,
) -> np.ndarray:
    """Training targets for several synthetic fractions on the same images.

    Row i gets the teacher's label (plus N(0, label_noise^2) noise) when i < round(p2 n), else its
    real one-hot label. The images are in random order already (``draw_split``), so the first rows
    are a uniform random subset.

    Args:
      y_real: (n, k) real one-hot targets of the training images.
      y_teacher: (n, k) the teacher's labels of the same images.
      p2s: synthetic fractions, each in [0, 1].
      label_noise: standard deviation of extra noise on teacher labels, >= 0.
      key: that noise's randomness, an int or a ``jax.random`` key (NumPy draws, seeded by
        ``[keys.as_seed(key), 7]``).

    Returns:
      (len(p2s), n, k) float32 targets.

    Raises:
      ValueError: p2 outside [0, 1], label_noise < 0, shapes that differ.

    Example:
      >>> import numpy as np
      >>> y_real, y_teacher = np.zeros((4, 2)), np.ones((4, 2))
      >>> targets = mixed_targets(y_real, y_teacher, [0.0, 0.5])
      >>> targets.shape, targets[1, :, 0].tolist()  # the first round(p2 n) rows from the teacher
      ((2, 4, 2), [1.0, 1.0, 0.0, 0.0])
    """
    p2s = np.atleast_1d(np.asarray(p2s, dtype=np.float64))
    check_range("p2", p2s, 0.0, 1.0)
    check_range("label_noise", label_noise, 0.0)
    y_real = np.asarray(y_real, np.float32)
    y_teacher = np.asarray(y_teacher, np.float32)
    if y_real.shape != y_teacher.shape or y_real.ndim != 2:
        raise ValueError(
            f"y_real and y_teacher must be (n, k) of one shape, "
            f"got {y_real.shape}, {y_teacher.shape}"
        )
    n = y_real.shape[0]
    if label_noise > 0:
        rng = np.random.default_rng([as_seed(key), 7])
        y_teacher = y_teacher + label_noise * rng.standard_normal(y_teacher.shape, np.float32)
    out = np.empty((len(p2s),) + y_real.shape, np.float32)
    rows = np.arange(n)[:, None]
    for i, p2 in enumerate(p2s):
        out[i] = np.where(rows < n_synthetic(n, float(p2)), y_teacher, y_real)
    return out
