"""A sweep specification: problem family, model, method and grid axes, as Python or TOML.

A TOML file has four tables (every key optional except ``problem.d`` and at least one axis)::

    [problem]
    family = "power_law"      # or "isotropic"
    d = 300
    alpha = 1.5               # spectral decay (power_law)
    source = 1.5              # teacher signal decay (power_law)
    signal = 1.0              # ||w1||^2_Sigma
    sigma2 = 1.0              # label noise (unless an axis)
    c2 = 0.5                  # synthetic quality tr(Sigma Delta) (unless an axis)
    # teacher_n0 = 900        # instead of c2: OLS teacher on n0 real samples

    [model]
    kind = "ridge"            # or "rp" (random projections; width m fixed here or an axis)
    m = 500

    [run]
    method = "both"           # "theory", "simulate" or "both"
    reps = 32
    seed = 0
    dtype = "float64"

    [axes]                    # any of n, m, lam, p2, c2, sigma2
    n = {start = 100, stop = 100000, num = 13, scale = "log"}
    lam = [0.0, 1e-3]
    p2 = [0.0, 0.001, 0.01, 0.1]

An axis is a list of values or a range table {start, stop, num, scale = "log" | "linear"}; n and m
are rounded to integers. The grid is the full product of the axes.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from simcollapse._validate import as_float_array, check_count, check_range, check_real
from simcollapse.problem import Problem
from simcollapse.store import config_hash

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["AXES", "Sweep", "SpecError", "problem_of_row"]

AXES = ("n", "m", "lam", "p2", "c2", "sigma2")
AXIS_LIMITS: dict[str, dict[str, Any]] = {
    "n": dict(low=1),
    "m": dict(low=1),
    "lam": dict(low=0.0),
    "p2": dict(low=0.0, high=1.0),
    "c2": dict(low=0.0),
    "sigma2": dict(low=0.0),
}
SECTIONS: dict[str, tuple[str, ...]] = {
    "problem": ("family", "d", "alpha", "source", "signal", "sigma2", "c2", "teacher_n0"),
    "model": ("kind", "m"),
    "run": ("method", "reps", "seed", "dtype"),
    "axes": AXES,
}


class SpecError(ValueError):
    """A sweep specification that cannot run; the message names the key (and TOML line)."""


@dataclasses.dataclass(frozen=True)
class Sweep:
    """A declarative grid of test-error evaluations.

    Attributes:
      d: input dimension. family: "power_law" or "isotropic"; alpha, source, signal: the
        power-law spectrum and teacher (``Problem.power_law``).
      sigma2, c2: label noise and synthetic quality when they are not axes; ``teacher_n0``
        replaces c2 by an OLS teacher on n0 real samples (c^2 = sigma2 d/(n0 - d - 1)).
      model: "ridge" or "rp"; m: the width when it is not an axis (rp only).
      method: "theory", "simulate" or "both". reps, seed, dtype: the Monte Carlo settings.
      axes: name -> values (lists or range dicts), names among n, m, lam, p2, c2, sigma2.

    Example:
      >>> spec = Sweep(d=200, axes={"n": [100, 1000], "p2": [0.0, 0.1]}, method="theory")
      >>> spec.size
      4
    """

    d: int
    axes: Mapping[str, Any]
    family: str = "power_law"
    alpha: float = 1.5
    source: float = 1.5
    signal: float = 1.0
    sigma2: float = 1.0
    c2: float = 0.1
    teacher_n0: int | None = None
    model: str = "ridge"
    m: int | None = None
    method: str = "theory"
    reps: int = 32
    seed: int = 0
    dtype: str = "float64"

    def __post_init__(self) -> None:
        grid = {name: _axis_values(name, spec) for name, spec in dict(self.axes).items()}
        object.__setattr__(self, "axes", grid)
        self.validate()

    # ------------------------------------------------------------------ checks
    def validate(self) -> None:
        """Raise SpecError for anything that cannot run, before any computation."""
        for name in ("family", "model", "method", "dtype"):
            if not isinstance(getattr(self, name), str):
                raise SpecError(f"{name} must be a string, got {getattr(self, name)!r}")
        if self.family not in ("power_law", "isotropic"):
            raise SpecError(f"family must be 'power_law' or 'isotropic', got {self.family!r}")
        if self.model not in ("ridge", "rp"):
            raise SpecError(f"model must be 'ridge' or 'rp', got {self.model!r}")
        if self.method not in ("theory", "simulate", "both"):
            raise SpecError(f"method must be 'theory', 'simulate' or 'both', got {self.method!r}")
        if self.dtype not in ("float64", "float32"):
            raise SpecError(f"dtype must be 'float64' or 'float32', got {self.dtype!r}")
        if not self.axes:
            raise SpecError("a sweep needs at least one axis (any of " + ", ".join(AXES) + ")")
        if "n" not in self.axes:
            raise SpecError("axes must include n (the sample sizes)")
        if self.model == "rp" and "m" not in self.axes and self.m is None:
            raise SpecError("model 'rp' needs a width: set m, or give an m axis")
        if self.model == "ridge" and "m" in self.axes:
            raise SpecError("axis 'm' only applies to model 'rp'")
        if self.teacher_n0 is not None and "c2" in self.axes:
            raise SpecError("axis 'c2' cannot be combined with teacher_n0 (the teacher sets c2)")
        for name, value in self._normalised().items():
            object.__setattr__(self, name, value)

    def _normalised(self) -> dict[str, Any]:
        """The scalar settings type-checked and as plain int/float, so that equal settings hash
        equally (c2 = 0.5 and c2 = 0.50, d = 300 and d = 300.0)."""
        out: dict[str, Any] = {
            "d": _wrap(check_count, "d", self.d),
            "reps": _wrap(check_count, "reps", self.reps),
            "seed": _wrap(check_count, "seed", self.seed, 0),
        }
        for name in ("alpha", "source", "signal", "sigma2", "c2"):
            out[name] = _wrap(check_real, name, getattr(self, name), 0.0)
        if self.m is not None:
            out["m"] = _wrap(check_count, "m", self.m)
        if self.teacher_n0 is not None:
            out["teacher_n0"] = _wrap(check_count, "teacher_n0", self.teacher_n0, out["d"] + 2)
        return out

    # ------------------------------------------------------------------ derived
    @property
    def outer_axes(self) -> tuple[str, ...]:
        """Axes that change the fixed point: n, m, lam (in this order)."""
        names = ("n", "m", "lam") if self.model == "rp" else ("n", "lam")
        return names

    @property
    def inner_axes(self) -> tuple[str, ...]:
        """Axes that only rescale or recombine terms: c2, sigma2, p2 (in this order)."""
        return ("c2", "sigma2", "p2")

    def values(self, name: str) -> np.ndarray:
        """The values of an axis (or the fixed value as a one-element axis)."""
        if name in self.axes:
            return np.asarray(self.axes[name], dtype=np.float64)
        fixed = {"m": self.m, "lam": 0.0, "p2": 0.0, "c2": self.c2, "sigma2": self.sigma2}
        return np.asarray([fixed[name]], dtype=np.float64)

    @property
    def shape(self) -> tuple[int, ...]:
        """Grid shape over outer_axes + inner_axes."""
        return tuple(self.values(a).size for a in (*self.outer_axes, *self.inner_axes))

    @property
    def size(self) -> int:
        """Number of grid points (per method)."""
        return int(np.prod(self.shape))

    def problem(self, c2: float | None = None, sigma2: float | None = None) -> Problem:
        """The Problem at the given c2 and sigma2 (defaults: the spec's fixed values)."""
        sigma2 = self.sigma2 if sigma2 is None else sigma2
        c2 = self.c2 if c2 is None else c2
        if self.family == "isotropic":
            prob = Problem.isotropic(self.d, c2=c2, sigma2=sigma2, signal=self.signal)
        else:
            prob = Problem.power_law(
                self.d,
                alpha=self.alpha,
                source=self.source,
                c2=c2,
                sigma2=sigma2,
                signal=self.signal,
            )
        if self.teacher_n0 is not None:
            prob = prob.with_teacher(self.teacher_n0)
        return prob

    def to_dict(self) -> dict[str, Any]:
        """Plain data (axes as value lists): what the hash and the stored spec are made of."""
        out = dataclasses.asdict(self)
        out["axes"] = {k: np.asarray(v).tolist() for k, v in self.axes.items()}
        return out

    @property
    def hash(self) -> str:
        """A stable hash of the specification (any change gives a new hash)."""
        return config_hash(self.to_dict())

    # ------------------------------------------------------------------ TOML
    @classmethod
    def from_toml(cls, path: str | Path) -> Sweep:
        """Read a TOML specification; errors name the key and its line."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise SpecError(f"cannot read sweep spec {path}: {err.strerror}") from err
        except UnicodeDecodeError as err:
            raise SpecError(
                f"{path}: not a UTF-8 text file (byte {err.start}: {err.reason}); "
                "a sweep spec must be TOML, which is UTF-8"
            ) from None
        return cls.from_toml_text(text, source=str(path))

    @classmethod
    def from_toml_text(cls, text: str, source: str = "<toml>") -> Sweep:
        """Parse a TOML specification given as text."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise SpecError(f"{source}: invalid TOML: {err}") from err
        return cls.from_mapping(data, source=source, text=text)

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], source: str = "<spec>", text: str | None = None
    ) -> Sweep:
        """Build a Sweep from the nested tables of a TOML file (see the module doc)."""
        kwargs: dict[str, Any] = {}
        for section, table in data.items():
            if section not in SECTIONS:
                raise SpecError(
                    f"{_where(source, text, None, section)}unknown section [{section}]; "
                    f"known: {', '.join(SECTIONS)}"
                )
            if not isinstance(table, Mapping):
                raise SpecError(f"{_where(source, text, None, section)}[{section}] must be a table")
            for key in table:
                if key not in SECTIONS[section]:
                    raise SpecError(
                        f"{_where(source, text, section, key)}unknown key '{section}.{key}'; "
                        f"known keys in [{section}]: {', '.join(SECTIONS[section])}"
                    )
        problem = dict(data.get("problem", {}))
        model = dict(data.get("model", {}))
        run = dict(data.get("run", {}))
        kwargs.update(problem)
        if "kind" in model:
            kwargs["model"] = model["kind"]
        if "m" in model:
            kwargs["m"] = model["m"]
        kwargs.update(run)
        kwargs["axes"] = dict(data.get("axes", {}))
        if "d" not in kwargs:
            raise SpecError(f"{source}: missing required key 'problem.d'")
        try:
            return cls(**kwargs)
        except SpecError as err:
            key = _key_in_message(str(err))
            section = next((s for s, keys in SECTIONS.items() if key in keys), None)
            if key in kwargs.get("axes", {}):
                section = "axes"
            raise SpecError(f"{_where(source, text, section, key)}{err}") from None


def problem_of_row(row: Any) -> Problem:
    """The Problem behind one row of a sweep table (its fixed parameters, c2 and sigma2).

    ``row`` is anything with the table's columns as attributes (a ``DataFrame.itertuples()``
    row, for example).
    """
    teacher = int(row.teacher_n0)
    spec = Sweep(
        d=int(row.d), family=row.family, alpha=row.alpha, source=row.source, signal=row.signal,
        teacher_n0=None if teacher < 0 else teacher, axes={"n": [row.n]},
    )  # fmt: skip
    return spec.problem(c2=row.c2, sigma2=row.sigma2)


def _axis_values(name: str, spec: Any) -> np.ndarray:
    if name not in AXES:
        raise SpecError(f"unknown axis '{name}'; known axes: {', '.join(AXES)}")
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
        num = _wrap(check_count, f"axis '{name}' num", spec["num"])
        start, stop = (_wrap(check_real, f"axis '{name}' {k}", spec[k]) for k in ("start", "stop"))
        make = np.geomspace if scale == "log" else np.linspace
        try:
            values = make(start, stop, num)
        except ValueError as err:
            raise SpecError(f"axis '{name}': {err}") from None
    else:
        values = np.atleast_1d(np.asarray(spec, dtype=object))
        if values.ndim != 1:
            raise SpecError(f"axis '{name}' must be a flat list of numbers")
        values = _wrap(as_float_array, f"axis '{name}'", list(values))
    if values.size == 0:
        raise SpecError(f"axis '{name}' is empty")
    if name in ("n", "m"):
        values = np.unique(np.round(values))
    _wrap(check_range, f"axis '{name}'", values, **AXIS_LIMITS[name])
    return values


def _wrap(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except ValueError as err:
        raise SpecError(str(err)) from None


def _key_in_message(message: str) -> str | None:
    match = re.match(r"(?:axis ')?([a-z_0-9]+)", message)
    return match.group(1) if match else None


def _where(source: str, text: str | None, section: str | None, key: str | None) -> str:
    """'file:line: ' for a key (or a section header) found in the TOML text, else 'file: '."""
    line = _find_line(text, section, key) if text else None
    return f"{source}:{line}: " if line else f"{source}: "


def _find_line(text: str, section: str | None, key: str | None) -> int | None:
    current = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        header = re.match(r"\[([^\]]+)\]", line)
        if header:
            current = header.group(1).strip()
            if section is None and key == current:
                return number
            continue
        if key and current == section and re.match(rf"{re.escape(key)}\s*=", line):
            return number
    return None
