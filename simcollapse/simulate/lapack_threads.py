"""One LAPACK thread for the small factorisations of a Monte Carlo on the CPU.

On the CPU, XLA runs ``jnp.linalg.eigh`` through SciPy's LAPACK, whose OpenBLAS keeps its own
worker threads. A draw alternates between XLA's work (the random draw, the Gram, the solves, on
XLA's thread pool) and the eigendecomposition (on OpenBLAS's threads). At the small sizes of a
figure or a user's curve the two pools then compete for the same cores, each waiting or spinning
while the other works. Measured on a 2-core CPU, one draw of d = 200, n = 3000 (draw, Gram and
eigh) took 15.8 ms with OpenBLAS's two threads and 10.6 ms with one; at d = 256, n = 1024,
11.3 ms and 9.5 ms. From d = 2048 the second thread pays (1.10 s against 1.44 s), so the limit
applies only when the largest matrix factorised has at most ``SINGLE_THREAD_MAX`` rows (the
simulation passes d, which bounds every matrix it factorises).

The limit holds for the call only (``threadpoolctl``) and changes no number: LAPACK's results do
not depend on its thread count.

Example:
  >>> with lapack_threads(256):
  ...     pass  # the Monte Carlo of a d = 256 problem runs here
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any

import jax
from threadpoolctl import ThreadpoolController

__all__ = ["SINGLE_THREAD_MAX", "lapack_threads"]

SINGLE_THREAD_MAX = 1024


@functools.cache
def _controller() -> Any:
    """threadpoolctl's view of the loaded BLAS libraries, SciPy's LAPACK (the one XLA's CPU
    kernels call) loaded first so that it is among them."""
    import scipy.linalg.cython_lapack  # noqa: F401, PLC0415 - loads the LAPACK that XLA's eigh calls

    return ThreadpoolController()


def lapack_threads(size: int) -> contextlib.AbstractContextManager[Any]:
    """A context that limits BLAS/LAPACK to one thread on the CPU when the largest matrix
    factorised has at most ``SINGLE_THREAD_MAX`` rows; nothing otherwise (or off the CPU).

    Args:
      size: rows of the largest matrix the work factorises (the simulation passes d).

    Returns:
      ``threadpoolctl``'s limiter (one BLAS thread for the block), or a ``nullcontext``.

    Example:
      >>> from threadpoolctl import threadpool_info
      >>> with lapack_threads(256):  # d = 256 on the CPU: one BLAS thread inside the block
      ...     blas = {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}
      >>> blas == {1} or jax.default_backend() != "cpu"
      True
      >>> type(lapack_threads(4096)).__name__  # above SINGLE_THREAD_MAX: no limit
      'nullcontext'
    """
    if jax.default_backend() != "cpu" or size > SINGLE_THREAD_MAX:
        return contextlib.nullcontext()
    return _controller().limit(limits=1, user_api="blas")
