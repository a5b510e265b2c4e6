"""The axes of a sweep over a registered setting: names, ranges, values, and checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from simcollapse import settings
from simcollapse._validate import as_float_array, check_count, check_range, check_real
from simcollapse.settings import LENGTH, OPTION

PROBLEM_AXES = ("c2", "sigma2")
PROBLEM_LIMITS: dict[str, dict[str, Any]] = {"c2": dict(low=0.0), "sigma2": dict(low=0.0)}
# ``model`` names that keep working, and the settings they stand for.
MODELS = {"ridge": "ridge", "rp": "random_projection"}


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


def resolve_setting(model: str | None, setting: str | None) -> str:
    """The registered setting a sweep runs: ``setting``, or the older ``model`` spelling."""
    for key, value in (("model", model), ("setting", setting)):
        if value is not None and not isinstance(value, str):
            raise SpecError(f"{key} must be a string, got {value!r}")
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
    return dict(low=p.low, high=p.high, integer=p.integer)


def axis_values(name: str, spec: Any, limits: Mapping[str, Any]) -> np.ndarray:
    """The values of an axis given as a list or a range table {start, stop, num, scale}."""
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
    if limits.pop("integer", False):
        values = np.unique(np.round(values))  # rounded: only the range is left to check
    wrap(check_range, f"axis '{name}'", values, **limits)
    return values


def check_params(
    setting: settings.Setting, params: Mapping[str, Any], axes: Mapping[str, np.ndarray]
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
    mesh = np.meshgrid(*(axes[a] for a in grid_names), indexing="ij")
    values: dict[str, Any] = {a: v.ravel() for a, v in zip(grid_names, mesh, strict=True)}
    for name, v in params.items():
        p = setting.param(name)
        values[name] = v if p.role == OPTION else wrap(p.check, v)
    for name in setting.names(LENGTH):
        if name in axes:
            values[name] = int(np.max(axes[name]))
    wrap(setting.resolve, values)
