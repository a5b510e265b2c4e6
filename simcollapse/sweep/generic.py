"""Sweeps over any registered setting: one chunk per sample size and method.

Theory: the setting's pure ``terms`` over the chunk's flat points, split over devices
(``devices.sharded_points``), once per (c2, sigma2) and at the largest length T (rounds,
generations): entry t does not depend on T, so every requested length is read off one solve.
Simulation: the setting's Monte Carlo through the one driver (which shards the repetitions over
devices), at the sweep's seed, so a table does not depend on the chunking or the device count.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import jax
import numpy as np

from simcollapse import devices as dev
from simcollapse import settings
from simcollapse.simulate.driver import MonteCarlo
from simcollapse.sweep.axes import grid_groups, grid_points
from simcollapse.sweep.spec import Sweep


def other_axes(spec: Sweep) -> tuple[str, ...]:
    """The setting's grid axes other than n, in declared order."""
    return tuple(a for a in spec.setting_obj.axes if a != "n")


def points_per_n(spec: Sweep) -> int:
    """Grid points of the other axes at one sample size (a zipped group counts once)."""
    groups = grid_groups(other_axes(spec), spec.zipped)
    return int(np.prod([spec.values(g[0]).size for g in groups]))


def rows_per_n(spec: Sweep) -> int:
    """Rows one sample size produces: the other axes' points x lengths x c2 x sigma2."""
    names = (*spec.setting_obj.names("length"), "c2", "sigma2")
    return points_per_n(spec) * int(np.prod([spec.values(a).size for a in names]))


def draw_bytes(spec: Sweep, n: int) -> int:
    """Estimated bytes of one Monte Carlo draw at n: data, Gram, and every point's weights."""
    d = spec.d
    item = 8 if spec.dtype == "float64" else 4
    length = int(spec.values(spec.setting_obj.length).max()) if spec.setting_obj.length else 1
    points = points_per_n(spec)
    return item * (4 * n * d + 3 * d * d + 8 * points * (d + min(n, d)) * max(1, length // 4))


def _points(spec: Sweep, n: float) -> dict[str, np.ndarray]:
    """Flat arrays of the setting's axes at one n (C order over the other axes, zipped groups
    moving together)."""
    names = other_axes(spec)
    flat = grid_points(names, {a: spec.values(a) for a in names}, spec.zipped)
    size = next(iter(flat.values())).size if flat else 1
    return {"n": np.full(size, float(n)), **flat}


def _lengths(spec: Sweep) -> tuple[str | None, np.ndarray]:
    name = spec.setting_obj.length
    return name, (spec.values(name).astype(int) if name else np.ones(1, int))


def _terms_fn(setting: settings.Setting, names: tuple[str, ...], length: int) -> Any:
    """The setting's pure terms as fn(problem, *arrays), one object per (theory, axes, T), so
    that repeated chunks reuse one compile; a setting registered again with another theory gets
    a new function."""
    order = setting.names(settings.SOLVE, settings.RECOMBINE, settings.LENGTH)
    static = ((setting.length, length),) if setting.length else ()
    return _pure_terms(setting.terms_fn, order, names, static)


@functools.cache
def _pure_terms(
    terms_fn: Any, order: tuple[str, ...], names: tuple[str, ...], static: tuple[Any, ...]
) -> Any:
    def fn(problem: Any, *arrays: Any) -> Any:
        params = {**dict(zip(names, arrays, strict=True)), **dict(static)}
        return terms_fn(problem, *(params[k] for k in order))

    return fn


def _theory(spec: Sweep, problem: Any, points: dict[str, np.ndarray], length: int) -> Any:
    setting = spec.setting_obj
    if setting.terms_fn is None or not spec.options_at_defaults:
        # a theory that takes its options (the design): the setting's own concrete path
        params = {**points, **spec.options}
        if setting.length:
            params[setting.length] = length
        return setting.theory(problem, throw=False, **params)
    fn = _terms_fn(setting, tuple(points), length)
    with jax.enable_x64(True):
        return dev.sharded_points(fn, *points.values(), const=problem)


def _simulate(spec: Sweep, problem: Any, points: dict[str, np.ndarray], length: int) -> Any:
    setting = spec.setting_obj
    params = {**points, **spec.options}
    if setting.length:
        params[setting.length] = length
    mc = MonteCarlo(spec.seed, spec.reps, spec.dtype)
    return setting.simulate(problem, mc, **params)


def pieces(
    spec: Sweep, method: str, index: int
) -> Iterator[tuple[dict[str, np.ndarray], dict[str, np.ndarray]]]:
    """The results of one sample size (``spec.values("n")[index]``) for one method, as
    (coordinates, terms) pieces, one per (c2, sigma2) and length, each over the points of the
    other axes; the sweep runner turns each into rows of its table (``sweep.run.frame``)."""
    n = spec.values("n")[index]
    points = _points(spec, n)
    name, lengths = _lengths(spec)
    compute = _theory if method == "theory" else _simulate
    for c2 in spec.values("c2"):
        for sigma2 in spec.values("sigma2"):
            prob = spec.problem(c2=c2, sigma2=sigma2)
            out = compute(spec, prob, points, int(lengths.max()))
            for length in lengths:
                pick = (lambda v, t=length: np.asarray(v)[:, t - 1]) if name else np.asarray
                terms = {k: pick(v) for k, v in out._asdict().items()}
                coords = dict(points)
                if name:
                    coords[name] = np.full(points["n"].size, length)
                coords["c2"] = np.full(points["n"].size, float(prob.c2))
                coords["sigma2"] = np.full(points["n"].size, float(sigma2))
                yield coords, terms
