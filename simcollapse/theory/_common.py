"""Shared plumbing of the theory functions: float64, thresholds and convergence.

``exact_terms``, ``run_x64`` and ``raise_if_failed`` are public (``simcollapse.theory``): a
setting outside the package uses them to get the built-ins' behaviour at interpolation
thresholds (inf with ``Status.THRESHOLD``, never an error) and on failure (``FixedPointError``
with ``throw=True``, the status of each point with ``throw=False``).

``throw`` is a Python-level switch, not a traced one: under ``jax.jit`` the status is traced and
``raise_if_failed`` returns without raising (a traced value cannot raise an exception; optimistix
would need ``equinox.error_if``, a dependency simcollapse does not take). Inside jit read
``ErrorTerms.status`` instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from simcollapse._validate import is_traced
from simcollapse.results import ErrorTerms, FixedPointError, Status


def exact_terms(bias: Any, variance: Any, zeta: Any, status: Any, xp: Any = jnp) -> ErrorTerms:
    """ErrorTerms of a deterministic equivalent: parts broadcast together, total their sum,
    stderr 0 (theory is exact), the fixed-point status broadcast to every point.

    A point marked ``Status.THRESHOLD`` whose total is finite (nothing to amplify: no noise, no
    synthetic term) is reset to CONVERGED. A point off a threshold whose parts float64 cannot
    resolve (a NaN or infinite total, or a part below minus rounding, as when lam > 0 is so small
    against the spectrum that 1 - df_2/n cancels) is never CONVERGED: it is NONFINITE.
    ``xp`` is ``jax.numpy`` (traceable) or ``numpy`` (concrete parts, nothing to compile).

    Example:
      >>> import numpy as np
      >>> from simcollapse.theory import exact_terms
      >>> out = exact_terms(np.array([0.1, np.inf]), 0.2, 0.0, np.array([0, 4]), xp=np)
      >>> out.total.tolist(), out.status.tolist()  # 4 = Status.THRESHOLD: inf, not a failure
      ([0.30000000000000004, inf], [0, 4])
    """
    bias, variance, zeta = xp.broadcast_arrays(bias, variance, zeta)
    total = bias + variance + zeta
    status = xp.broadcast_to(status, total.shape)
    status = xp.where((status == Status.THRESHOLD) & xp.isfinite(total), Status.CONVERGED, status)
    scale = xp.abs(bias) + xp.abs(variance) + xp.abs(zeta)
    negative = xp.minimum(xp.minimum(bias, variance), zeta) < -1e-12 * scale
    unresolved = (status != Status.THRESHOLD) & (~xp.isfinite(total) | negative)
    status = xp.where(unresolved, Status.NONFINITE, status).astype(xp.int32)
    return ErrorTerms(bias, variance, zeta, total, xp.zeros_like(total), status)


def run_x64(fn: Callable[..., ErrorTerms], *args: Any) -> ErrorTerms:
    """Call ``fn`` with 64-bit JAX types enabled for this call only.

    The user's global ``jax_enable_x64`` setting is left untouched: the theory runs inside the
    ``jax.enable_x64(True)`` context manager, and concrete results come back as float64 NumPy
    arrays (traced results, inside a user's jit, come back as they are).

    Example:
      >>> import jax.numpy as jnp
      >>> from simcollapse.theory import exact_terms, run_x64
      >>> run_x64(lambda b: exact_terms(jnp.asarray(b), 0.0, 0.0, 0), [0.1]).total.dtype
      dtype('float64')
    """
    with jax.enable_x64(True):
        out = fn(*args)
        if any(is_traced(leaf) for leaf in jax.tree_util.tree_leaves(out)):
            return out
        return ErrorTerms(*(np.asarray(v) for v in out))


def raise_if_failed(out: ErrorTerms, what: str, **axes: Any) -> None:
    """Raise FixedPointError if any point did not converge (``throw=True`` path).

    Points on an interpolation threshold (``Status.THRESHOLD``, value inf) are not failures.
    ``what`` names the fixed point in the message; ``axes`` (name -> values broadcastable to the
    status) locate the first failed point. Traced status (inside jit): returns, see module doc.

    Example:
      >>> import numpy as np, simcollapse as sc
      >>> from simcollapse.theory import exact_terms, raise_if_failed
      >>> out = exact_terms(np.array([0.1, 0.2]), 0.0, 0.0, np.array([0, 1]), xp=np)
      >>> try:
      ...     raise_if_failed(out, "my kappa", n=[100, 200])
      ... except sc.FixedPointError as err:
      ...     print(str(err)[:64])
      the my kappa fixed point did not converge at 1 of 2 points (firs
    """
    status = np.asarray(out.status)
    if is_traced(out.status):
        return
    failed = (status != Status.CONVERGED) & (status != Status.THRESHOLD)
    if not np.any(failed):
        return
    bad = np.argwhere(failed)
    idx = tuple(bad[0])
    shape = status.shape
    where = ", ".join(
        f"{k}={np.broadcast_to(np.asarray(v, dtype=float), shape)[idx]:g}" for k, v in axes.items()
    )
    raise FixedPointError(
        f"the {what} fixed point did not converge at {len(bad)} of {status.size} points "
        f"(first at {where}: {Status(int(status[idx])).name}); "
        "pass throw=False to get the results with the status of each point"
    )
