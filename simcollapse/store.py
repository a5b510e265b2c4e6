"""Results on disk: one parquet file per finished piece of work, keyed by a hash of its config.

Every write goes to a temporary file in the hidden folder ``.simcollapse-tmp`` next to its target
(no ``*.parquet`` glob matches it) and is then renamed into place (``os.replace`` is atomic on
POSIX), so a process killed at any moment leaves either the whole file or nothing: rerunning skips
what is finished and recomputes only the piece that was in flight; the next write into the folder
removes the temporary files of processes that died (``sweep_debris``). Files get the mode the
user's umask allows (as ``open`` would), not the 0600 of a temporary file. Data pages carry CRC
checksums (parquet's ``write_page_checksum``).

Every read is verified (``read_verified``): the parquet footer, the page checksums, the key the file
was written under (when the caller knows it), and the row count and columns the caller expects. A
file that fails (truncated by a full disk, a flipped bit, a bad copy, another computation's result)
is reported in one ``StoreWarning``, moved aside to ``<name>.corrupt`` and treated as missing, so it
is recomputed. A file that cannot be read for a passing reason (no memory, no permission) is left
alone: ``StoreReadError`` names it and the cause.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import socket
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from simcollapse import _version
from simcollapse.provenance import add_provenance

__all__ = [
    "KEY_METADATA",
    "TMP_FOLDER",
    "ResultStore",
    "StoreReadError",
    "StoreWarning",
    "atomic_write_parquet",
    "cached_run",
    "config_hash",
    "experiment_key",
    "file_fingerprint",
    "file_mode",
    "quarantine",
    "read_verified",
    "sweep_debris",
]

# Page checksums cover every data page; the footer's min/max statistics are not covered by any
# checksum, and a flipped one would make a filtered lazy read skip rows silently, so none are
# written (a filter then reads the pages, whose checksums are verified).
PARQUET_OPTIONS: dict[str, Any] = {"write_page_checksum": True, "write_statistics": False}
TMP_FOLDER = ".simcollapse-tmp"  # temporary files, hidden from globs of the results
KEY_METADATA = b"simcollapse.key"  # the parquet key-value metadata holding a file's key
SCHEMA_METADATA = b"simcollapse.schema"  # a digest of the column names, types and metadata
STALE_S = 24 * 3600  # a temporary file this old is debris whoever wrote it
LEGACY_STALE_S = 600  # older versions wrote .tmp-*.parquet next to the results
# Reasons a read may fail that say nothing about the file: never quarantine for these.
TRANSIENT_ERRNOS = {errno.EACCES, errno.EPERM, errno.ENOMEM, errno.EMFILE, errno.ENFILE,
                    errno.EAGAIN, errno.EINTR, errno.ESTALE}  # fmt: skip


class StoreWarning(UserWarning):
    """A stored result could not be used (corrupt, truncated, unexpected) and will be recomputed.

    Example:
      >>> import pathlib, tempfile, warnings
      >>> bad = pathlib.Path(tempfile.mkdtemp()) / "table.parquet"
      >>> _ = bad.write_bytes(b"not parquet")
      >>> with warnings.catch_warnings(record=True) as caught:
      ...     warnings.simplefilter("always")
      ...     table = read_verified(bad)
      >>> table is None, caught[0].category is StoreWarning
      (True, True)
    """


class StoreReadError(OSError):
    """A stored file could not be read for a reason that is not its content (memory,
    permission): it is left in place and the run stops, naming the file and the cause.

    Example:
      >>> str(StoreReadError("cannot read t.parquet: out of memory"))
      'cannot read t.parquet: out of memory'
    """


@contextlib.contextmanager
def one_line_warnings(prefix: str) -> Iterator[None]:
    """Within the block, StoreWarnings and FutureWarnings (older spellings) print as one line
    ``<prefix>: warning: <message>``."""
    original = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ANN001
        if issubclass(category, (StoreWarning, FutureWarning)):
            print(f"{prefix}: warning: {message}", file=sys.stderr)
        else:
            original(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = original


def file_mode() -> int:
    """The mode a new file gets under the current umask (0666 & ~umask).

    Example:
      >>> mode = file_mode()
      >>> oct(mode & 0o111), mode & ~0o666 == 0  # read/write bits only: never executable
      ('0o0', True)
    """
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def quarantine(
    path: str | os.PathLike[str], why: str, aside: str | os.PathLike[str] | None = None
) -> Path | None:
    """Move a bad stored file (or folder) aside and warn in one line (a StoreWarning).

    Args:
      path: the bad file or folder.  why: what is wrong with it, for the warning.
      aside: where to move it (default ``<name>.corrupt`` next to it); replaced if it exists.

    Returns:
      The new path, or None if the file could not be moved (it is then left in place).

    Example:
      >>> import pathlib, tempfile, warnings
      >>> bad = pathlib.Path(tempfile.mkdtemp()) / "t.parquet"
      >>> _ = bad.write_text("truncated")
      >>> with warnings.catch_warnings():
      ...     warnings.simplefilter("ignore", StoreWarning)
      ...     moved = quarantine(bad, "truncated")
      >>> moved.name, bad.exists()
      ('t.parquet.corrupt', False)
    """
    path = Path(path)
    target = Path(aside) if aside is not None else path.with_name(path.name + ".corrupt")
    try:
        if target.is_dir():
            shutil.rmtree(target)
        os.replace(path, target)
    except OSError:
        target = None
    where = f"moved to {target.name}" if target else "could not be moved"
    warnings.warn(f"{path} is unusable ({why}); {where}, recomputing", StoreWarning, stacklevel=3)
    return target


def _transient(err: BaseException) -> str | None:
    """The cause, when ``err`` is a failure to read that says nothing about the file."""
    if isinstance(err, MemoryError):
        return "out of memory"
    if isinstance(err, OSError) and err.errno in TRANSIENT_ERRNOS:
        return os.strerror(err.errno)
    if isinstance(err, PermissionError):
        return "permission denied"
    return None


def stored_key(path: str | os.PathLike[str]) -> Any:
    """The key a file was written under (``atomic_write_parquet(..., key=...)``), or None."""

    meta = pq.read_metadata(path).metadata or {}
    return json.loads(meta[KEY_METADATA]) if KEY_METADATA in meta else None


def _schema_digest(schema: Any, file_metadata: Mapping[bytes, bytes]) -> str:
    """SHA-256 of a table's columns (names, types) and metadata other than ours, as the
    schema and as the file's key-value metadata (pandas reads both): the footer's bytes that page
    checksums do not cover, so a flipped bit that renames a column is caught."""

    def entries(meta: Mapping[bytes, bytes] | None) -> dict[str, str]:
        skip = (KEY_METADATA, SCHEMA_METADATA, b"ARROW:schema")
        return {
            k.decode(errors="replace"): v.hex() for k, v in (meta or {}).items() if k not in skip
        }

    text = json.dumps(
        [str(schema.remove_metadata()), entries(schema.metadata), entries(file_metadata)],
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _key_difference(found: Any, expected: Any) -> str:
    """Which part of a stored key differs from the expected one, for the warning."""
    if found is None:
        return "it carries no key"
    if isinstance(found, Mapping) and isinstance(expected, Mapping):
        for name in sorted(set(found) | set(expected), key=str):
            if found.get(name) != expected.get(name):
                return f"its key differs in {name!r}"
    return "its key differs"


def read_verified(
    path: str | os.PathLike[str],
    *,
    rows: int | None = None,
    columns: Collection[str] = (),
    key: Any = None,
) -> pd.DataFrame | None:
    """Read a stored parquet table, or None if it is missing or fails verification.

    Verified: the parquet footer (a truncated file has none), the key the file was written
    under (when ``key`` is given: a file of another computation is refused, whatever its shape),
    the number of rows (when ``rows`` is given) and that ``columns`` are present; then the data
    pages are read with their checksums verified (a flipped bit is caught). A file that fails is
    quarantined (one StoreWarning) and None is returned, so the caller recomputes it.

    Raises:
      StoreReadError: the file could not be read for a reason that is not its content (out of
        memory, permission denied); it is left in place.

    Example:
      >>> import pandas as pd, pathlib, tempfile
      >>> target = pathlib.Path(tempfile.mkdtemp()) / "t.parquet"
      >>> path = atomic_write_parquet(pd.DataFrame({"x": [1, 2]}), target, key={"n": 2})
      >>> read_verified(path, rows=2, columns=["x"], key={"n": 2}).x.tolist()
      [1, 2]
      >>> read_verified(path.with_name("missing.parquet")) is None
      True
    """

    path = Path(path)
    if not path.exists():
        return None
    try:
        handle = pq.ParquetFile(path, page_checksum_verification=True)
        meta = handle.metadata
        if key is not None:
            found = (meta.metadata or {}).get(KEY_METADATA)
            found = None if found is None else json.loads(found)
            if found != canonical_json(key):
                raise ValueError(
                    f"written by another computation: {_key_difference(found, canonical_json(key))}"
                )
            digest = _schema_digest(handle.schema_arrow, meta.metadata or {})
            if (meta.metadata or {}).get(SCHEMA_METADATA) != digest.encode():
                raise ValueError("its columns do not match their checksum")
        missing = set(columns) - set(meta.schema.names)
        if missing:
            raise ValueError(f"missing columns {sorted(missing)}")
        if rows is not None and meta.num_rows != rows:
            raise ValueError(f"{meta.num_rows} rows, expected {rows}")
        return handle.read().to_pandas()
    except Exception as err:  # noqa: BLE001 - any failure to read means: recompute
        cause = _transient(err)
        if cause is not None:
            raise StoreReadError(
                f"cannot read {path}: {cause}; the file is left as it is: "
                "fix the cause and run the same command again"
            ) from err
        quarantine(path, str(err).splitlines()[0] if str(err) else type(err).__name__)
        return None


def canonical_json(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {
            str(k): canonical_json(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))
        }
    if isinstance(obj, (list, tuple)):
        return [canonical_json(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [canonical_json(v) for v in obj.tolist()]
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
    """A stable hex digest of a JSON-like config (dict key order does not matter).

    Example:
      >>> config_hash({"n": 100, "lam": 0.1}) == config_hash({"lam": 0.1, "n": 100})
      True
      >>> len(config_hash({"n": 100})), len(config_hash({"n": 100}, length=8))
      (16, 8)
    """
    text = json.dumps(canonical_json(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def temporary_path(target: str | os.PathLike[str]) -> Path:
    """A fresh temporary file name for ``target``: in the hidden ``.simcollapse-tmp`` folder
    next to it (created), named by host and process so that ``sweep_debris`` knows its owner."""
    target = Path(target)
    folder = target.parent / TMP_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    host = socket.gethostname().replace("-", "_")
    return folder / f"{host}-{os.getpid()}-{uuid.uuid4().hex[:12]}.part"


def sweep_debris(folder: str | os.PathLike[str]) -> int:
    """Remove the temporary files left in ``folder`` by processes that died while writing.

    A temporary file is debris when the process that wrote it (on this host) no longer runs, or
    when it is more than a day old; the ``.tmp-*.parquet`` files of older versions count when they
    are more than ten minutes old. Files of running writers are kept.

    Returns:
      The number of files removed.

    Example:
      >>> import pathlib, tempfile
      >>> folder = pathlib.Path(tempfile.mkdtemp())
      >>> (folder / TMP_FOLDER).mkdir()
      >>> _ = (folder / TMP_FOLDER / "somehost-999999999-abc.part").write_text("x")
      >>> _ = (folder / TMP_FOLDER / "old.part").write_text("x")
      >>> import os; os.utime(folder / TMP_FOLDER / "old.part", (0, 0))
      >>> sweep_debris(folder)  # the old file; another host's recent one is kept
      1
    """
    folder = Path(folder)
    now = time.time()
    host = socket.gethostname().replace("-", "_")
    removed = 0
    candidates = [(p, STALE_S) for p in (folder / TMP_FOLDER).glob("*.part")]
    candidates += [(p, LEGACY_STALE_S) for p in folder.glob(".tmp-*.parquet")]
    for path, stale in candidates:
        try:
            dead = False
            parts = path.name.split("-")
            if len(parts) == 3 and parts[0] == host and parts[1].isdigit():
                dead = not _alive(int(parts[1]))
            if dead or now - path.stat().st_mtime > stale:
                path.unlink()
                removed += 1
        except OSError:
            continue  # gone meanwhile, or not ours to remove
    return removed


def atomic_write_parquet(
    table: pd.DataFrame, target: str | os.PathLike[str], *, key: Any = None
) -> Path:
    """Write ``table`` to ``target`` atomically: a hidden temporary file, renamed into place.

    Data pages get CRC checksums; ``key`` (JSON-like), when given, is stored in the file's
    metadata, so that ``read_verified(..., key=...)`` refuses a file of another computation.

    Example:
      >>> import pandas as pd, pathlib, tempfile
      >>> target = pathlib.Path(tempfile.mkdtemp()) / "t.parquet"
      >>> atomic_write_parquet(pd.DataFrame({"x": [1.0]}), target) == target, target.exists()
      (True, True)
      >>> sorted(p.name for p in target.parent.iterdir())  # the temporary folder is empty
      ['.simcollapse-tmp', 't.parquet']
    """

    target = Path(target)
    try:
        tmp = temporary_path(target)
    except OSError as err:
        raise OSError(f"cannot write results under {target.parent}: {err.strerror}") from err
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    if key is not None:
        text = json.dumps(canonical_json(key), sort_keys=True, separators=(",", ":"))
        digest = _schema_digest(arrow.schema, arrow.schema.metadata or {}).encode()
        arrow = arrow.replace_schema_metadata(
            {**(arrow.schema.metadata or {}), KEY_METADATA: text.encode(), SCHEMA_METADATA: digest}
        )
    try:
        pq.write_table(arrow, tmp, **PARQUET_OPTIONS)
        os.chmod(tmp, file_mode())
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
      >>> import pandas as pd, tempfile
      >>> store = ResultStore(tempfile.mkdtemp())
      >>> calls = []
      >>> def run():
      ...     calls.append(1)
      ...     return pd.DataFrame({"n": [100], "total": [0.5]})
      >>> first = store.get_or_compute("demo", {"n": 100}, run)
      >>> again = store.get_or_compute("demo", {"n": 100}, run)  # loaded, not recomputed
      >>> len(calls), again.equals(first)
      (1, True)
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, namespace: str, key: Any) -> Path:
        """Where the table for ``key`` lives: ROOT/namespace/<hash>.parquet."""
        return self.root / namespace / f"{config_hash(key)}.parquet"

    def has(self, namespace: str, key: Any) -> bool:
        return self.path(namespace, key).exists()

    def load(self, namespace: str, key: Any) -> pd.DataFrame | None:
        """The stored table for ``key``, or None if missing or unreadable (then quarantined)."""
        return read_verified(self.path(namespace, key))

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
        """Load the table for ``key``, or compute, save and return it (``force`` recomputes).

        A stored table that fails verification is quarantined (a StoreWarning) and recomputed.
        """
        if not force:
            stored = self.load(namespace, key)
            if stored is not None:
                return stored
        table = compute()
        self.save(namespace, key, table)
        return table


def file_fingerprint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A data source as it enters a cache key: the resolved path and a SHA-256 of its bytes
    (an edited or replaced file gives a new key, whatever its time stamp).

    Example:
      >>> import pathlib, tempfile
      >>> path = pathlib.Path(tempfile.mkdtemp()) / "data.txt"
      >>> _ = path.write_text("abc")
      >>> file_fingerprint(path)["sha256"][:12]
      'ba7816bf8f01'
    """
    path = Path(path).resolve()
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return {"path": str(path), "sha256": digest.hexdigest()}


def experiment_key(config: Mapping[str, Any], source: Any = None) -> dict[str, Any]:
    """The cache key of one experiment run: the fully resolved configuration (every setting
    the result depends on, defaults included), the library version and the data source.

    Example:
      >>> key = experiment_key({"n": 100, "lam": 0.1}, source="builtin")
      >>> sorted(key)
      ['config', 'source', 'version']
    """
    return {"config": dict(config), "version": _version.__version__, "source": source}


def cached_run(
    store: ResultStore | None,
    namespace: str,
    config: Mapping[str, Any],
    compute: Callable[[], pd.DataFrame],
    *,
    source: Any = None,
    force: bool = False,
) -> pd.DataFrame:
    """Run one experiment (an MNIST fit, an LM run, ...) or read it back from ``store``.

    The one cached-experiment runner: the key is ``experiment_key(config, source)``, so
    changing any setting, the library version or the data gives a new entry (nothing stale is
    read); a stored entry that fails verification is recomputed (``ResultStore``). The table
    gets the provenance columns (``simcollapse.provenance``).

    Args:
      store: where results live; None computes without caching.
      namespace: the kind of experiment (a folder of the store).
      config: every setting of the run, resolved (plain JSON-like values).
      compute: produces the result table.
      source: the data source (``file_fingerprint`` of a file, or a name for built-in data).
      force: recompute even if stored.

    Example:
      >>> import pandas as pd, tempfile
      >>> store = ResultStore(tempfile.mkdtemp())
      >>> int(cached_run(store, "demo", {"n": 3}, lambda: pd.DataFrame({"x": [1, 2]})).x.sum())
      3
    """

    def computed() -> pd.DataFrame:
        return add_provenance(compute())

    if store is None:
        return computed()
    return store.get_or_compute(namespace, experiment_key(config, source), computed, force=force)
