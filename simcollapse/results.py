"""Result types shared by theory and simulation, so both can sit side by side in one table."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

__all__ = ["ErrorTerms", "FixedPoint", "FixedPointError", "Status"]


class Status(enum.IntEnum):
    """Outcome of a fixed-point solve, stored per grid point.

    CONVERGED: the value is trusted. MAX_STEPS, NONFINITE, RESIDUAL: the solve failed (the value
    is not trusted; ``throw=True`` raises). THRESHOLD: the point lies exactly on an interpolation
    threshold of a ridgeless model (lam = 0 and n = d for ridge, n = min(m, d) for random
    projections, as many weighted rows as dimensions for weighted mixing), where the lam -> 0+
    limit of the error diverges: the value is ``inf`` by design, not a failed solve, so
    ``throw=True`` does not raise for it. A point on a threshold whose error stays finite (no
    noise and no synthetic term to amplify) keeps CONVERGED. OUT_OF_REACH: the value at this
    point cannot be resolved in float64 (a cancellation that rounding dominates, or a value past
    float64's range): not trusted, and ``throw=True`` raises, never a wrong number marked CONVERGED.

    Example:
      >>> from simcollapse import Status
      >>> [s.name for s in Status]
      ['CONVERGED', 'MAX_STEPS', 'NONFINITE', 'RESIDUAL', 'THRESHOLD', 'OUT_OF_REACH']
      >>> Status(0) is Status.CONVERGED
      True
    """

    CONVERGED = 0
    MAX_STEPS = 1
    NONFINITE = 2
    RESIDUAL = 3  # stopped, but the equation's residual is far above rounding: not trusted
    THRESHOLD = 4  # lam = 0 on an interpolation threshold: the error is inf (a divergent limit)
    OUT_OF_REACH = 5  # float64 cannot resolve the value here (rounding or range): not trusted


class FixedPoint(NamedTuple):
    """A solved one-dimensional fixed point, as data (value, status, steps taken, residual).

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from simcollapse.theory import ridge_kappa
      >>> with jax.enable_x64(True):
      ...     fp = ridge_kappa(jnp.ones(100), jnp.array([50.0]), jnp.zeros(1))
      >>> isinstance(fp, FixedPoint), fp.value.round(6).tolist(), Status(int(fp.status[0])).name
      (True, [1.0], 'CONVERGED')
    """

    value: Any
    status: Any
    steps: Any
    residual: Any


class ErrorTerms(NamedTuple):
    """Test error on real data and its parts, one entry per grid point.

    total = bias + variance + zeta for theory; for simulation ``total`` is the mean over
    repetitions of the test error of each fitted model, and bias/variance/zeta the means of its
    three parts (their sum equals ``total`` up to cross terms whose mean is zero).

    Attributes:
      bias: error from the ridge (or projection) bias in learning w1.
      variance: error from the label noise sigma^2.
      zeta: the extra error that synthetic data adds (zero when p2 = 0).
      total: test error E_test = ||w_hat - w1||^2_Sigma (mean over repetitions for simulation).
      stderr: standard error of ``total`` over repetitions (0 for theory, NaN for one repetition).
      status: ``Status`` code per point (theory: the fixed point; simulation: always 0).

    Example:
      >>> import numpy as np, simcollapse as sc
      >>> err = sc.theory.ridge_error(sc.Problem.isotropic(50, c2=1.0), [100, 400], 1e-2, 0.1)
      >>> bool(np.allclose(err.bias + err.variance + err.zeta, err.total)), err.converged.tolist()
      (True, [True, True])
      >>> sorted(err.to_dict())
      ['bias', 'status', 'stderr', 'total', 'variance', 'zeta']
    """

    bias: Any
    variance: Any
    zeta: Any
    total: Any
    stderr: Any
    status: Any

    @property
    def converged(self) -> Any:
        """Boolean array: True where the point's fixed point converged."""
        return np.asarray(self.status) == Status.CONVERGED

    def to_dict(self) -> dict[str, np.ndarray]:
        """The fields as flat NumPy arrays (for a pandas DataFrame)."""
        return {k: np.ravel(np.asarray(v)) for k, v in self._asdict().items()}

    def to_xarray(self, coords: Mapping[str, Any]) -> Any:
        """An ``xarray.Dataset`` with one variable per field and the grid as coordinates.

        Args:
          coords: axis name -> 1-D values, one per axis of the fields in order (a trailing
            round or generation axis included), e.g. {"n": n, "lam": lam} for a grid built with
            ``n[:, None]`` and ``lam[None, :]``.

        Raises:
          ImportError: xarray is not installed (``pip install simcollapse[xarray]``).
          ValueError: the coordinates do not match the fields' shape.

        Example:
          >>> import numpy as np, simcollapse as sc
          >>> n, lam = np.array([100, 200]), np.array([0.0, 0.1, 1.0])
          >>> prob = sc.Problem.isotropic(50)
          >>> out = sc.theory.ridge_error(prob, n[:, None], lam[None, :], 0.1)
          >>> out.to_xarray({"n": n, "lam": lam}).total.sel(n=200, lam=0.1).item() > 0
          True
        """
        xr = import_xarray()
        shape = np.shape(self.total)
        sizes = tuple(np.size(v) for v in coords.values())
        if sizes != shape:
            raise ValueError(
                f"coords must give one 1-D axis per dimension of the fields {shape}, got "
                f"{dict(zip(coords, sizes, strict=True))}"
            )
        dims = tuple(coords)
        data = {k: (dims, np.asarray(v)) for k, v in self._asdict().items()}
        return xr.Dataset(data, coords={k: np.asarray(v) for k, v in coords.items()})


def import_xarray() -> Any:
    """xarray, or an ImportError saying how to install it."""
    try:
        import xarray  # noqa: PLC0415 - optional extra
    except ImportError as err:  # pragma: no cover - xarray is in the test extra
        raise ImportError(
            "labelled results need xarray: pip install 'simcollapse[xarray]'"
        ) from err
    return xarray


class FixedPointError(RuntimeError):
    """Raised when a fixed point did not converge and the caller asked for ``throw=True``.

    Example:
      >>> import simcollapse as sc
      >>> issubclass(sc.FixedPointError, RuntimeError)
      True
    """
