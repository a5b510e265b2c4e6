"""Where a stored result came from: library, JAX and jaxlib versions, devices, git revision.

Every stored table carries these as constant columns (``provenance_columns``), so a table found
on disk months later says what produced it.
"""

from __future__ import annotations

import functools
import importlib.metadata
import subprocess
from pathlib import Path

import jax
import pandas as pd

from simcollapse._version import __version__

__all__ = ["add_provenance", "provenance_columns"]

REPO = Path(__file__).resolve().parents[1]


def library_version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


@functools.cache
def _git_revision() -> str:
    """The checkout's commit (with "+dirty" for local changes), or "" outside a git checkout."""
    if not (REPO / ".git").exists():
        return ""
    try:
        rev = subprocess.run(
            ["git", "-C", str(REPO), "describe", "--always", "--dirty=+dirty", "--abbrev=12"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return ""
    return rev


def provenance_columns() -> dict[str, str | int]:
    """The provenance of results computed now, in this process.

    Returns:
      {"version": simcollapse's version, "jax_version", "jaxlib_version", "device_kind" (e.g.
      "cpu" or "NVIDIA H100"), "device_count" (all processes), "git_revision" ("" when not
      run from a git checkout)}.

    Example:
      >>> sorted(provenance_columns())[:3]
      ['device_count', 'device_kind', 'git_revision']
    """

    device = jax.devices()[0]
    return {
        "version": __version__,
        "jax_version": jax.__version__,
        "jaxlib_version": library_version("jaxlib"),
        "device_kind": str(getattr(device, "device_kind", device.platform)),
        "device_count": int(jax.device_count()),
        "git_revision": _git_revision(),
    }


def add_provenance(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with the provenance columns added (existing ones are kept as they are).

    Args:
      table: any table; one without columns is returned unchanged.

    Returns:
      A new table: ``table``'s columns, then each column of ``provenance_columns`` it lacks,
      constant over the rows.

    Example:
      >>> table = add_provenance(pd.DataFrame({"n": [100, 200], "version": ["mine", "mine"]}))
      >>> list(table.columns)  # doctest: +NORMALIZE_WHITESPACE
      ['n', 'version', 'jax_version', 'jaxlib_version', 'device_kind', 'device_count',
       'git_revision']
      >>> table.version.tolist(), table.jax_version.iloc[0] == jax.__version__
      (['mine', 'mine'], True)
    """
    extra = {k: v for k, v in provenance_columns().items() if k not in table.columns}
    return table.assign(**extra) if len(table.columns) else table
