"""Settings: every way simcollapse trains on real and synthetic data, behind one protocol.

The protocol. A setting is a ``Setting`` value (``settings.base``) holding

* ``name`` and ``params``: its parameters, each a ``Param`` with a range and a role:

  - SOLVE: a grid axis that needs a new fixed point or factorisation (n, m, lam, and p2 or
    alpha where they enter the fixed point);
  - RECOMBINE: a grid axis that only recombines solved terms (p2 of ridge); a sweep solves the
    SOLVE axes once and broadcasts these, as it does the problem's c2 and sigma2;
  - LENGTH: an integer T adding a trailing axis t = 1..T (rounds, generations); entry t does
    not depend on T, so a sweep over T computes the largest once;
  - OPTION: a static choice (reuse_real, sample_size);

* ``theory(problem, **params)``: the deterministic equivalent (float64, validated), and
  ``terms(problem, **params)`` the same as a pure, jittable function; or, for a setting without
  a closed form, ``no_theory`` (a reason) and ``theory`` raises ``SimulationOnly`` with it;
* ``simulate(problem, mc, **params)``: the Monte Carlo, a ``MonteCarlo(key, reps, dtype,
  batch)`` run through the one driver (``simulate.driver.run``) with the setting's per-draw
  kernel;
* optionally ``fast_path``, a ``FastPath``: the axes that need a new solve, the pure function
  evaluating a batch of solve points at every value of the other axes, and the matching
  Monte Carlo kernel and cost model; a sweep then solves once per solve point and recombines
  the rest (ridge, random projections). Without one, a sweep runs the setting point by point.

Theory and simulation take the same parameters and return ``ErrorTerms`` of the same shape:
broadcast(axes), plus (T,) for a LENGTH parameter. Everything downstream (sweeps, the CLI,
figures) asks the registry, never switches on a name:

  >>> import simcollapse as sc
  >>> from simcollapse import settings
  >>> settings.names()[:3]
  ('ridge', 'random_projection', 'weighted')
  >>> w = settings.get("weighted")
  >>> prob = sc.Problem.power_law(100, c2=0.5)
  >>> w.theory(prob, n=[200, 400], lam=1e-3, p2=0.5, alpha=0.2).total.shape
  (2,)

A new setting is one module with a ``Setting`` and one ``settings.register(...)`` call
(docs/extending.md), or, from a package of its own, an entry point in the group
``simcollapse.settings`` naming a ``Setting`` or a callable returning one: installed settings
are found on the first ``names()`` or ``get()`` and appear in the CLI, TOML sweeps and the
store like the built-ins. A plugin that fails to load is one warning naming it.
"""

from __future__ import annotations

import importlib.metadata
import warnings

from simcollapse._aliases import SETTING_ALIASES, warn_old
from simcollapse.settings import (
    accumulate,
    accumulate_subsample,
    golden,
    iterative,
    random_projection,
    replace,
    ridge,
    verified,
    weighted,
)
from simcollapse.settings.base import (
    LENGTH,
    OPTION,
    RECOMBINE,
    SOLVE,
    FastPath,
    Param,
    Setting,
    SimulationOnly,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "FastPath",
    "LENGTH",
    "OPTION",
    "RECOMBINE",
    "SOLVE",
    "Param",
    "Setting",
    "SimulationOnly",
    "get",
    "load_plugins",
    "names",
    "register",
    "unregister",
]

ALIASES = SETTING_ALIASES  # older names (the one table: simcollapse._aliases)
_REGISTRY: dict[str, Setting] = {}
ENTRY_POINT_GROUP = "simcollapse.settings"
_PLUGINS_LOADED = False


def register(setting: Setting, *, replace: bool = False) -> Setting:
    """Add a setting to the registry (and so to sweeps, the CLI and the conformance tests).

    Args:
      setting: the Setting.  replace: allow replacing a setting of the same name.

    Returns:
      The setting (so a module can write ``SETTING = register(Setting(...))``).

    Raises:
      ValueError: the name is taken (and not ``replace``) or is not an identifier.
      TypeError: not a Setting.

    Example:
      >>> import dataclasses, simcollapse as sc
      >>> mine = dataclasses.replace(sc.settings.get("ridge"), name="my_ridge")
      >>> sc.settings.register(mine).name in sc.settings.names()
      True
      >>> sc.settings.unregister("my_ridge")
      >>> "my_ridge" in sc.settings.names()
      False
    """
    if not isinstance(setting, Setting):
        raise TypeError(f"register expects a Setting, got {type(setting).__name__}")
    if not setting.name.isidentifier():
        raise ValueError(f"setting name must be an identifier, got {setting.name!r}")
    if setting.name in _REGISTRY and not replace:
        raise ValueError(f"a setting named {setting.name!r} is registered; pass replace=True")
    _REGISTRY[setting.name] = setting
    return setting


def unregister(name: str) -> None:
    """Remove a setting from the registry (a ValueError if there is none of that name).

    Example:
      >>> import dataclasses, simcollapse as sc
      >>> sc.settings.register(dataclasses.replace(sc.settings.get("ridge"), name="tmp_ridge")).name
      'tmp_ridge'
      >>> sc.settings.unregister("tmp_ridge")
      >>> "tmp_ridge" in sc.settings.names()
      False
    """
    if name not in _REGISTRY:
        raise ValueError(f"unknown setting {name!r}; known settings: {', '.join(names())}")
    del _REGISTRY[name]


def get(name: str | Setting) -> Setting:
    """The registered setting of that name (or the Setting itself).

    Raises:
      ValueError: an unknown name, listing the known ones.

    Example:
      >>> import simcollapse as sc
      >>> [p.name for p in sc.settings.get("weighted").params]
      ['n', 'lam', 'p2', 'alpha']
    """
    if isinstance(name, Setting):
        return name
    load_plugins()
    if isinstance(name, str) and name in ALIASES:
        warn_old(name)
        name = ALIASES[name]
    key = name
    if key not in _REGISTRY:
        raise ValueError(f"unknown setting {name!r}; known settings: {', '.join(names())}")
    return _REGISTRY[key]


def names() -> tuple[str, ...]:
    """The registered setting names, in registration order.

    Example:
      >>> import simcollapse as sc
      >>> sc.settings.names()[:3]
      ('ridge', 'random_projection', 'weighted')
    """
    load_plugins()
    return tuple(_REGISTRY)


def load_plugins(*, reload: bool = False) -> tuple[str, ...]:
    """Register the settings of installed packages (entry-point group ``simcollapse.settings``).

    Each entry point names a ``Setting`` or a callable returning one. Runs once (``names`` and
    ``get`` call it); ``reload=True`` looks again (after installing a package in a running
    process). A plugin that fails to import, returns no Setting, or takes a registered name
    gives one ``RuntimeWarning`` naming it and is skipped.

    Returns:
      The names registered by this call.

    Example:
      >>> import simcollapse as sc
      >>> isinstance(sc.settings.load_plugins(), tuple)
      True
    """
    global _PLUGINS_LOADED
    if _PLUGINS_LOADED and not reload:
        return ()
    _PLUGINS_LOADED = True
    added = []
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
            setting = obj if isinstance(obj, Setting) else obj()
            if not isinstance(setting, Setting):
                raise TypeError(f"{ep.value} gives a {type(setting).__name__}, not a Setting")
            if _REGISTRY.get(setting.name) is setting:
                continue
            register(setting)
        except Exception as err:  # noqa: BLE001 - a broken plugin must not break simcollapse
            warnings.warn(
                f"simcollapse settings plugin {ep.name!r} ({ep.value}) was not loaded: "
                f"{type(err).__name__}: {err}",
                RuntimeWarning,
                stacklevel=2,
            )
            continue
        added.append(setting.name)
    return tuple(added)


for _module in (
    ridge, random_projection, weighted, iterative, replace, accumulate, accumulate_subsample,
    verified,
    golden,
):  # fmt: skip
    register(_module.SETTING)
del _module
