"""Read and write IDX files, the format of the original MNIST distribution.

Layout (Y. LeCun, http://yann.lecun.com/exdb/mnist/): two zero bytes, one byte for the element
type (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), one byte for the
number of dimensions ``k``, then ``k`` big-endian uint32 sizes, then the elements in C order,
big-endian. Files ending in ``.gz`` are read and written through gzip.
"""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np

__all__ = ["IDXError", "read_idx", "write_idx"]

_CODES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_KINDS = {(dt.kind, dt.itemsize): code for code, dt in _CODES.items()}


class IDXError(ValueError):
    """A file that is not a well-formed IDX file (bad magic number, truncated, trailing bytes).

    Example:
      >>> import pathlib, tempfile
      >>> bad = pathlib.Path(tempfile.mkdtemp()) / "bad-idx1-ubyte"
      >>> _ = bad.write_bytes(bytes([0, 0, 8]))
      >>> try:
      ...     read_idx(bad)
      ... except IDXError as err:
      ...     print(type(err).__name__)
      IDXError
    """


def _open(path: Path, mode: str):
    return gzip.open(path, mode) if path.suffix == ".gz" else open(path, mode)


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (optionally gzipped) into a NumPy array in native byte order.

    Args:
      path: the file; a name ending in ``.gz`` is decompressed on the fly.

    Returns:
      An array with the file's shape and element type (uint8 for MNIST images and labels).

    Raises:
      FileNotFoundError: ``path`` does not exist.
      IDXError: the magic number is wrong, the header or the data is truncated, or bytes follow
        the data; the message names the file and what was expected.

    Example:
      >>> import numpy as np, pathlib, tempfile
      >>> path = pathlib.Path(tempfile.mkdtemp()) / "images-idx3-ubyte.gz"
      >>> images = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
      >>> back = read_idx(write_idx(path, images))
      >>> back.shape, back.dtype, bool((back == images).all())
      ((2, 3, 3), dtype('uint8'), True)
      >>> read_idx("mnist/train-images-idx3-ubyte.gz").shape  # doctest: +SKIP
      (60000, 28, 28)
    """
    path = Path(path)
    try:
        with _open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as err:
        if isinstance(err, FileNotFoundError):
            raise
        raise IDXError(f"{path}: cannot read ({err}); is it a truncated or corrupt file?") from err
    if len(raw) < 4:
        raise IDXError(f"{path}: truncated header ({len(raw)} bytes, need at least 4)")
    zero0, zero1, code, ndim = raw[0], raw[1], raw[2], raw[3]
    if zero0 != 0 or zero1 != 0 or code not in _CODES:
        magic = int.from_bytes(raw[:4], "big")
        raise IDXError(
            f"{path}: wrong magic number 0x{magic:08X}; an IDX file starts with 0x0000TTDD, "
            f"TT in {{{', '.join(f'0x{c:02X}' for c in _CODES)}}} (element type), DD = dimensions"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXError(
            f"{path}: truncated header ({len(raw)} bytes, need {header} for {ndim} dims)"
        )
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = _CODES[code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) < expected:
        raise IDXError(
            f"{path}: truncated data: {len(raw)} bytes, need {expected} for shape {shape} "
            f"of {dtype.name}"
        )
    if len(raw) > expected:
        raise IDXError(f"{path}: {len(raw) - expected} unexpected bytes after the data")
    arr = np.frombuffer(raw, dtype=dtype, offset=header, count=int(np.prod(shape, dtype=np.int64)))
    return arr.reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> Path:
    """Write ``array`` as an IDX file (gzipped when ``path`` ends in ``.gz``).

    Args:
      path: where to write.
      array: uint8, int8, int16, int32, float32 or float64 array with 1 to 255 dimensions.

    Returns:
      The path written.

    Raises:
      ValueError: an element type or a number of dimensions the format cannot hold.

    Example:
      >>> import numpy as np, pathlib, tempfile
      >>> path = pathlib.Path(tempfile.mkdtemp()) / "labels-idx1-ubyte.gz"
      >>> labels = np.array([3, 1, 4], np.uint8)
      >>> bool((read_idx(write_idx(path, labels)) == labels).all())
      True
    """
    arr = np.asarray(array)
    key = (arr.dtype.kind, arr.dtype.itemsize)
    if key not in _KINDS:
        raise ValueError(
            f"array dtype must be one of uint8, int8, int16, int32, float32, float64; "
            f"got {arr.dtype}"
        )
    if not 1 <= arr.ndim <= 255:
        raise ValueError(f"array must have 1 to 255 dimensions, got {arr.ndim}")
    code = _KINDS[key]
    header = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    path = Path(path)
    with _open(path, "wb") as f:
        f.write(header + np.ascontiguousarray(arr, dtype=_CODES[code]).tobytes())
    return path
