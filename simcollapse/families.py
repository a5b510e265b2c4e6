"""Problem families by name: how ``Problem.from_family``, sweeps and the CLI build a Problem.

A family is a function ``(d, **params) -> Problem``. Built in:

* ``isotropic``: Sigma = I (``Problem.isotropic``; params c2, sigma2, signal);
* ``power_law``: s_j ~ j^-alpha (``Problem.power_law``; params alpha, source, c2, sigma2,
  signal);
* ``file``: a problem stored in an ``.npz`` file with arrays ``eigs``, ``w1_sq``, ``delta_sq``
  and the scalar ``sigma2`` (param ``path``; ``d`` None or equal to the file's; ``c2`` and
  ``sigma2``, when given, rescale the stored shift and replace the stored noise), so that any
  spectrum, for example one measured on data, runs from the CLI and TOML.

Example:
  >>> from simcollapse.families import from_family
  >>> from_family("power_law", 100, alpha=1.2, c2=0.3).d
  100
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from simcollapse.problem import Problem

__all__ = ["families", "from_family", "register_family"]

Family = Callable[..., Problem]
_FAMILIES: dict[str, Family] = {}


def register_family(name: str, build: Family, *, replace: bool = False) -> Family:
    """Add a family ``build(d, **params) -> Problem`` under ``name``.

    Raises:
      ValueError: the name is taken (and not ``replace``).
    """
    if name in _FAMILIES and not replace:
        raise ValueError(f"a problem family named {name!r} is registered; pass replace=True")
    _FAMILIES[name] = build
    return build


def families() -> tuple[str, ...]:
    """The registered family names."""
    return tuple(_FAMILIES)


def from_family(name: str, d: int | None, **params: Any) -> Problem:
    """The Problem of family ``name`` at dimension ``d`` (see the module doc).

    Raises:
      ValueError: an unknown family (listing the known ones), or bad parameters, naming them.
    """
    if name not in _FAMILIES:
        raise ValueError(f"family must be one of {', '.join(families())}, got {name!r}")
    try:
        return _FAMILIES[name](d, **params)
    except TypeError as err:
        raise ValueError(f"family {name!r}: {err}") from None


def load_file(
    d: int | None, *, path: str | Path, c2: float | None = None, sigma2: float | None = None
) -> Problem:
    """The ``file`` family: a Problem read from an .npz (eigs, w1_sq, delta_sq, sigma2)."""
    path = Path(path)
    try:
        data_or_array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as err:
        raise ValueError(f"cannot read problem file {path} as an .npz: {err}") from None
    if not isinstance(data_or_array, np.lib.npyio.NpzFile):
        raise ValueError(f"problem file {path} is a .npy array, not an .npz of named arrays")
    try:
        with data_or_array as data:
            missing = {"eigs", "w1_sq", "delta_sq", "sigma2"} - set(data.files)
            if missing:
                raise ValueError(f"problem file {path} lacks {sorted(missing)} (needs eigs, "
                                 "w1_sq, delta_sq, sigma2)")  # fmt: skip
            arrays = {k: np.asarray(data[k], np.float64) for k in data.files}
    except OSError as err:
        raise ValueError(f"cannot read problem file {path}: {err}") from None
    prob = Problem(arrays["eigs"], arrays["w1_sq"], arrays["delta_sq"], float(arrays["sigma2"]))
    if d is not None and int(d) != prob.d:
        raise ValueError(f"d must match the problem file {path} (d = {prob.d}), got {d}")
    if c2 is not None:
        prob = prob.with_c2(c2)
    return prob if sigma2 is None else prob.with_sigma2(sigma2)


register_family("isotropic", lambda d, **kw: Problem.isotropic(d, **kw))
register_family("power_law", lambda d, **kw: Problem.power_law(d, **kw))
register_family("file", load_file)
