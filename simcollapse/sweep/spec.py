"""A sweep specification: problem family, model, method and grid axes, as Python or TOML.

A TOML file has four tables (every key optional except ``problem.d`` and at least one axis)::

    [problem]
    family = "power_law"      # or "isotropic", or "file" with path = "problem.npz" (arrays
                              # eigs, w1_sq, delta_sq, sigma2; c2/sigma2 axes rescale them)
    d = 300
    alpha = 1.5               # spectral decay (power_law)
    source = 1.5              # teacher signal decay (power_law)
    signal = 1.0              # ||w1||^2_Sigma
    sigma2 = 1.0              # label noise (unless an axis)
    c2 = 0.5                  # synthetic quality tr(Sigma Delta) (unless an axis)
    # teacher_n0 = 900        # instead of c2: OLS teacher on n0 real samples

    [setting]
    kind = "ridge"            # any registered setting (simcollapse.settings.names()), e.g.
                              # "random_projection", "weighted", "iterative", "replace"
    # m = 500                 # fixed values of the setting's parameters (unless an axis),
                              # e.g. alpha = 0.2, rounds = 5, reuse_real = false

    # [model]                 # older spelling, still read: kind = "ridge" or "rp", m = 500

    [run]
    method = "both"           # "theory", "simulate" or "both"
    reps = 32
    seed = 0
    dtype = "float64"

    [axes]                    # the setting's axes (n, m, lam, p2, alpha, ...), its length
    n = {start = 100, stop = 100000, num = 13, scale = "log"}   # (rounds, generations), c2, sigma2
    lam = [0.0, 1e-3]
    p2 = [0.0, 0.001, 0.01, 0.1]
    # zipped = [["p2", "alpha"]]  # axes that vary together: explicit points, not a product

An axis is a list of values or a range table {start, stop, num, scale = "log" | "linear"}; integer
parameters (n, m, rounds, ...) are rounded. The grid is the product of the axes, except that the
axes of a ``zipped`` group move together: their value lists have equal lengths and position i of
each goes with position i of the others (so a group gives a list of explicit points). Any grid
axis of the setting other than n may be zipped; a sweep with zipped axes runs point by point
(the generic path), for settings with a fast path (``Setting.fast_path``) too.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from simcollapse import settings
from simcollapse._validate import check_count, check_real
from simcollapse.families import families, from_family
from simcollapse.problem import Problem
from simcollapse.settings.base import REQUIRED
from simcollapse.store import config_hash
from simcollapse.sweep.axes import (
    AXES,
    SpecError,
    axis_limits,
    axis_names,
    axis_values,
    check_params,
    check_zipped,
    grid_groups,
    model_name,
    resolve_setting,
    wrap,
)
from simcollapse.sweep.toml_spec import parse_toml, read_toml, sweep_keywords, with_location

__all__ = ["AXES", "Sweep", "SpecError", "problem_of_row"]


@dataclasses.dataclass(frozen=True)
class Sweep:
    """A declarative grid of test-error evaluations.

    Attributes:
      d: input dimension. family: a ``simcollapse.families`` name ("power_law", "isotropic",
        "file"); alpha, source, signal: the power-law spectrum and teacher; path: the .npz of
        the "file" family (its c2 and sigma2 are used unless they are axes).
      sigma2, c2: label noise and synthetic quality when they are not axes; ``teacher_n0``
        replaces c2 by an OLS teacher on n0 real samples (c^2 = sigma2 d/(n0 - d - 1)).
      setting: a registered setting (``simcollapse.settings.names()``), default "ridge";
        params: fixed values of its parameters that are not axes (alpha, rounds, reuse_real...).
      model: the older spelling, "ridge" or "rp" (= setting "random_projection"); m: the width
        when it is not an axis (random_projection only).
      method: "theory", "simulate" or "both". reps, seed, dtype: the Monte Carlo settings.
      axes: name -> values (lists or range dicts): the setting's axes (n, m, lam, p2, alpha...),
        its length (rounds, generations: entry t does not depend on the largest T), c2, sigma2.
      zipped: groups of axes (other than n, the length, c2 and sigma2) that vary together
        instead of forming a product: ``[("p2", "alpha")]`` with p2 = [0.5, 0.5, 0.0] and
        alpha = [0.1, 1.0, 0.0] gives three (p2, alpha) points.

    Example:
      >>> spec = Sweep(d=200, axes={"n": [100, 1000], "p2": [0.0, 0.1]}, method="theory")
      >>> spec.size
      4
      >>> Sweep(d=50, setting="iterative", axes={"n": [100], "rounds": [1, 3]}).size
      2
      >>> Sweep(d=50, setting="weighted", axes={"n": [100, 200], "p2": [0.5, 0.5, 0.0],
      ...       "alpha": [0.1, 1.0, 0.0]}, zipped=[("p2", "alpha")]).size
      6
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
    model: str | None = None
    m: int | None = None
    method: str = "theory"
    reps: int = 32
    seed: int = 0
    dtype: str = "float64"
    setting: str | None = None
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    path: str | None = None
    zipped: Any = ()

    def __post_init__(self) -> None:
        name = resolve_setting(self.model, self.setting)
        params = dict(self.params)
        setting = settings.get(name)
        if "m" in params and self.m is None and "m" in setting.names():
            object.__setattr__(self, "m", params.pop("m"))  # the width's older field
        object.__setattr__(self, "setting", name)
        object.__setattr__(self, "model", model_name(name))
        object.__setattr__(self, "params", params)
        zipped = check_zipped(self.zipped, setting, dict(self.axes), sizes=False)
        object.__setattr__(self, "zipped", zipped)
        in_group = {a for group in zipped for a in group}
        grid = {
            a: axis_values(a, v, axis_limits(setting, a), keep_order=a in in_group)
            for a, v in dict(self.axes).items()
        }
        object.__setattr__(self, "axes", grid)
        check_zipped(zipped, setting, grid)  # equal lengths once ranges are expanded
        self.validate()

    @property
    def setting_obj(self) -> settings.Setting:
        """The registered Setting this sweep runs."""
        return settings.get(self.setting)

    @property
    def fast_path(self) -> settings.FastPath | None:
        """The setting's ``FastPath`` (solve once per point of its solve axes, recombine the
        rest), or None: a setting without one, or a sweep with zipped axes (a list of points,
        not a product grid), or an option set away from its default (the fast path computes
        the defaults; the setting's own theory takes the option)."""
        if self.zipped or not self.options_at_defaults:
            return None
        return self.setting_obj.fast_path

    @property
    def options(self) -> dict[str, Any]:
        """The setting's OPTION parameters: the value this sweep gives, else the default."""
        setting = self.setting_obj
        return {k: self.params.get(k, setting.param(k).default) for k in setting.names("option")}

    @property
    def options_at_defaults(self) -> bool:
        """True when every option is at its default (what a fast path or ``terms_fn`` computes;
        otherwise the setting's own theory takes the options)."""
        setting = self.setting_obj
        return all(v == setting.param(k).default for k, v in self.options.items())

    @property
    def is_generic(self) -> bool:
        """True when run point by point by ``sweep.generic`` (no ``fast_path``)."""
        return self.fast_path is None

    # ------------------------------------------------------------------ checks
    def validate(self) -> None:
        """Raise SpecError for anything that cannot run, before any computation."""
        for name in ("family", "method", "dtype"):
            if not isinstance(getattr(self, name), str):
                raise SpecError(f"{name} must be a string, got {getattr(self, name)!r}")
        if self.family not in families():
            raise SpecError(f"family must be one of {', '.join(families())}, got {self.family!r}")
        if (self.family == "file") != (self.path is not None):
            raise SpecError("path: give path = FILE.npz exactly when family = 'file'")
        if self.family == "file":
            wrap(from_family, "file", self.d, path=self.path)
        if self.method not in ("theory", "simulate", "both"):
            raise SpecError(f"method must be 'theory', 'simulate' or 'both', got {self.method!r}")
        if self.dtype not in ("float64", "float32"):
            raise SpecError(f"dtype must be 'float64' or 'float32', got {self.dtype!r}")
        if not self.axes:
            known = ", ".join(axis_names(self.setting_obj))
            raise SpecError(f"a sweep needs at least one axis (any of {known})")
        if "n" not in self.axes:
            raise SpecError("axes must include n (the sample sizes)")
        setting = self.setting_obj
        if self.m is not None and "m" not in setting.names():
            raise SpecError(f"m only applies to a setting with a width m (random_projection), "
                            f"not to setting '{self.setting}'")  # fmt: skip
        if self.is_generic or self.params or setting.check or callable(setting.no_theory):
            self._validate_setting()  # a fast path skips it only when it has nothing to check
        else:
            self._check_required()
        if self.teacher_n0 is not None and "c2" in self.axes:
            raise SpecError("axis 'c2' cannot be combined with teacher_n0 (the teacher sets c2)")
        for name, value in self._normalised().items():
            object.__setattr__(self, name, value)

    def _normalised(self) -> dict[str, Any]:
        """The scalar settings type-checked and as plain int/float, so that equal settings hash
        equally (c2 = 0.5 and c2 = 0.50, d = 300 and d = 300.0)."""
        out: dict[str, Any] = {
            "d": wrap(check_count, "d", self.d),
            "reps": wrap(check_count, "reps", self.reps),
            "seed": wrap(check_count, "seed", self.seed, 0),
        }
        for name in ("alpha", "source", "signal", "sigma2", "c2"):
            out[name] = wrap(check_real, name, getattr(self, name), 0.0)
        if self.m is not None:
            out["m"] = wrap(check_count, "m", self.m)
        if self.teacher_n0 is not None:
            out["teacher_n0"] = wrap(check_count, "teacher_n0", self.teacher_n0, out["d"] + 2)
        return out

    def _check_required(self) -> None:
        """Every required parameter of the setting given, as a fixed value or as an axis."""
        setting = self.setting_obj
        for p in setting.params:
            if p.default is REQUIRED and p.name not in {**self.axes, **self.setting_params}:
                raise SpecError(
                    f"setting '{self.setting}' needs {p.name} ({p.doc}): set {p.name}, or give "
                    f"an {p.name} axis"
                )

    def _validate_setting(self) -> None:
        setting = self.setting_obj
        params = self.setting_params
        reason = setting.no_theory if isinstance(setting.no_theory, str) else None
        if reason is None:  # a reason for some values only: the axes (lam) count too
            check_params(setting, params, self.axes, self.zipped)
            reason = setting.reason_no_theory(
                {**{a: self.values(a) for a in setting.axes}, **params}
            )
        if self.method != "simulate" and reason is not None:
            raise SpecError(f"method: setting '{self.setting}' is simulation only ({reason}); "
                            "use method = 'simulate'")  # fmt: skip
        check_params(setting, params, self.axes, self.zipped)

    # ------------------------------------------------------------------ derived
    @property
    def setting_params(self) -> dict[str, Any]:
        """The setting's fixed parameters: ``params``, and the width of a random-projection
        sweep, which is kept in ``m``."""
        return {**self.params, **({} if self.m is None else {"m": self.m})}

    @property
    def outer_axes(self) -> tuple[str, ...]:
        """Axes that change the fixed point: the fast path's solve axes (n, m, lam for random
        projections), else the setting's SOLVE axes."""
        fast = self.setting_obj.fast_path
        return fast.solve if fast is not None else self.setting_obj.names(settings.SOLVE)

    @property
    def inner_axes(self) -> tuple[str, ...]:
        """Axes that only rescale or recombine terms: c2, sigma2, then the setting's other
        grid axes (p2 for ridge)."""
        others = (a for a in self.setting_obj.axes if a not in self.outer_axes)
        return ("c2", "sigma2", *others)

    def values(self, name: str) -> np.ndarray:
        """The values of an axis (or the fixed value as a one-element axis)."""
        if name in self.axes:
            return np.asarray(self.axes[name], dtype=np.float64)
        if name in self.setting_obj.names():
            value = self.setting_params.get(name, self.setting_obj.param(name).default)
            return np.asarray([value], dtype=np.float64)
        fixed = {"m": self.m, "lam": 0.0, "p2": 0.0, "c2": self.c2, "sigma2": self.sigma2}
        if self.family == "file" and name in ("c2", "sigma2"):
            stored = from_family("file", self.d, path=self.path)
            fixed = {"c2": float(stored.c2), "sigma2": float(stored.sigma2)}
        return np.asarray([fixed[name]], dtype=np.float64)

    @property
    def shape(self) -> tuple[int, ...]:
        """Grid shape over outer_axes + inner_axes (generic: over every sweep axis, a zipped
        group counting as one)."""
        if self.is_generic:
            groups = grid_groups(axis_names(self.setting_obj), self.zipped)
            return tuple(self.values(g[0]).size for g in groups)
        return tuple(self.values(a).size for a in (*self.outer_axes, *self.inner_axes))

    @property
    def size(self) -> int:
        """Number of grid points (per method)."""
        return int(np.prod(self.shape))

    def problem(self, c2: float | None = None, sigma2: float | None = None) -> Problem:
        """The Problem at the given c2 and sigma2 (defaults: the spec's fixed values)."""
        sigma2 = self.values("sigma2")[0] if sigma2 is None else sigma2
        c2 = self.values("c2")[0] if c2 is None else c2
        if self.family == "file":
            prob = from_family("file", self.d, path=self.path, c2=c2, sigma2=sigma2)
        elif self.family == "isotropic":
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
        if self.zipped:
            out["zipped"] = [list(group) for group in self.zipped]
        else:
            del out["zipped"]  # nor that of sweeps without zipped axes
        if self.path is None:
            del out["path"]
        else:  # an edited problem file is a new sweep
            out["path_sha256"] = hashlib.sha256(Path(self.path).read_bytes()).hexdigest()
        return out

    @property
    def hash(self) -> str:
        """A stable hash of the specification (any change gives a new hash)."""
        return config_hash(self.to_dict())

    # ------------------------------------------------------------------ TOML
    @classmethod
    def from_toml(cls, path: str | Path) -> Sweep:
        """Read a TOML specification (see the module doc); errors name the key and its line.

        Raises:
          SpecError: an unreadable or invalid file, or a spec that cannot run.
        """
        return cls.from_toml_text(*read_toml(path))

    @classmethod
    def from_toml_text(cls, text: str, source: str = "<toml>") -> Sweep:
        """Parse a TOML specification given as text (``source`` names it in errors)."""
        return cls.from_mapping(parse_toml(text, source), source=source, text=text)

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], source: str = "<spec>", text: str | None = None
    ) -> Sweep:
        """Build a Sweep from the nested tables of a TOML file (see the module doc)."""
        kwargs = sweep_keywords(data, source, text)
        try:
            return cls(**kwargs)
        except SpecError as err:
            raise with_location(err, kwargs, source, text) from None


def problem_of_row(row: Any) -> Problem:
    """The Problem behind one row of a sweep table (its fixed parameters, c2 and sigma2).

    ``row`` is anything with the table's columns as attributes (a ``DataFrame.itertuples()``
    row, for example).

    Example:
      >>> from simcollapse.sweep import run_sweep
      >>> table = run_sweep(Sweep(d=50, axes={"n": [100], "c2": [0.5]}, method="theory"))
      >>> row = next(table.itertuples())
      >>> problem_of_row(row).d, round(float(problem_of_row(row).c2), 12)
      (50, 0.5)
    """
    teacher = int(row.teacher_n0)
    decay = getattr(row, "problem_alpha", row.alpha)  # weighted tables: alpha is the loss share
    path = getattr(row, "problem_file", None)
    spec = Sweep(
        d=int(row.d), family=row.family, alpha=decay, source=row.source, signal=row.signal,
        teacher_n0=None if teacher < 0 else teacher, axes={"n": [row.n]}, path=path,
    )  # fmt: skip
    return spec.problem(c2=row.c2, sigma2=row.sigma2)
