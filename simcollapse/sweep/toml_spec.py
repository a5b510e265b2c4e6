"""Reading a sweep specification from TOML: tables to ``Sweep`` keywords, and error messages that
name the file, the line and the key (see ``simcollapse.sweep.spec`` for the format)."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from simcollapse._aliases import MODELS, warn_old
from simcollapse.sweep.axes import AXES, SpecError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SECTIONS: dict[str, tuple[str, ...]] = {
    "problem": ("family", "d", "alpha", "source", "signal", "sigma2", "c2", "teacher_n0", "path"),
    "setting": ("kind",),  # plus the parameters of the chosen setting
    "model": ("kind", "m"),
    "run": ("method", "reps", "seed", "dtype"),
    "axes": AXES,
}


def read_toml(path: str | Path) -> tuple[str, str]:
    """(text, source) of a TOML file.

    Raises:
      SpecError: the file cannot be read or is not UTF-8.
    """
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
    return text, str(path)


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """The tables of a TOML text; a SpecError naming ``source`` when it is not valid TOML."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"{source}: invalid TOML: {err}") from err


def _check_sections(data: Mapping[str, Any], source: str, text: str | None) -> None:
    """Known sections, each a table, with known keys (setting parameters and axes: later)."""
    for section, table in data.items():
        if section not in SECTIONS:
            raise SpecError(
                f"{_where(source, text, None, section)}unknown section [{section}]; "
                f"known: {', '.join(SECTIONS)}"
            )
        if not isinstance(table, Mapping):
            raise SpecError(f"{_where(source, text, None, section)}[{section}] must be a table")
        for key in table:
            if (section == "setting" and key != "kind") or section == "axes":
                continue  # the setting's parameters and axes: checked once it is known
            if key not in SECTIONS[section]:
                raise SpecError(
                    f"{_where(source, text, section, key)}unknown key '{section}.{key}'; "
                    f"known keys in [{section}]: {', '.join(SECTIONS[section])}"
                )


def sweep_keywords(data: Mapping[str, Any], source: str, text: str | None) -> dict[str, Any]:
    """The ``Sweep`` keywords of a TOML file's tables.

    Raises:
      SpecError: an unknown section or key, or no ``problem.d`` (naming the file and line).
    """
    _check_sections(data, source, text)
    kwargs: dict[str, Any] = dict(data.get("problem", {}))
    if kwargs.get("family") == "file":  # the file holds these: a value here would be ignored
        for key in ("alpha", "source", "signal", "sigma2", "c2"):
            if key in kwargs:
                raise SpecError(
                    f"{source}: problem.{key} does not apply to family 'file' (the problem file "
                    f"sets it; vary it as an axis instead)"
                )
    if "teacher_n0" in kwargs and "c2" in kwargs:
        raise SpecError(f"{source}: give one of problem.c2 and problem.teacher_n0 (it sets c2)")
    model = dict(data.get("model", {}))
    if "kind" in model:
        warn_old("[model] kind")
        kind = model["kind"]  # a known one becomes the setting; another one fails in Sweep
        kwargs["setting" if kind in MODELS else "model"] = MODELS.get(kind, kind)
    if "m" in model:
        kwargs["m"] = model["m"]
    kwargs.update(data.get("run", {}))
    chosen = dict(data.get("setting", {}))
    if "kind" in chosen:
        kwargs["setting"] = chosen.pop("kind")
    if chosen:
        kwargs["params"] = chosen
    kwargs["axes"] = dict(data.get("axes", {}))
    if "zipped" in kwargs["axes"]:
        kwargs["zipped"] = kwargs["axes"].pop("zipped")
    if "d" not in kwargs:
        raise SpecError(f"{source}: missing required key 'problem.d'")
    return kwargs


def with_location(
    err: SpecError, kwargs: Mapping[str, Any], source: str, text: str | None
) -> SpecError:
    """``err`` prefixed with 'file:line: ' of the key it names (or 'file: ')."""
    key = _key_in_message(str(err))
    section = next((s for s, keys in SECTIONS.items() if key in keys), None)
    if key in kwargs.get("axes", {}) or key == "zipped":
        section = "axes"
    elif key in kwargs.get("params", {}) or key == "setting":
        section = "setting"
        key = "kind" if key == "setting" else key
    return SpecError(f"{_where(source, text, section, key)}{err}")


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
