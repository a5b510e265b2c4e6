"""Command-line flags for the parameters of every registered setting (``--setting NAME``).

Each parameter of a registered setting is a flag: grid axes take comma-separated lists (the
grid is their full product), lengths an integer, options a value (booleans: a switch). A
parameter whose name is taken by a problem flag (weighted's ``alpha``, the problem's spectral
decay) is spelled ``--<setting>-<name>`` (``--weighted-alpha``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import numpy as np

from simcollapse import settings
from simcollapse.settings.base import REQUIRED
from simcollapse.sweep.axes import SpecError, resolve_setting

# Defaults of the grid flags (those of the older ridge / random-projection CLI). The width m of
# random projections has none: --m is required with --setting rp.
LEGACY = {"n": [1000], "lam": [0.0], "p2": [0.1]}


def _flag(setting_name: str, name: str, taken: set[str]) -> str:
    flag = "--" + name.replace("_", "-")
    return f"--{setting_name}-{name}".replace("_", "-") if flag in taken else flag


def _help(prm: Any, setting_name: str) -> str:
    """A parameter's help with its default, or the settings that require it."""

    default = LEGACY.get(prm.name, prm.default)
    if default is REQUIRED:
        return f"{prm.doc} (required with --setting {setting_name})"
    if default is None:
        return prm.doc
    if isinstance(default, list):
        default = ",".join(f"{v:g}" for v in default)
    return f"{prm.doc} [{default}]"


def add_setting_args(
    p: argparse.ArgumentParser, floats: Callable[[str], list], ints: Callable[[str], list]
) -> None:
    """``--setting`` (``--model`` kept as its older spelling) and one flag per parameter."""

    g = p.add_argument_group("setting")
    names = list(settings.names()) + sorted(settings.ALIASES)
    listed = ", ".join(settings.names())
    g.add_argument("--setting", choices=names, default=None, metavar="NAME",
                   help=f"what is trained on what: {listed} [ridge]")  # fmt: skip
    g.add_argument("--model", choices=["ridge", "rp"], default=None,
                   help="older spelling of --setting: ridge or rp")  # fmt: skip
    taken = set(p._option_string_actions)  # noqa: SLF001 - flags already defined (problem, run)
    dests: dict[str, dict[str, str]] = {}
    made: dict[str, tuple] = {}  # flag -> the kind of value it parses
    for s in (settings.get(name) for name in settings.names()):
        for prm in s.params:
            flag = _flag(s.name, prm.name, taken)
            kind_of = (prm.integer, prm.is_axis, isinstance(prm.default, bool), prm.choices)
            if made.get(flag, kind_of) != kind_of:  # same name, another kind: its own flag
                flag = f"--{s.name}-{prm.name}".replace("_", "-")
            dests.setdefault(s.name, {})[prm.name] = f"param__{flag[2:].replace('-', '_')}"
            if flag in made:
                continue
            made[flag] = kind_of
            kind = ints if prm.integer else floats
            kw: dict[str, Any] = dict(
                dest=dests[s.name][prm.name], default=None, help=_help(prm, s.name)
            )
            if prm.is_axis:
                kw.update(type=kind, metavar="LIST")
            elif isinstance(prm.default, bool):
                kw.update(action="store_true")
            elif prm.choices is not None:
                kw.update(type=str, choices=list(prm.choices), metavar=prm.name.upper())
            else:
                kw.update(type=int if prm.integer else float, metavar=prm.name.upper())
            g.add_argument(flag, **kw)
    p.set_defaults(setting_dests=dests)


def setting_of(args: argparse.Namespace) -> Any:
    """The Setting chosen by --setting / --model (default ridge)."""

    try:
        return settings.get(resolve_setting(args.model, args.setting, "--model"))
    except SpecError as err:
        raise ValueError(str(err)) from None


def setting_grid(args: argparse.Namespace) -> tuple[Any, dict, dict]:
    """(setting, flat grid of its axes, static parameters) from the parsed flags.

    Raises:
      ValueError: a flag of another setting, naming it.
    """

    setting = setting_of(args)
    own = {dest: name for name, dest in args.setting_dests[setting.name].items()}
    given = {k: v for k, v in vars(args).items()
             if k.startswith("param__") and v is not None and v is not False}  # fmt: skip
    for dest in given:
        if dest not in own:
            flag = "--" + dest[len("param__") :].replace("_", "-")
            raise ValueError(f"{flag} is not a parameter of setting '{setting.name}' "
                             f"(its parameters: {', '.join(setting.names())})")  # fmt: skip
    values = {own[k]: v for k, v in given.items()}
    axes: dict[str, list] = {}
    for name in setting.axes:
        default = setting.param(name).default
        fallback = LEGACY.get(name)
        if name in values:
            axes[name] = values[name]
        elif fallback is not None:
            axes[name] = fallback
        elif default is not REQUIRED:
            axes[name] = [default]
        else:
            flag = "--" + args.setting_dests[setting.name][name][len("param__") :]
            raise ValueError(f"setting '{setting.name}' needs {flag.replace('_', '-')}")
    static = {k: v for k, v in values.items() if k not in setting.axes}
    mesh = np.meshgrid(*(np.asarray(v) for v in axes.values()), indexing="ij")
    return setting, {k: v.ravel() for k, v in zip(axes, mesh, strict=True)}, static


def expand(setting: Any, grid: dict, out: Any, static: dict) -> tuple[dict, Any]:
    """Rows per (point, t) for a setting with a length (rounds, generations): t as a column."""
    if not setting.length:
        return grid, out
    length = np.asarray(out.total).shape[-1]
    rows = {k: np.repeat(v, length) for k, v in grid.items()}
    rows[setting.length] = np.tile(np.arange(1, length + 1), next(iter(grid.values())).size)
    return rows, type(out)(*(np.asarray(v).reshape(-1) for v in out))
