"""The four original MNIST files: names, sizes, checksums, and verifying them.

Sizes and SHA-256 digests are those tensorflow-datasets registers for its
``mnist`` dataset (``tensorflow_datasets/url_checksums/mnist.txt``), so files
that pass :func:`verify_dir` are exactly what tfds itself would download.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from mnistkit.errors import DataError


@dataclass(frozen=True)
class MnistFile:
    """One of the four original MNIST files."""

    name: str
    split: Literal["train", "test"]
    kind: Literal["images", "labels"]
    size: int
    sha256: str


TRAIN_IMAGES = MnistFile(
    "train-images-idx3-ubyte.gz", "train", "images", 9_912_422,
    "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
)
TRAIN_LABELS = MnistFile(
    "train-labels-idx1-ubyte.gz", "train", "labels", 28_881,
    "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
)
TEST_IMAGES = MnistFile(
    "t10k-images-idx3-ubyte.gz", "test", "images", 1_648_877,
    "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
)
TEST_LABELS = MnistFile(
    "t10k-labels-idx1-ubyte.gz", "test", "labels", 4_542,
    "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
)
FILES: tuple[MnistFile, ...] = (TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)
FILE_NAMES: tuple[str, ...] = tuple(f.name for f in FILES)
TOTAL_BYTES = sum(f.size for f in FILES)

_GET_THEM = "copy the four original MNIST .gz files there (see `mnistkit data status`)"


def find_file(directory: str | os.PathLike, spec: MnistFile) -> Path | None:
    """Return the path of ``spec`` in ``directory``, gzipped or not, or None.

    ``train-images-idx3-ubyte.gz`` is preferred; an uncompressed
    ``train-images-idx3-ubyte`` is accepted too (the IDX reader detects gzip).
    """
    for name in (spec.name, spec.name.removesuffix(".gz")):
        path = Path(directory) / name
        if path.is_file() or path.is_symlink():  # a broken link or a loop is read, so its reader names the problem
            return path
    return None


def sha256_of(path: str | os.PathLike) -> str:
    """Return the hex SHA-256 digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_kind(path: Path, spec: MnistFile) -> None:
    """A file of the wrong size that is the other kind of IDX file (swapped names) is named as such."""
    import gzip

    from mnistkit.data import idx

    try:
        with gzip.open(path, "rb") as f:
            head = f.read(4)
    except (OSError, EOFError):
        return  # not gzip, or damaged: the size and checksum checks say so
    if len(head) == 4:
        idx.check_kind(head, "images" if "images" in spec.name else "labels", str(path))


def verify_file(path: str | os.PathLike, spec: MnistFile) -> None:
    """Check one file's size, then its SHA-256, against ``spec``.

    Raises ``DataError`` naming the file: missing, truncated (smaller than
    expected), wrong size (larger), or corrupt (right size, wrong checksum).
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise DataError(f"{path} is not a file; {_GET_THEM}")
        if size != spec.size:
            _check_kind(path, spec)
        if size < spec.size:
            raise DataError(
                f"{path} is truncated ({size:,} of {spec.size:,} bytes); "
                "copy or download it again"
            )
        if size != spec.size:
            raise DataError(
                f"{path} has the wrong size ({size:,} bytes, expected {spec.size:,}); "
                "it is not the original MNIST file"
            )
        digest = sha256_of(path)
    except FileNotFoundError:
        raise DataError(f"{path} is missing; {_GET_THEM}") from None
    except OSError as err:
        raise DataError(f"cannot read {path}: {err.strerror or err}") from None
    if digest != spec.sha256:
        raise DataError(
            f"{path} is corrupt (SHA-256 {digest[:12]}..., expected {spec.sha256[:12]}...); "
            "copy or download it again"
        )


def verify_dir(directory: str | os.PathLike, specs: Sequence[MnistFile] = FILES) -> None:
    """Check that ``directory`` holds the four original MNIST .gz files, intact.

    Checks, file by file in ``specs`` order (by default :data:`FILES`),
    presence, size and SHA-256; raises ``DataError`` naming the first bad
    file. Returns None when all are byte-identical to the originals.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"MNIST directory {directory} does not exist or is not a directory")
    for spec in specs:
        verify_file(directory / spec.name, spec)


def write_dir(directory: str | os.PathLike, train_images, train_labels, test_images, test_labels,
              *, gz: bool = True) -> Path:
    """Write four arrays as a folder in the original MNIST layout (names, IDX format); return the folder.

    For data made up in tests and benchmarks: ``mnistkit run --data idx
    --data-dir DIR`` reads it like the real files. ``gz=False`` writes the
    names without ``.gz``, uncompressed.
    """
    from mnistkit.data import idx

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = (train_images, train_labels, test_images, test_labels)
    for spec, array in zip(FILES, arrays, strict=True):
        idx.write_idx(directory / (spec.name if gz else spec.name.removesuffix(".gz")), array)
    return directory


def is_original(directory: str | os.PathLike) -> bool:
    """True when ``directory`` passes :func:`verify_dir` (sizes first, so usually cheap)."""
    directory = Path(directory)
    if any(_size(directory / f.name) != f.size for f in FILES):
        return False
    try:
        verify_dir(directory)
    except DataError:
        return False
    return True


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None
