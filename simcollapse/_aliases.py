"""The older (0.1) spellings that keep working, in one table.

Each use of one warns once with a ``FutureWarning`` naming the spelling to write instead; they go
in a later release. The table's keys are what a user wrote, its values what to write now.

Example:
  >>> import warnings
  >>> from simcollapse._aliases import OLD_SPELLINGS, warn_old
  >>> OLD_SPELLINGS["--spectrum"]
  '--family'
  >>> with warnings.catch_warnings(record=True) as caught:
  ...     warnings.simplefilter("always")
  ...     warn_old("--spectrum")
  >>> str(caught[0].message)
  "'--spectrum' is the 0.1 spelling of '--family' and will be removed; write '--family'"
"""

from __future__ import annotations

import warnings

__all__ = ["MODELS", "OLD_SPELLINGS", "SETTING_ALIASES", "warn_old"]

OLD_SPELLINGS: dict[str, str] = {
    "rp": "random_projection",  # the setting's name (Python, CLI, TOML)
    "--model": "--setting",  # the CLI flag
    "--spectrum": "--family",  # the CLI flag
    "[model] kind": "[setting] kind",  # the TOML table
    "Sweep(model=...)": "Sweep(setting=...)",  # the Python keyword
}

# Older names of settings, the subset of the table that ``settings.get`` accepts.
SETTING_ALIASES: dict[str, str] = {"rp": OLD_SPELLINGS["rp"]}
# The older ``model`` keyword's values and the settings they name (the stored ``model`` column).
MODELS: dict[str, str] = {"ridge": "ridge", "rp": OLD_SPELLINGS["rp"]}


def warn_old(old: str, stacklevel: int = 3) -> None:
    """One FutureWarning: ``old`` is an older spelling, with what to write instead."""
    new = OLD_SPELLINGS[old]
    warnings.warn(
        f"{old!r} is the 0.1 spelling of {new!r} and will be removed; write {new!r}",
        FutureWarning,
        stacklevel=stacklevel,
    )
