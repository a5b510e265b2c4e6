"""Opt-in persistent compilation cache: compiled XLA programs kept on disk across processes."""

from __future__ import annotations

import os
import warnings
from typing import Any

import jax

from simcollapse.store import StoreWarning

CACHE_ENV = "SIMCOLLAPSE_XLA_CACHE"
CACHE_OFF = "off"  # $SIMCOLLAPSE_XLA_CACHE=off keeps the cache off, for the command line too
MIN_COMPILE_SECS = 0.2  # programs that compiled faster than this are not worth a disk entry


def default_cache_dir() -> str:
    """$SIMCOLLAPSE_XLA_CACHE, or ~/.cache/simcollapse/xla."""
    return os.environ.get(
        CACHE_ENV, os.path.join(os.path.expanduser("~"), ".cache", "simcollapse", "xla")
    )


def compilation_cache_dir() -> str | None:
    """The folder JAX's persistent compilation cache uses in this process (None when off).

    Example:
      >>> import simcollapse as sc
      >>> sc.compilation_cache_dir() is None  # off unless enable_compilation_cache() was called
      True
    """
    return jax.config.jax_compilation_cache_dir or None


def enable_compilation_cache(path: str | os.PathLike[str] | None = None) -> str | None:
    """Keep compiled programs on disk, so a new process skips compilations a past one did.

    The library never turns this on by itself (it sets JAX's global
    ``jax_compilation_cache_dir``); the ``simcollapse`` command does, at startup. A folder the
    user already configured for JAX wins and is returned unchanged.

    Args:
      path: the folder; default ``$SIMCOLLAPSE_XLA_CACHE`` or ``~/.cache/simcollapse/xla``.
        ``SIMCOLLAPSE_XLA_CACHE=off`` keeps the cache off (the test suite does this).

    Returns:
      The folder in use, or None when it is off or could not be created.

    Example:
      >>> import simcollapse as sc
      >>> sc.compilation_cache_dir() is None  # the library leaves it off
      True
      >>> folder = sc.enable_compilation_cache("/tmp/my-xla-cache")  # doctest: +SKIP
    """
    current = compilation_cache_dir()
    if current:
        return current
    if path is None and os.environ.get(CACHE_ENV, "").strip().lower() == CACHE_OFF:
        return None
    folder = os.fspath(path) if path is not None else default_cache_dir()
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return None
    jax.config.update("jax_compilation_cache_dir", folder)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_SECS)
    _heal_broken_entries()
    return folder


def _heal_broken_entries() -> None:
    """An entry that cannot be read (truncated by a kill, a full disk) is removed, with one
    warning, and recompiled; JAX alone would warn about it on every later run.

    JAX reads entries in ``jax._src.compilation_cache.get_executable_and_time``; the wrapper
    below catches its failure, removes the entry's file and reports a miss.
    """
    try:
        from jax._src import compilation_cache as cc  # noqa: PLC0415 - private JAX API
        from jax._src import lru_cache  # noqa: PLC0415 - private JAX API
    except ImportError:  # pragma: no cover - another JAX layout: JAX's own warning stays
        return
    original = getattr(cc, "get_executable_and_time", None)
    if original is None or getattr(original, "_simcollapse_heals", False):
        return

    def get_executable_and_time(cache_key: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(cache_key, *args, **kwargs)
        except Exception as err:  # noqa: BLE001 - a broken entry is a miss, recompiled
            folder = compilation_cache_dir()
            suffix = getattr(lru_cache, "_CACHE_SUFFIX", "-cache")
            entry = os.path.join(folder, f"{cache_key}{suffix}") if folder else None
            removed = False
            if entry is not None:
                try:
                    os.unlink(entry)
                    removed = True
                except OSError:
                    pass
            what = "removed" if removed else "could not be removed"
            warnings.warn(
                f"compilation-cache entry {entry} is unusable ({type(err).__name__}); {what}, "
                "recompiling",
                StoreWarning,
                stacklevel=2,
            )
            return None, None

    get_executable_and_time._simcollapse_heals = True  # type: ignore[attr-defined]
    cc.get_executable_and_time = get_executable_and_time
