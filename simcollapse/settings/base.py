"""The ``Setting`` value and its parameter declarations (protocol: the package doc)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from simcollapse._validate import check_broadcast, check_range
from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms
from simcollapse.simulate.driver import MonteCarlo

__all__ = ["LENGTH", "OPTION", "Param", "RECOMBINE", "SOLVE", "Setting", "SimulationOnly"]

SOLVE = "solve"  # a grid axis that needs a new fixed point or factorisation (n, m, lam)
RECOMBINE = "recombine"  # a grid axis that only recombines solved terms (p2 for ridge)
LENGTH = "length"  # an integer T giving a trailing axis t = 1..T (rounds, generations)
OPTION = "option"  # a static choice that is no grid axis (reuse_real, sample_size)
ROLES = (SOLVE, RECOMBINE, LENGTH, OPTION)
REQUIRED = object()


class SimulationOnly(NotImplementedError):
    """The setting (at these options) has no deterministic equivalent: simulate it instead.

    Example:
      >>> import simcollapse as sc
      >>> acc = sc.settings.get("accumulate")
      >>> try:
      ...     acc.theory(sc.Problem.isotropic(10), n=100, lam=1e-2, generations=2)
      ... except sc.SimulationOnly as err:
      ...     print(type(err).__name__)
      SimulationOnly
    """


@dataclasses.dataclass(frozen=True)
class Param:
    """One parameter of a setting.

    Attributes:
      name: the keyword (and sweep axis / CLI flag) name.
      role: SOLVE, RECOMBINE, LENGTH or OPTION (see the package doc).
      low, high: the allowed closed range (None: unbounded). integer: whole numbers only.
      default: the value when not given (``REQUIRED``: must be given).
      doc: one line for ``--help`` and the docs.

    Example:
      >>> p2 = Param("p2", RECOMBINE, low=0.0, high=1.0, default=0.0, doc="synthetic fraction")
      >>> p2.is_axis, p2.check(0.3)
      (True, 0.3)
    """

    name: str
    role: str
    low: float | None = None
    high: float | None = None
    integer: bool = False
    default: Any = REQUIRED
    doc: str = ""

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"Param {self.name!r}: role must be one of {ROLES}, got {self.role!r}")

    @property
    def is_axis(self) -> bool:
        """True for a grid axis (SOLVE or RECOMBINE)."""
        return self.role in (SOLVE, RECOMBINE)

    def check(self, value: Any) -> Any:
        """The validated value (a Python int for LENGTH); a ValueError naming the parameter."""
        if self.role == OPTION and isinstance(self.default, bool):
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"{self.name} must be True or False, got {value!r}")
            return bool(value)
        if value is None and self.role == OPTION:
            return None
        if isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{self.name} must be a number, got {value!r}")
        if self.role in (LENGTH, OPTION) and np.ndim(value) != 0:
            raise ValueError(f"{self.name} must be a single integer, got {value!r}")
        check_range(self.name, value, self.low, self.high, integer=self.integer)
        return int(value) if self.role in (LENGTH, OPTION) and self.integer else value


TheoryFn = Callable[[Problem, dict[str, Any], bool], ErrorTerms]
SimulateFn = Callable[[Problem, dict[str, Any], MonteCarlo], ErrorTerms]


@dataclasses.dataclass(frozen=True)
class Setting:
    """A way of training on real and synthetic data, with its theory and its Monte Carlo.

    Attributes:
      name: registry name (lower case, underscores).
      doc: one paragraph: what is trained on what, and the paper's result it implements.
      params: the parameters, in call order.
      theory_fn: (problem, params, throw) -> ErrorTerms, validated inputs; None if no theory.
      terms_fn: the pure, jittable theory: terms_fn(problem, *values) with the SOLVE, RECOMBINE
        and LENGTH values in declared order, the axes already of one shape (None: no theory).
      simulate_fn: (problem, params, mc) -> ErrorTerms, the Monte Carlo through the driver.
      kernels: name -> per-draw kernel (``simulate.driver``); "exact" is the default.
      no_theory: why there is no theory (None if there is one); ``no_theory_if`` gives a
        reason for some parameter values only (e.g. reused real rows).
      check: extra checks across parameters (e.g. weights on empty populations).
      trailing: the name of the trailing axis a LENGTH parameter adds ("round", "generation").
      examples: parameter sets (three or more points each) for the docs and the conformance
        tests, where theory and Monte Carlo must agree.
      ridge_case: (n, lam) -> (params, p2): parameters at which the setting is plain ridge at
        (n, lam, p2), checked draw for draw by the conformance tests (None: no such case).
      version: an explicit version of the setting's formulas, part of a stored sweep chunk's
        key (None: a fingerprint of the source of the modules defining its functions is used).

    Example:
      >>> import simcollapse as sc
      >>> ridge = sc.settings.get("ridge")
      >>> ridge.name, [p.name for p in ridge.params]
      ('ridge', ['n', 'lam', 'p2'])
      >>> prob = sc.Problem.isotropic(50, c2=1.0)
      >>> ridge.theory(prob, n=[100, 400], lam=1e-2, p2=0.1).total.shape
      (2,)
    """

    name: str
    doc: str
    params: tuple[Param, ...]
    simulate_fn: SimulateFn
    kernels: Mapping[str, Callable[..., Any]]
    theory_fn: TheoryFn | None = None
    terms_fn: Callable[..., ErrorTerms] | None = None
    no_theory: str | None = None
    no_theory_if: Callable[[dict[str, Any]], str | None] | None = None
    check: Callable[[dict[str, Any]], None] | None = None
    trailing: str | None = None
    examples: tuple[Mapping[str, Any], ...] = ()
    ridge_case: Callable[[Any, Any], tuple[dict[str, Any], float]] | None = None
    version: str | None = None

    def __post_init__(self) -> None:
        if (self.theory_fn is None) == (self.no_theory is None):
            raise ValueError(
                f"setting {self.name!r}: give exactly one of theory_fn and no_theory (a reason)"
            )
        if "exact" not in self.kernels:
            raise ValueError(f"setting {self.name!r}: kernels must include 'exact'")

    # ------------------------------------------------------------------ declarations
    def param(self, name: str) -> Param:
        """The declaration of one parameter; a ValueError naming the known ones."""
        for p in self.params:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.params)
        raise ValueError(f"setting {self.name!r} has no parameter {name!r}; known: {known}")

    def names(self, *roles: str) -> tuple[str, ...]:
        """Parameter names with one of ``roles`` (all if none given), in call order."""
        return tuple(p.name for p in self.params if not roles or p.role in roles)

    @property
    def axes(self) -> tuple[str, ...]:
        """Grid axes: SOLVE then RECOMBINE parameters."""
        return self.names(SOLVE) + self.names(RECOMBINE)

    @property
    def length(self) -> str | None:
        """The LENGTH parameter (rounds, generations), if any."""
        found = self.names(LENGTH)
        return found[0] if found else None

    def reason_no_theory(self, params: Mapping[str, Any]) -> str | None:
        """Why these parameters have no theory, or None when they have one."""
        if self.no_theory is not None:
            return self.no_theory
        options = {p.name: p.default for p in self.params if p.role == OPTION}
        return None if self.no_theory_if is None else self.no_theory_if({**options, **params})

    # ------------------------------------------------------------------ calls
    def resolve(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults filled in, every value checked, axes broadcastable.

        Raises:
          ValueError: an unknown or missing parameter, a value outside its range (naming it).
        """
        unknown = set(params) - set(self.names())
        if unknown:
            known = ", ".join(self.names())
            raise ValueError(
                f"setting {self.name!r}: unknown parameter(s) {sorted(unknown)}; known: {known}"
            )
        out: dict[str, Any] = {}
        for p in self.params:
            if p.name not in params and p.default is REQUIRED:
                raise ValueError(f"setting {self.name!r} needs the parameter {p.name!r}")
            out[p.name] = p.check(params.get(p.name, p.default))
        check_broadcast(**{k: out[k] for k in self.axes})
        if self.check is not None:
            self.check(out)
        return out

    def theory(self, problem: Problem, *, throw: bool = True, **params: Any) -> ErrorTerms:
        """The deterministic equivalent (float64): shape broadcast(axes) [+ (T,)].

        Raises:
          SimulationOnly: the setting has no theory at these parameters (the message says why).
          ValueError: bad parameters.  FixedPointError: no convergence and ``throw``.
        """
        if not isinstance(problem, Problem):
            raise TypeError(f"problem must be a simcollapse.Problem, got {type(problem).__name__}")
        resolved = self.resolve(params)
        reason = self.reason_no_theory(resolved)
        if reason is not None or self.theory_fn is None:
            raise SimulationOnly(f"setting {self.name!r} is simulation only: {reason}")
        return self.theory_fn(problem, resolved, throw)

    def simulate(self, problem: Problem, mc: MonteCarlo, **params: Any) -> ErrorTerms:
        """The Monte Carlo estimate: the theory's shape, ``stderr`` the error of ``total``."""
        if not isinstance(problem, Problem):
            raise TypeError(f"problem must be a simcollapse.Problem, got {type(problem).__name__}")
        if not isinstance(mc, MonteCarlo):
            raise TypeError(f"mc must be a simcollapse.MonteCarlo, got {type(mc).__name__}")
        return self.simulate_fn(problem, self.resolve(params), mc)

    def terms(self, problem: Problem, **params: Any) -> ErrorTerms:
        """The pure, jittable theory (no validation, no float64 switch): axes must share a shape.

        Raises:
          SimulationOnly: no theory.
        """
        if self.terms_fn is None:
            raise SimulationOnly(f"setting {self.name!r} is simulation only: {self.no_theory}")
        return self.terms_fn(problem, *(params[k] for k in self.names(SOLVE, RECOMBINE, LENGTH)))
