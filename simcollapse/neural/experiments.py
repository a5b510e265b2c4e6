"""Sweeps over n, m and p2 on MNIST, cached point by point in the result store, as tidy tables.

Each sweep returns one row per (model, n, m, p2, seed) with the columns
  model, n, m, p2, n_synthetic, seed, test_mse, test_acc, teacher_mse (= c^2 of the teacher's
  labels), n0, teacher, lam / epochs ..., data_source, fit_seconds (seconds of the whole group),
where test_mse = mean over the real test set of ||f(x) - onehot(y)||^2 (summed over the 10
outputs) and test_acc the classification accuracy of argmax f(x). This is the MNIST experiment of
Strong Model Collapse (Dohmatob et al., ICLR 2025, arXiv 2410.04840): collapse shows as a floor in
test_mse against n for p2 > 0, and as a dependence on the width m.

Work is grouped so that one factorisation or one compiled training serves many points:
  random features: one group per (seed, n, m), all p2 at once (ridge is linear in the labels, and
    the images are the same for every p2: only which rows carry teacher labels changes); the
    dual-form groups (m > n) of one (seed, m) share one kernel, that of the largest n, whose
    leading blocks are the smaller ones (the training images of each n are nested);
  two-layer nets: one group per width m, every (seed, p2) run vmapped in one training.
Each group is one ``ResultStore`` entry, so an interrupted sweep resumes where it stopped.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from simcollapse._validate import check_range
from simcollapse.neural.mnist import Digits, one_hot
from simcollapse.neural.random_features import fit_random_features, fit_random_features_nested
from simcollapse.neural.teacher import (
    Teacher,
    draw_split,
    fit_teacher,
    mixed_targets,
    n_synthetic,
)
from simcollapse.neural.two_layer import TwoLayerConfig, train_two_layer
from simcollapse.store import ResultStore, cached_run, experiment_key

__all__ = ["random_feature_sweep", "two_layer_sweep", "mse_and_accuracy"]

_VERSION = 1  # bump when a change alters the numbers, so stale cached points are not reused


def mse_and_accuracy(pred, labels) -> tuple[np.ndarray, np.ndarray]:
    """(test_mse, test_acc) over the last two axes of ``pred`` (..., N, k) vs int labels (N,).

    Example:
      >>> import numpy as np
      >>> from simcollapse.neural import one_hot
      >>> labels = np.array([0, 1, 2, 1])
      >>> pred = one_hot(labels, 3)
      >>> pred[3] = [0.0, 0.2, 0.8]
      >>> mse, acc = mse_and_accuracy(pred, labels)
      >>> round(float(mse), 4), float(acc)  # mean over images of ||pred - y||^2; argmax accuracy
      (0.32, 0.75)
    """
    pred = jnp.asarray(pred)
    target = jnp.asarray(one_hot(np.asarray(labels), pred.shape[-1]))
    mse = jnp.mean(jnp.sum((pred - target) ** 2, axis=-1), axis=-1)
    acc = jnp.mean(jnp.argmax(pred, axis=-1) == jnp.asarray(labels), axis=-1)
    return np.asarray(mse), np.asarray(acc)


def _ints(name: str, values: Sequence[int], low: int) -> list[int]:
    values = [int(v) for v in np.atleast_1d(values)]
    if not values:
        raise ValueError(f"{name} must not be empty")
    check_range(name, values, low, integer=True)
    return values


def _floats01(name: str, values: Sequence[float]) -> list[float]:
    values = [float(v) for v in np.atleast_1d(values)]
    if not values:
        raise ValueError(f"{name} must not be empty")
    check_range(name, values, 0.0, 1.0)
    return values


def _check_teacher_arguments(teacher: str, teacher_lam: float, label_noise: float) -> None:
    check_range("label_noise", label_noise, 0.0)
    check_range("teacher_lam", teacher_lam, 0.0, low_open=True)
    if teacher not in ("pixels", "random_features"):
        raise ValueError(f"teacher must be 'pixels' or 'random_features', got {teacher!r}")


def teacher_for(digits: Digits, split, teacher: str, teacher_lam: float, seed: int) -> Teacher:
    return fit_teacher(
        digits.x_train[split.teacher],
        one_hot(digits.y_train[split.teacher]),
        digits.x_test,
        one_hot(digits.y_test),
        kind=teacher,
        lam=teacher_lam,
        key=jax.random.key(10_000 + seed),
    )


class _Teachers:
    """The teacher of each seed, fitted on first use (a fully cached sweep fits none)."""

    def __init__(self, digits: Digits, splits: dict, teacher: str, teacher_lam: float) -> None:
        self.digits, self.splits = digits, splits
        self.teacher, self.teacher_lam = teacher, teacher_lam
        self._fitted: dict[int, Teacher] = {}

    def __getitem__(self, seed: int) -> Teacher:
        if seed not in self._fitted:
            self._fitted[seed] = teacher_for(
                self.digits, self.splits[seed], self.teacher, self.teacher_lam, seed
            )
        return self._fitted[seed]


def _sweep_config(
    model: str,
    digits: Digits,
    n0: int,
    teacher: str,
    teacher_lam: float,
    label_noise: float,
    p2s: list[float],
) -> dict:
    """The store-key entries both sweeps share (data, teacher and synthetic fractions)."""
    return dict(
        model=model,
        version=_VERSION,
        source=digits.source,
        n_pool=digits.n_pool,
        n0=int(n0),
        teacher=teacher,
        teacher_lam=float(teacher_lam),
        label_noise=float(label_noise),
        p2s=p2s,
    )


@dataclasses.dataclass(frozen=True)
class _RandomFeatureGroup:
    """One (seed, m, n) group of ``random_feature_sweep``: every p2 from one factorisation."""

    digits: Digits
    teachers: _Teachers
    p2s: list[float]
    n0: int
    teacher: str
    lam: float
    label_noise: float
    dtype: object

    def targets(self, seed: int, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The images ``idx`` and their mixed targets, one block of k columns per p2: (n, P k)."""
        x = self.digits.x_train[idx]
        y_real = one_hot(self.digits.y_train[idx])
        y_teacher = np.asarray(self.teachers[seed].predict(x))
        ys = mixed_targets(y_real, y_teacher, self.p2s, label_noise=self.label_noise, key=seed)
        return x, np.transpose(ys, (1, 0, 2)).reshape(len(idx), len(self.p2s) * y_real.shape[1])

    def __call__(self, seed: int, split, m: int, n: int) -> pd.DataFrame:
        x, y = self.targets(seed, split.train[:n])
        t0 = time.perf_counter()
        model = fit_random_features(
            jax.random.key(seed * 1_000_003 + m), x, y, m, self.lam, dtype=self.dtype
        )
        pred = model.predict(self.digits.x_test)
        return self._table(seed, m, n, model.method, pred, time.perf_counter() - t0)

    def nested(self, seed: int, split, m: int, ns: list[int]) -> dict[int, pd.DataFrame]:
        """The dual-form groups (seed, m, n) for every n of ``ns`` (each < m) from one kernel.

        The training images of size n are the first n of the seed's split, so the kernel of
        the largest n holds every smaller one (``fit_random_features_nested``); each table
        equals the group's own fit up to float rounding. fit_seconds: the shared fit's time.
        """
        pairs = [self.targets(seed, split.train[:n]) for n in ns]
        t0 = time.perf_counter()
        model = fit_random_features_nested(
            jax.random.key(seed * 1_000_003 + m),
            pairs[int(np.argmax(ns))][0],
            [y for _, y in pairs],
            m,
            self.lam,
            dtype=self.dtype,
        )
        pred = model.predict(self.digits.x_test)
        secs = time.perf_counter() - t0
        cols = np.cumsum([0] + [y.shape[1] for _, y in pairs])
        return {
            n: self._table(seed, m, n, "dual", pred[:, cols[j] : cols[j + 1]], secs)
            for j, n in enumerate(ns)
        }

    def _table(self, seed: int, m: int, n: int, method: str, pred, secs: float) -> pd.DataFrame:
        """The group's rows from its test predictions (n_test, P k), one block per p2."""
        k = pred.shape[1] // len(self.p2s)
        pred = jnp.asarray(pred).reshape(-1, len(self.p2s), k)
        mse, acc = mse_and_accuracy(jnp.transpose(pred, (1, 0, 2)), self.digits.y_test)
        return pd.DataFrame(
            {
                "model": "random_features",
                "n": n,
                "m": m,
                "p2": self.p2s,
                "n_synthetic": [n_synthetic(n, p) for p in self.p2s],
                "seed": seed,
                "test_mse": mse.astype(float),
                "test_acc": acc.astype(float),
                "teacher_mse": self.teachers[seed].test_mse,
                "n0": self.n0,
                "teacher": self.teacher,
                "lam": float(self.lam),
                "label_noise": float(self.label_noise),
                "method": method,
                "data_source": self.digits.source,
                "fit_seconds": secs,
            }
        )


@dataclasses.dataclass(frozen=True)
class _TwoLayerGroup:
    """One width of ``two_layer_sweep``: every (seed, p2) run trained together (vmapped)."""

    digits: Digits
    teachers: _Teachers
    n: int
    p2s: list[float]
    seeds: list[int]
    n0: int
    n_val: int
    teacher: str
    label_noise: float
    config: TwoLayerConfig  # its width is replaced by the group's

    @functools.cached_property
    def stacked_runs(self) -> tuple[list[tuple[int, float]], dict[str, np.ndarray | None]]:
        """The (seed, p2) of each run and the stacked training (and validation) sets: the same
        for every width, built once per group."""
        xs, ys, xv, yv, runs = [], [], [], [], []
        for seed in self.seeds:
            split = self.teachers.splits[seed]
            x = self.digits.x_train[split.train]
            y_real = one_hot(self.digits.y_train[split.train])
            y_teacher = np.asarray(self.teachers[seed].predict(x))
            y_mix = mixed_targets(
                y_real, y_teacher, self.p2s, label_noise=self.label_noise, key=seed
            )
            for j, p2 in enumerate(self.p2s):
                xs.append(x)
                ys.append(y_mix[j])
                if self.n_val:
                    xv.append(self.digits.x_train[split.val])
                    yv.append(one_hot(self.digits.y_train[split.val]))
                runs.append((seed, p2))
        data = dict(
            x=np.stack(xs),
            y=np.stack(ys),
            x_val=np.stack(xv) if self.n_val else None,
            y_val=np.stack(yv) if self.n_val else None,
        )
        return runs, data

    def __call__(self, width: int) -> pd.DataFrame:
        runs, data = self.stacked_runs
        keys = jnp.stack([jax.random.fold_in(jax.random.key(s), width) for s, _ in runs])
        cfg = dataclasses.replace(self.config, width=width)
        t0 = time.perf_counter()
        fit = train_two_layer(
            keys, data["x"], data["y"], cfg, x_val=data["x_val"], y_val=data["y_val"]
        )
        mse, acc = mse_and_accuracy(fit.predict(self.digits.x_test), self.digits.y_test)
        secs = time.perf_counter() - t0
        return pd.DataFrame(
            {
                "model": "two_layer",
                "n": self.n,
                "m": width,
                "p2": [p for _, p in runs],
                "n_synthetic": [n_synthetic(self.n, p) for _, p in runs],
                "seed": [s for s, _ in runs],
                "test_mse": mse.astype(float),
                "test_acc": acc.astype(float),
                "teacher_mse": [self.teachers[s].test_mse for s, _ in runs],
                "n0": self.n0,
                "teacher": self.teacher,
                "epochs": cfg.epochs,
                "best_epoch": fit.best_epoch.astype(int),
                "final_train_loss": fit.train_loss[:, -1].astype(float),
                "label_noise": float(self.label_noise),
                "data_source": self.digits.source,
                "fit_seconds": secs,
            }
        )


def _stored(store: ResultStore | None, key: dict, source) -> bool:
    return store is not None and store.has("mnist_random_features", experiment_key(key, source))


def random_feature_sweep(
    digits: Digits,
    ns: Sequence[int],
    ms: Sequence[int],
    p2s: Sequence[float],
    seeds: Sequence[int],
    *,
    n0: int = 200,
    teacher: str = "pixels",
    teacher_lam: float = 1e-2,
    lam: float = 1e-3,
    label_noise: float = 0.0,
    store: ResultStore | None = None,
    progress: bool = False,
    dtype=jnp.float32,
) -> pd.DataFrame:
    """Random-feature ridge on n real + synthetic MNIST images, for every (n, m, p2, seed).

    Per seed: one permutation of the pool gives n0 teacher images and the max(ns) training images
    (nested in n, disjoint from the teacher's); the teacher labels round(p2 n) of the training
    images.

    Args:
      digits: the data (``load_digits``).
      ns: training-set sizes; ms: widths; p2s: synthetic fractions in [0, 1]; seeds: seeds >= 0.
      n0: teacher's training-set size (small n0: weak teacher, large c^2).
      teacher: "pixels" or "random_features" (see ``fit_teacher``); teacher_lam its ridge penalty.
      lam: ridge penalty of the student (> 0).
      label_noise: std of extra Gaussian noise on teacher labels.
      store: result store for caching and resuming (None: no caching).
      progress: show a tqdm bar over the (seed, m, n) groups.
      dtype: float32 or float64 (see ``fit_random_features``).

    Returns:
      Tidy DataFrame, one row per (n, m, p2, seed), model = "random_features".

    Raises:
      ValueError: sizes, fractions or seeds out of range, or n0 + max(ns) above the pool size.

    Example:
      >>> from simcollapse.neural import load_builtin
      >>> digits = load_builtin()
      >>> table = random_feature_sweep(digits, ns=[100], ms=[50], p2s=[0.0, 0.5], seeds=[0], n0=50)
      >>> len(table), sorted(set(table.model)), bool((table.test_mse > 0).all())
      (2, ['random_features'], True)
    """
    ns, ms, seeds = _ints("ns", ns, 1), _ints("ms", ms, 1), _ints("seeds", seeds, 0)
    p2s = _floats01("p2s", p2s)
    check_range("lam", lam, 0.0, low_open=True)
    _check_teacher_arguments(teacher, teacher_lam, label_noise)
    store_key = _sweep_config("random_features", digits, n0, teacher, teacher_lam, label_noise, p2s)
    store_key.update(lam=float(lam), dtype=str(jnp.dtype(dtype)), n_max=max(ns))
    splits = {s: draw_split(digits.n_pool, max(ns), n0, s) for s in seeds}  # validates sizes
    teachers = _Teachers(digits, splits, teacher, teacher_lam)
    group = _RandomFeatureGroup(digits, teachers, p2s, n0, teacher, lam, label_noise, dtype)
    tables = []
    groups = [(s, m, n) for s in seeds for m in ms for n in ns]
    done: dict[tuple[int, int, int], pd.DataFrame] = {}
    for seed, m, n in tqdm(groups, desc="mnist random features", disable=not progress):
        group_key = {**store_key, "seed": seed, "m": m, "n": n}
        if (seed, m, n) not in done and m > n:  # the dual form: one kernel for every such n
            todo = [
                nn
                for nn in ns
                if m > nn and not _stored(store, {**group_key, "n": nn}, digits.source)
            ]
            if len(todo) > 1:
                fits = group.nested(seed, splits[seed], m, todo)
                done.update(((seed, m, nn), t) for nn, t in fits.items())
        if (seed, m, n) in done:
            compute = functools.partial(done.pop, (seed, m, n))
        else:
            compute = functools.partial(group, seed, splits[seed], m, n)
        tables.append(
            cached_run(store, "mnist_random_features", group_key, compute, source=digits.source)
        )
    return pd.concat(tables, ignore_index=True)


def two_layer_sweep(
    digits: Digits,
    n: int,
    widths: Sequence[int],
    p2s: Sequence[float],
    seeds: Sequence[int],
    *,
    n0: int = 200,
    n_val: int = 0,
    teacher: str = "pixels",
    teacher_lam: float = 1e-2,
    label_noise: float = 0.0,
    epochs: int = 100,
    lr: float = 3e-3,
    weight_decay: float = 1e-4,
    batch_size: int | None = None,
    store: ResultStore | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Two-layer networks of every width on n real + synthetic images, for every (p2, seed).

    All (seed, p2) runs of one width train together (vmapped); with n_val > 0 each run keeps its
    best epoch on n_val held-out real images (early stopping), disjoint from teacher and training.

    Args:
      digits: the data. n: training-set size. widths: hidden widths m. p2s: synthetic fractions in
        [0, 1]. seeds: seeds >= 0 (split, teacher, initialisation, minibatch order).
      n0, teacher, teacher_lam, label_noise: the teacher (as in ``random_feature_sweep``).
      n_val: held-out real images for early stopping (0: fixed number of epochs).
      epochs, lr, weight_decay, batch_size: the optimiser (``TwoLayerConfig``).
      store, progress: caching and a progress bar over widths.

    Returns:
      Tidy DataFrame, one row per (m, p2, seed), model = "two_layer".

    Raises:
      ValueError: sizes, fractions, seeds or hyper-parameters out of range.

    Example:
      >>> from simcollapse.neural import load_builtin
      >>> digits = load_builtin()
      >>> table = two_layer_sweep(digits, 100, [16], [0.0, 0.5], [0], n0=50, epochs=2)
      >>> len(table), sorted(set(table.model))
      (2, ['two_layer'])
    """
    check_range("n", n, 1, integer=True)
    widths, seeds = _ints("widths", widths, 1), _ints("seeds", seeds, 0)
    p2s = _floats01("p2s", p2s)
    _check_teacher_arguments(teacher, teacher_lam, label_noise)
    for w in widths:
        TwoLayerConfig(w, epochs, lr, weight_decay, batch_size).validate(n)
    splits = {s: draw_split(digits.n_pool, n, n0, s, n_val=n_val) for s in seeds}
    store_key = _sweep_config("two_layer", digits, n0, teacher, teacher_lam, label_noise, p2s)
    store_key.update(n=int(n), n_val=int(n_val), seeds=seeds, epochs=int(epochs), lr=float(lr))
    store_key.update(weight_decay=float(weight_decay), batch_size=batch_size)
    teachers = _Teachers(digits, splits, teacher, teacher_lam)
    config = TwoLayerConfig(widths[0], epochs, lr, weight_decay, batch_size)
    group = _TwoLayerGroup(digits, teachers, n, p2s, seeds, n0, n_val, teacher, label_noise, config)
    tables = []
    for width in tqdm(widths, desc="mnist two-layer", disable=not progress):
        compute = functools.partial(group, width)
        tables.append(
            cached_run(
                store, "mnist_two_layer", {**store_key, "m": width}, compute, source=digits.source
            )
        )
    return pd.concat(tables, ignore_index=True)
