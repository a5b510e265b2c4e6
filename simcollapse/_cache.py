"""Opt-in persistent compilation cache: compiled XLA programs kept on disk across processes."""

from __future__ import annotations

import os

import jax

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
    return folder
