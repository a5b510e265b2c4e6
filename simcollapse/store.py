"""Results on disk: one parquet file per finished piece of work, keyed by a hash of its config.

Every write goes to a temporary file in the same folder and is then renamed into place
(``os.replace`` is atomic on POSIX), so a process killed at any moment leaves either the whole
file or nothing: rerunning skips what is finished and recomputes only the piece that was in flight.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ResultStore", "atomic_write_parquet", "config_hash"]


def _canonical(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_canonical(v) for v in obj.tolist()]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float):
        return float(repr(obj)) if np.isfinite(obj) else repr(obj)
    if isinstance(obj, (str, int, bool)) or obj is None:
        return obj
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot hash a config value of type {type(obj).__name__}: {obj!r}")


def config_hash(config: Any, length: int = 16) -> str:
    """A stable hex digest of a JSON-like config (dict key order does not matter)."""
    text = json.dumps(_canonical(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def atomic_write_parquet(table: pd.DataFrame, target: str | os.PathLike[str]) -> Path:
    """Write ``table`` to ``target`` atomically: a temporary file in the same folder, renamed."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".parquet")
    except OSError as err:
        raise OSError(f"cannot write results under {target.parent}: {err.strerror}") from err
    os.close(fd)
    try:
        table.to_parquet(tmp, index=False)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


class ResultStore:
    """A folder of parquet tables, one per (namespace, config) key, written atomically.

    Args:
      root: the folder; created on first write. An unwritable place raises a clear error there.

    Example:
      >>> store = ResultStore("out/store")                                  # doctest: +SKIP
      >>> df = store.get_or_compute("mnist", {"n": 100}, lambda: run(100))  # doctest: +SKIP
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, namespace: str, key: Any) -> Path:
        """Where the table for ``key`` lives: ROOT/namespace/<hash>.parquet."""
        return self.root / namespace / f"{config_hash(key)}.parquet"

    def has(self, namespace: str, key: Any) -> bool:
        return self.path(namespace, key).exists()

    def load(self, namespace: str, key: Any) -> pd.DataFrame:
        return pd.read_parquet(self.path(namespace, key))

    def save(self, namespace: str, key: Any, table: pd.DataFrame) -> Path:
        """Write ``table`` atomically (temporary file, then rename) and return its path."""
        return atomic_write_parquet(table, self.path(namespace, key))

    def get_or_compute(
        self,
        namespace: str,
        key: Any,
        compute: Callable[[], pd.DataFrame],
        *,
        force: bool = False,
    ) -> pd.DataFrame:
        """Load the table for ``key``, or compute, save and return it (``force`` recomputes)."""
        if not force and self.has(namespace, key):
            return self.load(namespace, key)
        table = compute()
        self.save(namespace, key, table)
        return table
