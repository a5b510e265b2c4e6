"""Randomness in the Python API: every function that draws takes ``key=``, an int or a JAX key.

``as_key`` turns either into a ``jax.random`` key (an int ``s`` gives ``jax.random.key(s)``);
``as_seed`` turns either into the non-negative integer seed that NumPy draws and stored tables
use (an int is returned unchanged, so ``key=s`` gives exactly what an integer seed ``s`` gave; a
JAX key gives 32 random bits drawn from it, shifted right by one). Files and the command line
keep integer seeds (``seed`` in a TOML sweep, ``--seed``).

Example:
  >>> import jax
  >>> import numpy as np
  >>> from simcollapse.keys import as_key, as_seed
  >>> as_seed(7), as_key(7).shape
  (7, ())
  >>> np.random.default_rng(as_seed(3)).random() == np.random.default_rng(3).random()
  True
  >>> as_seed(jax.random.key(0)) == as_seed(jax.random.key(0)), 0 <= as_seed(jax.random.key(1))
  (True, True)
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["as_key", "as_seed"]


def _is_int(key: Any) -> bool:
    return isinstance(key, (int, np.integer)) and not isinstance(key, bool)


def as_key(key: Any) -> jax.Array:
    """A JAX PRNG key from ``key``: an int seed s gives ``jax.random.key(s)``, a key is kept.

    A raw ``uint32[2]`` key (``jax.random.PRNGKey``) is wrapped as a typed key.

    Raises:
      TypeError: key neither an int nor a JAX key.

    Example:
      >>> import jax
      >>> k = as_key(0)
      >>> bool((jax.random.key_data(k) == jax.random.key_data(jax.random.key(0))).all())
      True
      >>> as_key(k) is k
      True
    """
    if _is_int(key):
        return jax.random.key(int(key))
    if isinstance(key, jax.Array) and jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        return key
    if isinstance(key, jax.Array) and key.shape == (2,) and key.dtype == np.uint32:
        return jax.random.wrap_key_data(key)
    raise TypeError(f"key must be an int seed or a jax.random key, got {key!r}")


def as_seed(key: Any) -> int:
    """An integer seed from ``key``: an int is returned as it is; a JAX key gives one draw.

    The draw is ``jax.random.bits(key, (), uint32) >> 1``, in [0, 2^31): deterministic in the
    key, and a valid seed for NumPy (``np.random.default_rng``) and for ``jax.random.key``.

    Raises:
      TypeError: key neither an int nor a JAX key.

    Example:
      >>> import jax
      >>> as_seed(5), as_seed(jax.random.key(5)) == as_seed(jax.random.key(5))
      (5, True)
    """
    if _is_int(key):
        return int(key)
    return int(jax.random.bits(as_key(key), (), jnp.uint32)) >> 1
