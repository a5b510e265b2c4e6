"""Problem families by name: how ``Problem.from_family``, sweeps and the CLI build a Problem.

A family is a function ``(d, **params) -> Problem``. Built in:

* ``isotropic``: Sigma = I (``Problem.isotropic``; params c2, sigma2, signal);
* ``power_law``: s_j ~ j^-alpha (``Problem.power_law``; params alpha, source, c2, sigma2,
  signal);
* ``file``: a problem stored in an ``.npz`` file with arrays ``eigs``, ``w1_sq``, ``delta_sq``
  and the scalar ``sigma2`` (param ``path``; ``d`` None or equal to the file's; ``c2`` and
  ``sigma2``, when given, rescale the stored shift and replace the stored noise), so that any
  spectrum, for example one measured on data, runs from the CLI and TOML.

The registry lives beside the class it builds (``simcollapse.problem``), so that
``Problem.from_family`` needs nothing above it; this module is its public name.

Example:
  >>> from simcollapse.families import from_family
  >>> from_family("power_law", 100, alpha=1.2, c2=0.3).d
  100
"""

from __future__ import annotations

from simcollapse.problem import Family, families, from_family, load_file, register_family

__all__ = ["Family", "families", "from_family", "load_file", "register_family"]
