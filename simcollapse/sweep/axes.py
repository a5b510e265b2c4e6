"""The axes of a sweep over a registered setting: names, ranges, values, and checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from simcollapse import settings
from simcollapse._aliases import MODELS, warn_old
from simcollapse._validate import (
    as_float_array,
    check_count,
    check_range,
    check_real,
    check_stored_int,
)
from simcollapse.settings import LENGTH, OPTION

AXES = ("n", "m", "lam", "p2", "c2", "sigma2")  # the axes of ridge and random projections
PROBLEM_AXES = ("c2", "sigma2")
PROBLEM_LIMITS: dict[str, dict[str, Any]] = {"c2": dict(low=0.0), "sigma2": dict(low=0.0)}
# ``model`` names that keep working, and the settings they stand for.


class SpecError(ValueError):
    """A sweep specification that cannot run; the message names the key (and TOML line).

    Example:
      >>> from simcollapse.sweep import Sweep
      >>> Sweep(d=50, axes={"n": [100], "p2": [1.5]})
      Traceback (most recent call last):
          ...
      simcollapse.sweep.axes.SpecError: axis 'p2' must hold values in [0, 1]; got 1.5
    """


def wrap(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` with a ValueError turned into a SpecError."""
    try:
        return fn(*args, **kwargs)
    except ValueError as err:
        raise SpecError(str(err)) from None


def resolve_setting(
    model: str | None, setting: str | None, spelling: str = "Sweep(model=...)"
) -> str:
    """The registered setting a sweep runs: ``setting``, or the older ``model`` spelling (a
    FutureWarning naming ``spelling``, its entry in ``simcollapse._aliases``)."""
    for key, value in (("model", model), ("setting", setting)):
        if value is not None and not isinstance(value, str):
            raise SpecError(f"{key} must be a string, got {value!r}")
    if model is not None and setting is None:
        warn_old(spelling)
    if setting is not None:
        try:
            name = settings.get(setting).name
        except (ValueError, TypeError):
            raise SpecError(
                f"setting must be one of {', '.join(settings.names())}, got {setting!r}"
            ) from None
        if model is not None and model_name(name) != model:
            raise SpecError(f"model {model!r} and setting {setting!r} disagree: give only setting")
        return name
    if model is not None and model not in MODELS:
        raise SpecError(
            f"model must be 'ridge' or 'rp', got {model!r}; for other settings write "
            f"setting = NAME ([setting] kind = NAME in TOML), NAME one of "
            f"{', '.join(settings.names())}"
        )
    return MODELS[model or "ridge"]


def model_name(setting: str) -> str:
    """The table's ``model`` column: "ridge" or "rp" for those, else the setting's name."""
    return {v: k for k, v in MODELS.items()}.get(setting, setting)


def axis_names(setting: settings.Setting) -> tuple[str, ...]:
    """The axes a sweep over ``setting`` accepts: its grid axes, its length, c2 and sigma2."""
    return setting.axes + setting.names(LENGTH) + PROBLEM_AXES


def axis_limits(setting: settings.Setting, name: str) -> dict[str, Any]:
    """check_range keywords for an axis; a SpecError for an axis the setting does not have."""
    if name in PROBLEM_AXES:
        return PROBLEM_LIMITS[name]
    if name not in axis_names(setting):
        raise SpecError(
            f"unknown axis '{name}' for setting '{setting.name}'; known axes: "
            f"{', '.join(axis_names(setting))}"
        )
    p = setting.param(name)
    return dict(low=p.low, high=p.high, low_open=p.low_open, integer=p.integer)


def axis_values(
    name: str, spec: Any, limits: Mapping[str, Any], keep_order: bool = False
) -> np.ndarray:
    """The values of an axis given as a list or a range table {start, stop, num, scale}.

    Integer parameters are rounded, sorted and made unique, unless ``keep_order`` (a zipped axis,
    whose position i pairs with position i of its partners).
    """
    if isinstance(spec, Mapping):
        unknown = set(spec) - {"start", "stop", "num", "scale"}
        if unknown or not {"start", "stop", "num"} <= set(spec):
            raise SpecError(
                f"axis '{name}': a range needs start, stop, num (and optional scale), got "
                f"{sorted(spec)}"
            )
        scale = spec.get("scale", "linear")
        if scale not in ("linear", "log"):
            raise SpecError(f"axis '{name}': scale must be 'linear' or 'log', got {scale!r}")
        num = wrap(check_count, f"axis '{name}' num", spec["num"])
        start, stop = (wrap(check_real, f"axis '{name}' {k}", spec[k]) for k in ("start", "stop"))
        make = np.geomspace if scale == "log" else np.linspace
        try:
            values = make(start, stop, num)
        except ValueError as err:
            raise SpecError(f"axis '{name}': {err}") from None
    else:
        values = np.atleast_1d(np.asarray(spec, dtype=object))
        if values.ndim != 1:
            raise SpecError(f"axis '{name}' must be a flat list of numbers")
        values = wrap(as_float_array, f"axis '{name}'", list(values))
    if values.size == 0:
        raise SpecError(f"axis '{name}' is empty")
    limits = dict(limits)
    if limits.pop("integer", False):  # rounded: only the range is left to check
        values = np.round(values) if keep_order else np.unique(np.round(values))
        wrap(check_stored_int, f"axis '{name}'", values)  # stored as int64, never wrapped
    wrap(check_range, f"axis '{name}'", values, **limits)
    return values


def check_params(
    setting: settings.Setting,
    params: Mapping[str, Any],
    axes: Mapping[str, np.ndarray],
    zipped: tuple[tuple[str, ...], ...] = (),
) -> None:
    """Fixed parameters known and in range, required ones given, and the grid valid as a whole.

    Raises:
      SpecError: naming the parameter.
    """
    for name in params:
        if name not in setting.names():
            raise SpecError(
                f"{name}: setting '{setting.name}' has no parameter {name!r}; known: "
                f"{', '.join(setting.names())}"
            )
        if name in axes:
            raise SpecError(f"{name} is both a fixed value and an axis: give one")
    grid_names = [a for a in setting.names() if a in axes and setting.param(a).is_axis]
    values: dict[str, Any] = grid_points(grid_names, axes, zipped)
    for name, v in params.items():
        p = setting.param(name)
        values[name] = v if p.role == OPTION else wrap(p.check, v)
    for name in setting.names(LENGTH):
        if name in axes:
            values[name] = int(np.max(axes[name]))
    wrap(setting.resolve, values)


def check_zipped(
    zipped: Any, setting: settings.Setting, axes: Mapping[str, Any], sizes: bool = True
) -> tuple[tuple[str, ...], ...]:
    """Groups of axes that vary together (position i of each with position i of the others).

    Args:
      zipped: a list of groups, each a list of at least two axis names.
      setting: the sweep's setting: a group may hold its grid axes other than n.
      axes: the sweep's axes; every zipped name must be one of them.
      sizes: also check that the axes of a group have equal lengths (resolved axes only).

    Returns:
      The groups as tuples of names.

    Raises:
      SpecError: naming the group or axis: not a list of names, an unknown or missing axis, n,
        a length or problem axis, an axis in two groups, or axes of unequal lengths.
    """
    if isinstance(zipped, str) or not isinstance(zipped, list | tuple):
        raise SpecError(f"zipped must be a list of axis-name lists, got {zipped!r}")
    allowed = tuple(a for a in setting.axes if a != "n")
    groups: list[tuple[str, ...]] = []
    seen: set[str] = set()
    for group in zipped:
        if isinstance(group, str) or not isinstance(group, list | tuple) or len(group) < 2:
            raise SpecError(f"zipped: each group must list two or more axes, got {group!r}")
        for name in group:
            if name not in allowed:
                raise SpecError(
                    f"zipped: {name!r} cannot be zipped for setting '{setting.name}'; "
                    f"zippable axes: {', '.join(allowed)}"
                )
            if name not in axes:
                raise SpecError(f"zipped: {name!r} is not an axis of this sweep")
            if name in seen:
                raise SpecError(f"zipped: axis {name!r} is in two groups")
            seen.add(name)
        lengths = {name: int(np.size(axes[name])) for name in group}
        if sizes and len(set(lengths.values())) != 1:
            raise SpecError(f"zipped: axes {list(group)} need equal lengths, got {lengths}")
        groups.append(tuple(group))
    return tuple(groups)


def grid_points(
    names: Any, values: Mapping[str, Any], zipped: tuple[tuple[str, ...], ...] = ()
) -> dict[str, np.ndarray]:
    """Flat arrays over the grid of ``names`` (C order): the product of the axes, in which each
    zipped group moves as one axis.

    Example:
      >>> pts = grid_points(["lam", "p2", "alpha"], {"lam": [0, 1], "p2": [0.5, 0.0],
      ...                   "alpha": [0.1, 0.0]}, zipped=(("p2", "alpha"),))
      >>> pts["lam"].tolist(), pts["p2"].tolist(), pts["alpha"].tolist()
      ([0.0, 0.0, 1.0, 1.0], [0.5, 0.0, 0.5, 0.0], [0.1, 0.0, 0.1, 0.0])
    """
    names = list(names)
    groups = grid_groups(names, zipped)
    index = np.meshgrid(*(np.arange(np.size(values[g[0]])) for g in groups), indexing="ij")
    out: dict[str, np.ndarray] = {}
    for group, i in zip(groups, index, strict=True):
        for name in group:
            out[name] = np.asarray(values[name], dtype=np.float64)[i.ravel()]
    return {name: out[name] for name in names}


def grid_groups(names: Any, zipped: tuple[tuple[str, ...], ...]) -> list[tuple[str, ...]]:
    """``names`` grouped into the grid's dimensions: a zipped group is one, any other axis one."""
    groups: list[tuple[str, ...]] = []
    for name in names:
        group = next((g for g in zipped if name in g), (name,))
        group = tuple(n for n in group if n in names)
        if group not in groups:
            groups.append(group)
    return groups
