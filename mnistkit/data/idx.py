"""Read and write MNIST's IDX files, gzip-compressed or raw.

IDX is a tiny format: a big-endian int32 magic (two zero bytes, a type byte
``0x08`` for uint8, then the number of dimensions), one big-endian int32 per
dimension, then the data. MNIST uses ``0x00000803`` for images (N, 28, 28) and
``0x00000801`` for labels (N,).

Every problem a file can have (unreadable, bad gzip, wrong magic, wrong shape,
truncated, trailing bytes, labels outside 0-9, image and label counts that
disagree) raises :class:`~mnistkit.errors.DataError` naming the file. Nothing
else escapes from the readers, whatever bytes they are given.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path
from typing import Literal

import numpy as np

from mnistkit.errors import DataError

Kind = Literal["images", "labels"]

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10

_GZIP_MAGIC = b"\x1f\x8b"
_MAGIC_FOR = {"images": IMAGES_MAGIC, "labels": LABELS_MAGIC}
_FIX = "use the original MNIST files or run `mnistkit data import DIR` again"


def parse_idx(raw: bytes, kind: Kind, *, source: str = "<bytes>") -> np.ndarray:
    """Parse the bytes of an MNIST IDX file (gzip detected by its magic bytes).

    Returns images as a (N, 28, 28) uint8 array or labels as a (N,) int32
    array, both writable. Raises ``DataError`` naming ``source`` if the bytes are
    not exactly a valid file of that kind.
    """
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:
            raise DataError(f"{source} is not a valid gzip file ({err}); {_FIX}") from None
    dims = _parse_header(raw, kind, source)
    header_len = 4 + 4 * len(dims)
    expected = _product(dims)
    actual = len(raw) - header_len
    if actual < expected:
        raise DataError(
            f"{source} is truncated: its header promises {expected:,} data bytes "
            f"but only {actual:,} follow; {_FIX}"
        )
    if actual > expected:
        raise DataError(
            f"{source} has {actual - expected:,} unexpected bytes after the "
            f"{expected:,} its header promises; {_FIX}"
        )
    data = np.frombuffer(raw, dtype=np.uint8, offset=header_len).reshape(dims)
    if kind == "images":
        return data.copy()
    if data.size and int(data.max()) >= NUM_CLASSES:
        bad = int(data.max())
        raise DataError(f"{source} holds label {bad}, but MNIST labels are 0 to 9; {_FIX}")
    return data.astype(np.int32)


def read_idx(path: str | os.PathLike, kind: Kind) -> np.ndarray:
    """Read an MNIST IDX file of the given kind; see :func:`parse_idx`."""
    return parse_idx(_read_bytes(path), kind, source=str(path))


def read_images(path: str | os.PathLike) -> np.ndarray:
    """Read an MNIST images file: (N, 28, 28) uint8."""
    return read_idx(path, "images")


def read_labels(path: str | os.PathLike) -> np.ndarray:
    """Read an MNIST labels file: (N,) int32 with values 0 to 9."""
    return read_idx(path, "labels")


def read_pair(
    images_path: str | os.PathLike, labels_path: str | os.PathLike
) -> tuple[np.ndarray, np.ndarray]:
    """Read an images file and its labels file; their counts must agree."""
    images = read_images(images_path)
    labels = read_labels(labels_path)
    if len(images) != len(labels):
        raise DataError(
            f"{images_path} has {len(images):,} images but {labels_path} has "
            f"{len(labels):,} labels; use an images file and a labels file from the same set"
        )
    return images, labels


def read_count(path: str | os.PathLike, kind: Kind) -> int:
    """Return the item count in an IDX file's header, reading only the header.

    Cheap (no full decompression) and meant for status displays; it does not
    check the data, so a later :func:`read_idx` may still fail.
    """
    try:
        with open(path, "rb") as f:
            gzipped = f.read(2) == _GZIP_MAGIC
        opener = gzip.open if gzipped else open
        with opener(path, "rb") as f:
            head = f.read(16)
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(f"cannot read {path}: {_reason(err)}; {_FIX}") from None
    return _parse_header(head, kind, str(path))[0]


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write a uint8-valued array as an IDX file, gzip-compressed if path ends in .gz.

    Gzip output is reproducible: no file name and mtime 0 in the gzip header,
    so equal arrays give equal bytes. The file is written to a temporary name
    and renamed, so a reader never sees half a file.
    """
    array = np.asarray(array)
    if array.size and (array.min() < 0 or array.max() > 255):
        raise ValueError("IDX uint8 data must lie in 0..255")
    if not 1 <= array.ndim <= 255:
        raise ValueError("IDX arrays need 1 to 255 dimensions")
    header = struct.pack(f">I{array.ndim}I", 0x0800 | array.ndim, *array.shape)
    raw = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    path = Path(path)
    if path.suffix == ".gz":
        raw = gzip.compress(raw, compresslevel=9, mtime=0)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(raw)
    os.replace(tmp, path)


def check_kind(raw: bytes, kind: Kind, source: str) -> int:
    """``DataError`` unless ``raw`` starts like an IDX file of ``kind``; returns its magic number.

    The words are the same wherever a file of the wrong kind turns up (a
    labels file where the images belong, say): ``mnistkit run`` and
    ``mnistkit data import`` alike.
    """
    if len(raw) < 4:
        raise DataError(f"{source} is too short to be an IDX file ({len(raw)} bytes); {_FIX}")
    (magic,) = struct.unpack(">I", raw[:4])
    if magic != _MAGIC_FOR[kind]:
        other = {v: k for k, v in _MAGIC_FOR.items()}.get(magic)
        what = f"an IDX {other} file" if other else f"not an IDX {kind} file (magic 0x{magic:08x})"
        raise DataError(
            f"{source} is {what}, but MNIST {kind} are needed "
            f"(magic 0x{_MAGIC_FOR[kind]:08x}); check which file goes where"
        )
    return magic


def _parse_header(raw: bytes, kind: Kind, source: str) -> tuple[int, ...]:
    magic = check_kind(raw, kind, source)
    ndim = magic & 0xFF
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise DataError(f"{source} is truncated inside its header; {_FIX}")
    dims = struct.unpack(f">{ndim}I", raw[4:header_len])
    if kind == "images" and dims[1:] != IMAGE_SHAPE:
        size = "x".join(map(str, dims[1:]))
        raise DataError(f"{source} holds {size} images, but MNIST images are 28x28; {_FIX}")
    return dims


def _read_bytes(path: str | os.PathLike) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise DataError(f"cannot read {path}: {_reason(err)}") from None


def _reason(err: BaseException) -> str:
    return getattr(err, "strerror", None) or str(err) or type(err).__name__


def _product(dims: tuple[int, ...]) -> int:
    total = 1
    for d in dims:
        total *= d
    return total
