"""``mnistkit data import DIR``: take in the four original MNIST files, offline.

The files are verified (size and SHA-256) before anything is written. Then two
things are built in temporary directories beside their targets and moved into
place only once both are complete, so an error or Ctrl-C never leaves a
half-written dataset behind:

* mnistkit's own copy of the four files (``<home>/mnist``), which ``auto``
  loads first;
* the tensorflow-datasets ``mnist`` dataset, prepared from the local files
  (no network), so ``tfds.load("mnist")`` works offline, as in the tutorial.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mnistkit.data import files, lazy, locations
from mnistkit.errors import DataError, OutputError


@dataclass(frozen=True)
class ImportResult:
    """What ``import_idx_dir`` did."""

    idx_dir: Path
    """mnistkit's verified copy of the four files."""
    tfds_dir: Path
    """The prepared tfds ``mnist`` dataset (``<tfds data dir>/mnist/<version>``)."""
    prepared: bool
    """False when an already prepared tfds ``mnist`` was kept as it was."""
    seconds: float


def import_idx_dir(
    src_dir: str | os.PathLike,
    *,
    tfds_data_dir: str | os.PathLike | None = None,
    force: bool = False,
    notify: Callable[[str], None] = lambda msg: None,
) -> ImportResult:
    """Verify the four MNIST files in ``src_dir``, copy them, prepare tfds ``mnist``.

    ``tfds_data_dir`` defaults to ``$TFDS_DATA_DIR`` or ``~/tensorflow_datasets``.
    An existing prepared tfds ``mnist`` there is kept unless ``force``.
    Preparing takes about 20 s and makes no network access.

    Raises ``DataError`` naming the first missing, truncated or corrupt file
    (nothing is written then), and ``OutputError`` if a target cannot be
    written. On any failure, including KeyboardInterrupt, the targets are left
    as they were.
    """
    start = time.monotonic()
    src = Path(src_dir).expanduser()
    files.verify_dir(src)
    tfds_root = Path(tfds_data_dir).expanduser() if tfds_data_dir else locations.tfds_data_dir()
    tfds_target = locations.tfds_mnist_dir(tfds_root)
    idx_target = locations.imported_idx_dir()
    prepare = force or not locations.tfds_mnist_prepared(tfds_root)
    staging: list[Path] = []
    try:
        idx_new = _stage_copy(src, idx_target.parent, staging)
        if prepare:
            notify(f"Preparing tensorflow-datasets `mnist` in {tfds_root} (about 20 s, offline)")
            tfds_new = _stage_tfds(src, tfds_root, staging)
            _move_into_place(tfds_new, tfds_target)
        _move_into_place(idx_new, idx_target)
    finally:
        for path in staging:
            shutil.rmtree(path, ignore_errors=True)
    kept = "" if prepare else " (already prepared, kept)"
    notify(f"Imported MNIST: files in {idx_target}, tensorflow-datasets `mnist` in {tfds_target}{kept}")
    return ImportResult(idx_target, tfds_target, prepare, time.monotonic() - start)


def _stage_copy(src: Path, parent: Path, staging: list[Path]) -> Path:
    """Copy the four files into a new temporary folder in ``parent`` and re-verify."""
    tmp = _make_temp_dir(parent, ".mnist-import-", staging)
    try:
        for spec in files.FILES:
            shutil.copyfile(src / spec.name, tmp / spec.name)
    except OSError as err:
        raise OutputError(f"cannot copy the MNIST files into {parent}: {_reason(err)}") from None
    files.verify_dir(tmp)
    return tmp


def _stage_tfds(src: Path, tfds_root: Path, staging: list[Path]) -> Path:
    """Prepare tfds ``mnist`` from ``src`` in a temporary data dir; return the dataset dir."""
    tmp = _make_temp_dir(tfds_root, ".mnistkit-import-", staging)
    tfds = lazy.import_tfds()
    builder = tfds.builder("mnist", data_dir=str(tmp))
    try:
        with lazy.tfds_quiet():
            builder.download_and_prepare(
                download_config=tfds.download.DownloadConfig(manual_dir=str(src))
            )
    except OSError as err:
        raise OutputError(f"cannot prepare tensorflow-datasets `mnist` in {tfds_root}: {_reason(err)}") from None
    built = locations.tfds_mnist_dir(tmp)
    counts = locations.tfds_mnist_counts(tmp)
    if counts != {"train": 60_000, "test": 10_000}:
        raise DataError(f"tensorflow-datasets prepared an unexpected `mnist` in {built} ({counts})")
    return built


def _move_into_place(new: Path, target: Path) -> None:
    """Rename ``new`` to ``target``, replacing an existing ``target`` directory.

    The old directory is renamed aside first and restored if the move fails,
    so ``target`` is always either the old or the new complete directory.
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        aside = None
        if target.exists():
            aside = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
            os.replace(target, aside)
        try:
            os.replace(new, target)
        except BaseException:
            if aside is not None:
                os.replace(aside, target)
            raise
    except OSError as err:
        raise OutputError(f"cannot move the imported data into {target}: {_reason(err)}") from None
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)


def _make_temp_dir(parent: Path, prefix: str, staging: list[Path]) -> Path:
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    except OSError as err:
        raise OutputError(f"cannot write to {parent}: {_reason(err)}") from None
    staging.append(tmp)
    return tmp


def _reason(err: OSError) -> str:
    return err.strerror or str(err)
