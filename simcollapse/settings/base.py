"""The ``Setting`` value and its parameter declarations (protocol: the package doc)."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from typing import Any

import jax
import numpy as np

from simcollapse._validate import check_broadcast, check_range
from simcollapse.problem import Problem
from simcollapse.results import ErrorTerms
from simcollapse.simulate import driver
from simcollapse.simulate.driver import MonteCarlo
from simcollapse.theory._common import raise_if_failed, run_x64

__all__ = [
    "FastPath",
    "LENGTH",
    "OPTION",
    "Param",
    "RECOMBINE",
    "SOLVE",
    "Setting",
    "SimulationOnly",
    "scale_terms",
]

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
      low, high: the allowed closed range (None: unbounded); low_open excludes ``low`` itself.
        integer: whole numbers only.
      default: the value when not given (``REQUIRED``: must be given).
      doc: one line for ``--help`` and the docs.
      choices: the allowed strings of an OPTION that names a choice (the design of a loop).

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
    low_open: bool = False
    choices: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"Param {self.name!r}: role must be one of {ROLES}, got {self.role!r}")
        if self.choices is not None and self.role != OPTION:
            raise ValueError(f"Param {self.name!r}: only an OPTION takes choices")

    @property
    def is_axis(self) -> bool:
        """True for a grid axis (SOLVE or RECOMBINE)."""
        return self.role in (SOLVE, RECOMBINE)

    def check(self, value: Any) -> Any:
        """The validated value (a Python int for LENGTH); a ValueError naming the parameter."""
        if self.choices is not None:
            if not isinstance(value, str) or value not in self.choices:
                allowed = ", ".join(self.choices)
                raise ValueError(f"{self.name} must be one of {allowed}, got {value!r}")
            return value
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
        check_range(
            self.name, value, self.low, self.high, low_open=self.low_open, integer=self.integer
        )
        return int(value) if self.role in (LENGTH, OPTION) and self.integer else value


def scale_terms(unit: ErrorTerms, zeta_scale: np.ndarray, sigma2: np.ndarray) -> ErrorTerms:
    """Terms at every (c2, sigma2) from the terms at the unit problem (c2 = sigma2 = 1).

    The fixed points depend on neither c2 nor sigma2: with B, V, Z the bias, variance and zeta
    at the unit problem (shape (P, R)),

        bias = B,  variance = sigma2 V,  zeta = s Z,  total = bias + variance + zeta,

    where s is the zeta scale: c2 for a label shift (zeta is linear in tr(Sigma Delta)), sigma2
    for an OLS teacher on n0 real rows (its shift is proportional to the noise).

    Args:
      unit: ErrorTerms of shape (P, R) at c2 = sigma2 = 1.
      zeta_scale: (C, S) the scale s of zeta at each (c2, sigma2).  sigma2: (S,) the noise.

    Returns:
      ErrorTerms of shape (P, C, S, R), stderr 0 and the status of each solve point.

    Example:
      >>> import numpy as np
      >>> unit = ErrorTerms(*(np.ones((1, 2)),) * 5, status=np.zeros((1, 2), int))
      >>> out = scale_terms(unit, np.array([[0.5, 0.5]]), np.array([1.0, 2.0]))
      >>> out.total.shape, out.total[0, 0, :, 0].tolist()
      ((1, 1, 2, 2), [2.5, 3.5])
    """
    bias, variance, zeta, status = (
        np.asarray(getattr(unit, k)) for k in ("bias", "variance", "zeta", "status")
    )
    shape = (bias.shape[0], *zeta_scale.shape, bias.shape[1])
    bias = np.broadcast_to(bias[:, None, None, :], shape)
    variance = np.broadcast_to(variance[:, None, None, :] * sigma2[None, None, :, None], shape)
    zeta = np.broadcast_to(zeta[:, None, None, :] * zeta_scale[None, :, :, None], shape)
    return ErrorTerms(
        bias=bias, variance=variance, zeta=zeta, total=bias + variance + zeta,
        stderr=np.zeros(shape), status=np.broadcast_to(status[:, None, None, :], shape),
    )  # fmt: skip


def gram_draw_flops(d: int, shape: Mapping[str, int], points: int) -> float:
    """Work of one ridge draw on the d raw features: the Gram matrix (2 n d^2), its
    eigendecomposition (~10 d^3) and the solves of every point (4 d^2 each), see
    ``features_draw_flops``."""
    return features_draw_flops(float(shape["n"]), float(d), float(d), points)


def gram_draw_bytes(d: int, shape: Mapping[str, int], points: int, itemsize: int) -> int:
    """Peak bytes of one ridge draw on the d raw features (``features_draw_bytes``, k = d)."""
    return features_draw_bytes(int(shape["n"]), d, d, points, itemsize)


def features_draw_flops(
    n: float, d: float, k: float, points: int, projection: float = 0.0
) -> float:
    """Work of one draw of ridge on k features of d inputs at ``points`` (lam, p2) points:

        projection + 2 n d^2 + n k^2 + 10 k^3 + 4 points k^2

    (data, Gram matrix, eigendecomposition, per-point solves; ``projection`` the work of
    projecting the inputs, 0 for raw features).

    Example:
      >>> features_draw_flops(100.0, 10.0, 10.0, 2)
      40800.0
    """
    return projection + 2.0 * n * d * d + n * k * k + 10.0 * k**3 + 4.0 * points * k * k


def features_draw_bytes(n: int, d: int, k: int, points: int, itemsize: int) -> int:
    """Peak bytes of one draw of ridge on k features of d inputs at ``points`` points:
    itemsize (3 n d + 4 n K + 3 K^2 + 4 points (d + r)), K = max(k, r), r = min(n, k).

    Example:
      >>> features_draw_bytes(100, 10, 10, 2, 8)
      59680
    """
    r = min(n, k)
    return itemsize * (3 * n * d + 4 * n * max(k, r) + 3 * max(k, r) ** 2 + 4 * points * (d + r))


def spectrum_passes(d: int) -> float:
    """Work of one theory solve point: twelve passes over the spectrum of size d (a table, the
    Newton steps, the final sums)."""
    return 12.0 * d


@dataclasses.dataclass(frozen=True)
class FastPath:
    """How a sweep evaluates a setting in bulk: one solve per point of ``solve``, then every
    other grid axis, c2 and sigma2 by recombination (a setting without one runs point by point).

    Theory. With the problem at c2 = sigma2 = 1 (``unit``) and R the setting's other grid axes
    (RECOMBINE, in declared order), the sweep calls ``outer((unit, *values of R), *solve
    arrays)`` on flat arrays of shape (P,) over the product of the ``solve`` axes; it returns
    ErrorTerms of shape (P, *sizes of R). ``outer`` must be pure and jittable and a module-level
    function: the sweep jits it, one compile per shape serving every chunk. ``recombine(terms,
    zeta_scale, sigma2)`` (default ``scale_terms``) then gives every (c2, sigma2).

    Simulation. One table of draws per point of ``shape_axes`` (the axes fixed in a draw's
    factorisation, n first), covering the product of the setting's other grid axes:
    ``prepare(shape, points, dtype) -> (kernel arrays, static keywords)`` turns the shape's
    values (ints) and the points' flat values into the inputs of ``kernel`` (a per-draw kernel,
    ``simulate.driver.map_draws``), the driver's one convention (``simulate.driver.Prepare``).
    None: the sweep simulates through ``Setting.simulate``.

    Cost. ``draw_flops(d, shape, points)`` and ``draw_bytes(d, shape, points, itemsize)``: the
    floating-point work and the peak bytes of one draw at ``points`` points (progress bar,
    ``--dry-run`` estimate, chunk plan; default: ridge on the d raw features); ``solve_flops(d)``:
    the work of one theory solve point (default: twelve passes over the spectrum).

    Attributes:
      solve: the axes that need a new solve (a fixed point or a factorisation).
      outer: the batch theory at solve points, as above.
      shape_axes: the axes fixed in one draw's factorisation, n first.
      kernel: the per-draw Monte Carlo kernel (None: through ``Setting.simulate``).
      prepare: the kernel's inputs at one shape, as above.
      draw_flops: the work of one draw. draw_bytes: its peak bytes.
      recombine: every (c2, sigma2) from the unit problem's terms.
      solve_flops: the work of one theory solve point.
      status: (d, coordinates) -> the status of each simulated point, as ``Setting.simulate``
        reports it (e.g. THRESHOLD where a ridgeless design is square); None: CONVERGED.

    Example:
      >>> import jax, numpy as np, simcollapse as sc
      >>> ridge = sc.settings.get("ridge")
      >>> fast = ridge.fast_path
      >>> fast.solve, fast.shape_axes
      (('n', 'lam'), ('n',))
      >>> unit = sc.Problem.isotropic(20, c2=1.0, sigma2=1.0)
      >>> n, lam, p2 = np.array([40.0, 80.0]), np.array([1e-2, 1e-1]), np.array([0.0, 0.5])
      >>> with jax.enable_x64(True):
      ...     out = fast.outer((unit, p2), n, lam)
      >>> out.total.shape
      (2, 2)
      >>> th = ridge.theory(unit, n=n, lam=lam, p2=0.5)
      >>> bool(np.allclose(out.total[:, 1], th.total, rtol=1e-10))
      True
    """

    solve: tuple[str, ...]
    outer: Callable[..., ErrorTerms]
    shape_axes: tuple[str, ...] = ("n",)
    kernel: Callable[..., Any] | None = None
    prepare: driver.Prepare | None = None
    draw_flops: Callable[[int, Mapping[str, int], int], float] = gram_draw_flops
    draw_bytes: Callable[[int, Mapping[str, int], int, int], int] = gram_draw_bytes
    recombine: Callable[[ErrorTerms, np.ndarray, np.ndarray], ErrorTerms] = scale_terms
    solve_flops: Callable[[int], float] = spectrum_passes
    status: Callable[[int, Mapping[str, np.ndarray]], np.ndarray] | None = None

    def __post_init__(self) -> None:
        if self.prepare is not None:
            driver.check_prepare(self.prepare)

    def check(self, setting: Setting) -> None:
        """A ValueError (one line) when the declaration does not fit ``setting``'s parameters."""
        where = f"setting {setting.name!r}: fast_path"
        # options are allowed: the fast path computes their defaults, and a sweep that sets one
        # otherwise takes the setting's own theory (Sweep.fast_path)
        extra = [p.name for p in setting.params if not p.is_axis and p.role != OPTION]
        if extra:
            raise ValueError(f"{where} needs grid axes and options only, not {', '.join(extra)}")
        if not set(setting.names(SOLVE)) <= set(self.solve) <= set(setting.axes):
            raise ValueError(
                f"{where}.solve must hold every SOLVE axis and only grid axes of "
                f"{setting.axes}, got {self.solve}"
            )
        if self.shape_axes[:1] != ("n",) or not set(self.shape_axes) <= set(self.solve):
            raise ValueError(
                f"{where}.shape_axes must start with n and be solve axes, got {self.shape_axes}"
            )
        if (self.kernel is None) != (self.prepare is None):
            raise ValueError(f"{where}: give kernel and prepare together, or neither")

    def recombined(self, setting: Setting) -> tuple[str, ...]:
        """The grid axes evaluated inside ``outer`` (not solved): RECOMBINE axes, in order."""
        return tuple(a for a in setting.axes if a not in self.solve)


TheoryFn = Callable[[Problem, dict[str, Any], bool], ErrorTerms]
SimulateFn = Callable[[Problem, dict[str, Any], MonteCarlo], ErrorTerms]


@dataclasses.dataclass(frozen=True)
class Setting:
    """A way of training on real and synthetic data, with its theory and its Monte Carlo.

    Attributes:
      name: registry name (lower case, underscores).
      doc: one paragraph: what is trained on what, and the paper's result it implements.
      params: the parameters, in call order.
      terms_fn: the pure, jittable theory: terms_fn(problem, *values) with the SOLVE, RECOMBINE
        and LENGTH values in declared order, the axes already of one shape (None: no theory).
      theory_fn: (problem, params, throw) -> ErrorTerms on validated inputs, when the setting
        has a faster concrete path than ``terms_fn``; None: derived from ``terms_fn`` (float64,
        jit, thresholds and ``throw`` as for the built-ins, see ``from_terms``).
      simulate_fn: (problem, params, mc) -> ErrorTerms, the Monte Carlo through the driver.
      no_theory: why there is no theory: a reason (simulation only), a callable
        ``params -> reason or None`` for a theory at some parameter values only (e.g. not
        with reused real rows), or None (a theory everywhere).
      check: extra checks across parameters (e.g. weights on empty populations).
      examples: parameter sets (three or more points each) for the docs and the conformance
        tests, where theory and Monte Carlo must agree.
      ridge_case: (n, lam) -> (params, p2): parameters at which the setting is plain ridge at
        (n, lam, p2), checked draw for draw by the conformance tests (None: no such case).
      version: an explicit version of the setting's formulas, part of a stored sweep chunk's
        key (None: a fingerprint of the source of the modules defining its functions is used).
      fast_path: what a sweep needs to solve once per point of some axes and recombine the
        rest (``FastPath``); None: a sweep evaluates the setting point by point.

    Example:
      >>> import simcollapse as sc
      >>> ridge = sc.settings.get("ridge")
      >>> ridge.name, [p.name for p in ridge.params]
      ('ridge', ['n', 'lam', 'p2', 'ols'])
      >>> prob = sc.Problem.isotropic(50, c2=1.0)
      >>> ridge.theory(prob, n=[100, 400], lam=1e-2, p2=0.1).total.shape
      (2,)
    """

    name: str
    doc: str
    params: tuple[Param, ...]
    simulate_fn: SimulateFn
    theory_fn: TheoryFn | None = None
    terms_fn: Callable[..., ErrorTerms] | None = None
    no_theory: str | Callable[[dict[str, Any]], str | None] | None = None
    check: Callable[[dict[str, Any]], None] | None = None
    examples: tuple[Mapping[str, Any], ...] = ()
    ridge_case: Callable[[Any, Any], tuple[dict[str, Any], float]] | None = None
    version: str | None = None
    fast_path: FastPath | None = None

    def __post_init__(self) -> None:
        has_theory = self.theory_fn is not None or self.terms_fn is not None
        if has_theory == isinstance(self.no_theory, str):
            raise ValueError(
                f"setting {self.name!r}: give exactly one of terms_fn and no_theory (a reason)"
            )
        if self.fast_path is not None:
            self.fast_path.check(self)

    @classmethod
    def from_terms(
        cls,
        name: str,
        doc: str,
        params: tuple[Param, ...],
        terms: Callable[..., ErrorTerms] | None,
        kernel: Callable[..., Any],
        *,
        prepare: driver.Prepare | None = None,
        group_by: tuple[str, ...] = ("n",),
        **fields: Any,
    ) -> Setting:
        """A setting from its pure theory and its per-draw kernel: everything else derived.

        The theory (``Setting.theory``) runs ``terms`` jit-compiled in float64 on the broadcast
        axes, reports points on an interpolation threshold as inf with ``Status.THRESHOLD``
        (never an error) and raises ``FixedPointError`` for a failed point when ``throw`` (the
        built-ins' behaviour: ``theory.run_x64``, ``theory.raise_if_failed``). The Monte Carlo
        runs ``kernel`` through the one driver (``simulate.driver.run``), grouped by
        ``group_by``, with LENGTH and OPTION values and ``dtype`` as static keywords.

        Args:
          name, doc, params: as the fields.
          terms: terms(problem, *values), SOLVE, RECOMBINE and LENGTH values in declared order
            (None with ``no_theory=...`` in ``fields``: simulation only).
          kernel: kernel(problem, rep_key, *arrays, n=n, dtype=dtype, **static) -> (P, ..., 4).
          prepare: ``prepare(shape, points, dtype) -> (kernel arrays, extra static keywords)``,
            the one convention of the driver and of ``FastPath`` (``simulate.driver.Prepare``);
            None: the axes outside ``group_by`` in declared order, cast to ``dtype``.
          group_by: axes static in the kernel (n first).
          fields: any other field (examples, ridge_case, check, no_theory).

        Example:
          >>> import simcollapse as sc
          >>> from simcollapse.settings import Setting
          >>> from simcollapse.settings._params import LAM, P2, N
          >>> from simcollapse.simulate.engine import ridge_kernel
          >>> from simcollapse.theory import ridge_terms
          >>> mine = Setting.from_terms("mine", "ridge again", (N, LAM, P2), ridge_terms,
          ...                           ridge_kernel)
          >>> prob = sc.Problem.isotropic(20, c2=1.0)
          >>> mine.theory(prob, n=[10, 20], lam=0.0, p2=0.1).status.tolist()  # n = d: inf
          [0, 4]
        """
        if prepare is not None:
            driver.check_prepare(prepare)
        setting = cls(name=name, doc=doc, params=params, terms_fn=terms, simulate_fn=_unset,
                      **fields)  # fmt: skip
        sim = functools.partial(_simulate_kernel, setting, kernel, prepare, group_by)
        return dataclasses.replace(setting, simulate_fn=sim)

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
    def has_theory(self) -> bool:
        """True when the setting has a deterministic equivalent (at some parameters)."""
        return not isinstance(self.no_theory, str)

    @property
    def trailing(self) -> str | None:
        """The name of the trailing axis the LENGTH parameter adds ("round", "generation")."""
        return None if self.length is None else self.length.removesuffix("s")

    @property
    def length(self) -> str | None:
        """The LENGTH parameter (rounds, generations), if any."""
        found = self.names(LENGTH)
        return found[0] if found else None

    def reason_no_theory(self, params: Mapping[str, Any]) -> str | None:
        """Why these parameters have no theory, or None when they have one."""
        if self.no_theory is None or isinstance(self.no_theory, str):
            return self.no_theory
        options = {p.name: p.default for p in self.params if p.role == OPTION}
        return self.no_theory({**options, **params})

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
        if reason is not None:
            raise SimulationOnly(f"setting {self.name!r} is simulation only: {reason}")
        if self.theory_fn is not None:
            return self.theory_fn(problem, resolved, throw)
        return _theory_of_terms(self, problem, resolved, throw)

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


def _unset(*args: Any) -> ErrorTerms:  # placeholder until from_terms binds the simulation
    raise NotImplementedError


@functools.cache
def _jitted_terms(terms_fn: Callable[..., ErrorTerms], order: tuple[str, ...],
                  axes: tuple[str, ...], static: tuple[tuple[str, int], ...]) -> Any:  # fmt: skip
    def fn(problem: Problem, *arrays: Any) -> ErrorTerms:
        values = {**dict(zip(axes, arrays, strict=True)), **dict(static)}
        return terms_fn(problem, *(values[k] for k in order))

    return jax.jit(fn)


def _theory_of_terms(
    setting: Setting, problem: Problem, p: dict[str, Any], throw: bool
) -> ErrorTerms:
    """``terms_fn`` on validated parameters: float64, flat points, thresholds, ``throw``."""
    axes = setting.axes
    arrays = np.broadcast_arrays(*(np.asarray(p[k], np.float64) for k in axes))
    shape = arrays[0].shape
    static = tuple((k, int(p[k])) for k in setting.names(LENGTH))
    fn = _jitted_terms(setting.terms_fn, setting.names(SOLVE, RECOMBINE, LENGTH), axes, static)
    flat = run_x64(fn, problem, *(a.ravel() for a in arrays))
    out = ErrorTerms(*(np.asarray(v).reshape(shape + np.shape(v)[1:]) for v in flat))
    if throw:
        trail = (slice(None),) * len(shape) + (None,) * (np.ndim(out.status) - len(shape))
        raise_if_failed(
            out, setting.name, **{k: a[trail] for k, a in zip(axes, arrays, strict=True)}
        )
    return out


def _simulate_kernel(
    setting: Setting,
    kernel: Callable[..., Any],
    prepare: driver.Prepare | None,
    group_by: tuple[str, ...],
    problem: Problem,
    p: dict[str, Any],
    mc: MonteCarlo,
) -> ErrorTerms:
    """The Monte Carlo of a ``from_terms`` setting through the one driver."""
    dt = mc.np_dtype
    traced = tuple(a for a in setting.axes if a not in group_by)

    def default(shape: Mapping[str, int], f: Mapping[str, np.ndarray], dtype: Any) -> tuple:
        return tuple(f[a].astype(dtype) for a in traced), {}

    static = {"dtype": dt, **{k: p[k] for k in setting.names(LENGTH, OPTION)}}
    grid = {k: p[k] for k in setting.axes}
    return driver.run(kernel, problem, grid, mc, group_by=group_by, prepare=prepare or default,
                      static=static)  # fmt: skip
