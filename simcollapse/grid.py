"""How the Python API combines list arguments, and ``grid`` for the full grid.

The rule: the functions of ``simcollapse.theory``, ``simcollapse.simulate`` and every setting's
``theory`` / ``simulate`` combine their arguments like NumPy arrays (broadcasting): two lists of
the same length are paired element by element, a scalar goes with every point, and shapes that
do not broadcast are refused in one line naming both (``n (2,), lam (3,)``). The command line and
sweeps instead build the full grid of their lists; ``grid`` does the same in Python, by name.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simcollapse._validate import as_float_array

__all__ = ["grid"]


def grid(**axes: Any) -> dict[str, np.ndarray]:
    """The full grid of the given axes, as the CLI and sweeps build it (one axis per argument).

    Each value is a scalar or a flat list; the result maps each name to an array of shape
    (len(axis_1), ..., len(axis_k)), so that ``fn(problem, **grid(n=..., lam=...))`` evaluates
    every combination, the first axis varying slowest (``indexing="ij"``).

    Raises:
      ValueError: an axis that is not a flat list of numbers, naming it.

    Example:
      >>> import simcollapse as sc
      >>> g = sc.grid(n=[500, 1000], alpha=[0.1, 0.3])
      >>> g["n"].tolist(), g["alpha"].tolist()
      ([[500.0, 500.0], [1000.0, 1000.0]], [[0.1, 0.3], [0.1, 0.3]])
      >>> prob = sc.Problem.isotropic(50)
      >>> sc.theory.weighted_error(prob, lam=1e-3, p2=0.5, **g).total.shape
      (2, 2)
    """
    flat = {}
    for name, value in axes.items():
        arr = as_float_array(name, value)
        if arr.ndim > 1:
            raise ValueError(f"{name} must be a scalar or a flat list, got shape {arr.shape}")
        flat[name] = np.atleast_1d(arr)
    mesh = np.meshgrid(*flat.values(), indexing="ij")
    return dict(zip(flat, mesh, strict=True))
