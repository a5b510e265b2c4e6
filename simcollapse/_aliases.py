"""The older (0.1) spellings that keep working, in one table.

Each use of one warns once with a ``FutureWarning`` naming the spelling to write instead (the
Python keyword ``seed=``, renamed ``key=``, with a ``DeprecationWarning``: Python shows it where
the call is in a script, a notebook or a test); they go in a later release. The table's keys are
what a user wrote, its values what to write now.

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

import functools
import os
import sys
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["MODELS", "OLD_SPELLINGS", "SETTING_ALIASES", "seed_keyword", "warn_old"]

F = TypeVar("F", bound=Callable[..., Any])

OLD_SPELLINGS: dict[str, str] = {
    "rp": "random_projection",  # the setting's name (Python, CLI, TOML)
    "--model": "--setting",  # the CLI flag
    "--spectrum": "--family",  # the CLI flag
    "[model] kind": "[setting] kind",  # the TOML table
    "Sweep(model=...)": "Sweep(setting=...)",  # the Python keyword
    "seed=": "key=",  # the keyword of every Python function or class that draws randomness
    "neural.TrainConfig": "neural.TwoLayerConfig",  # the two-layer nets' configuration
}

# Older names of settings, the subset of the table that ``settings.get`` accepts.
SETTING_ALIASES: dict[str, str] = {"rp": OLD_SPELLINGS["rp"]}
# The older ``model`` keyword's values and the settings they name (the stored ``model`` column).
MODELS: dict[str, str] = {"ridge": "ridge", "rp": OLD_SPELLINGS["rp"]}


_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _user_stacklevel() -> int:
    """The stacklevel of the first caller outside the package (and outside code that Python
    generates, such as a dataclass's ``__init__``): where the warning is shown."""
    level, frame = 2, sys._getframe(2)
    while frame is not None and (
        frame.f_code.co_filename.startswith(_PACKAGE) or frame.f_code.co_filename == "<string>"
    ):
        frame, level = frame.f_back, level + 1
    return level


def warn_old(old: str, category: type[Warning] = FutureWarning) -> None:
    """One warning (a FutureWarning unless told): ``old`` is an older spelling, with the new one,
    shown at the user's line (the first frame outside the package)."""
    new = OLD_SPELLINGS[old]
    warnings.warn(
        f"{old!r} is the 0.1 spelling of {new!r} and will be removed; write {new!r}",
        category,
        stacklevel=_user_stacklevel(),
    )


def seed_keyword(func: F) -> F:
    """``func`` (which takes ``key``) also accepting the older keyword ``seed``, with a warning.

    ``seed=s`` is passed on as ``key=s`` (the same numbers) after a DeprecationWarning naming
    ``key=``; giving both is a TypeError, as for any keyword given twice.

    Example:
      >>> import warnings
      >>> @seed_keyword
      ... def draw(n, key=0):
      ...     return n, key
      >>> with warnings.catch_warnings(record=True) as caught:
      ...     warnings.simplefilter("always")
      ...     draw(2, seed=5)
      (2, 5)
      >>> caught[0].category.__name__, str(caught[0].message).endswith("write 'key='")
      ('DeprecationWarning', True)
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if "seed" in kwargs:
            if "key" in kwargs:
                raise TypeError(f"{func.__qualname__}() got both key= and seed=; write key= only")
            warn_old("seed=", category=DeprecationWarning)
            kwargs["key"] = kwargs.pop("seed")
        return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
