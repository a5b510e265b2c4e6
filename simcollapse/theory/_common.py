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

import dataclasses
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


TINY = float(np.finfo(np.float64).tiny)  # smallest normal float64, ~2.2e-308
TOP = 1e300


def normal_range(problem: Any, lam: np.ndarray) -> tuple[Any, np.ndarray]:
    """The same problem and penalties rescaled by a power of two into float64's normal range.

    XLA on CPU flushes subnormal numbers to zero, so an eigenvalue or a penalty below ~2.2e-308
    would reach the kernels as 0. The theory is invariant under s -> c s, lam -> c lam,
    w1_sq -> w1_sq / c, Delta -> Delta / c (every error term is unchanged), and a power of two c
    changes no digit. Nothing is rescaled when nothing is subnormal (the common case) or when the
    problem is traced.
    """
    if is_traced(problem.eigs) or is_traced(lam):
        return problem, lam
    s = np.asarray(problem.eigs, dtype=np.float64)
    lam = np.asarray(lam, dtype=np.float64)
    positive = lam[lam > 0]
    low = min(float(s.min()), float(positive.min()) if positive.size else np.inf)
    if low >= TINY:
        return problem, lam
    # Lift the smallest value to about 2^-900, never pushing an eigenvalue past TOP.
    room = np.log2(TOP) - np.log2(float(s.max()))
    up = int(min(np.floor(room), np.ceil(-900.0 - np.log2(low))))
    if up <= 0:
        return problem, lam
    c = 2.0**up
    scaled = dataclasses.replace(
        problem,
        eigs=s * c,
        w1_sq=np.asarray(problem.w1_sq, dtype=np.float64) / c,
        delta_sq=np.asarray(problem.delta_sq, dtype=np.float64) / c,
    )
    return scaled, lam * c


def flag_subnormal(out: ErrorTerms, eigs: Any, lam: Any, trailing: int = 0) -> ErrorTerms:
    """``out`` with OUT_OF_REACH where a subnormal input reached the kernels as 0 and mattered.

    After ``normal_range`` an input can still be subnormal (a spectrum too wide to lift): a
    subnormal eigenvalue makes every point out of reach; a subnormal lam > 0 only where the
    result is a THRESHOLD (the lam = 0 limit; elsewhere the lam -> 0 limit is exact to rounding).
    ``lam`` broadcasts against the status without its last ``trailing`` axes (rounds).
    """
    if is_traced(out.status) or is_traced(eigs) or is_traced(lam):
        return out
    status = np.array(out.status)
    if np.min(np.asarray(eigs)) < TINY:
        status[...] = Status.OUT_OF_REACH
        return out._replace(status=status.astype(np.int32))
    lam = np.asarray(lam, dtype=np.float64)
    small = (lam > 0) & (lam < TINY)
    if not small.any():  # the common case: nothing to flag
        return out
    small = np.reshape(small, small.shape + (1,) * trailing)
    status = np.where(small & (status == Status.THRESHOLD), Status.OUT_OF_REACH, status)
    return out._replace(status=status.astype(np.int32))
