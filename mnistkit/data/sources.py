"""The data sources and how ``auto`` chooses between them.

``idx``: a directory of the four MNIST IDX files (``--data-dir``,
``$MNISTKIT_DATA_DIR``, or mnistkit's copy made by ``mnistkit data import``).
``mnist``: the tensorflow-datasets ``mnist`` dataset, prepared or downloaded.
``sample``: the 6,000 + 1,000 image subset bundled with mnistkit.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mnistkit import environment
from mnistkit.data import files, idx, lazy, locations
from mnistkit.errors import ConfigError, DataError

SOURCES = ("auto", "idx", "mnist", "sample")

Notify = Callable[[str], None]

HOW_TO_GET_MNIST = (
    "for full MNIST run `mnistkit data import DIR` on a folder with the four "
    "original .gz files, or pass --data-dir DIR"
)

FALLBACK_NOTE = "No full MNIST found; to use it: `mnistkit data import DIR` or --data-dir DIR"
"""What ``auto`` says when it falls back to the sample: one line under 80 columns that does not
name the sample again, since every front end prints the data's description just after."""


@dataclass(frozen=True)
class MnistArrays:
    """MNIST in memory, whatever the source.

    Images are (N, 28, 28) uint8 and labels (N,) int32 in 0..9, all writable
    numpy arrays. ``source`` is "idx", "mnist" or "sample" (never "auto");
    ``description`` is one line for people, naming where the data came from
    and how many images it holds; ``is_sample`` is True for the bundled sample.
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str
    description: str
    is_sample: bool


def sample_dir() -> Path:
    """The folder holding the bundled sample's four IDX files."""
    import mnistkit.sample

    return Path(mnistkit.sample.__file__).parent


def load_sample() -> MnistArrays:
    """Load the bundled sample (6,000 train and 1,000 test images)."""
    arrays = _read_dir(sample_dir())
    return MnistArrays(
        *arrays,
        source="sample",
        description=(
            f"bundled MNIST sample ({len(arrays[0]):,} train, "
            f"{len(arrays[2]):,} test images)"
        ),
        is_sample=True,
    )


def load_idx_dir(directory: str | os.PathLike, *, origin: str = "") -> MnistArrays:
    """Load the four MNIST IDX files from ``directory``, fully validated.

    ``origin`` (e.g. "MNISTKIT_DATA_DIR") is named in errors so the user knows
    where the directory came from. Raises ``DataError`` if the directory or
    any file is missing, unreadable or invalid. Any files in IDX format with the
    standard names load (Fashion-MNIST too); the description says "full MNIST"
    only for the original files.
    """
    directory = Path(directory).expanduser()
    ti, tl, si, sl = check_idx_dir(directory, origin=origin)
    arrays = (*idx.read_pair(ti, tl), *idx.read_pair(si, sl))
    what = "full MNIST" if files.is_original(directory) else "MNIST-format IDX files"
    return MnistArrays(
        *arrays,
        source="idx",
        description=(
            f"{what} from {directory} ({len(arrays[0]):,} train, "
            f"{len(arrays[2]):,} test images)"
        ),
        is_sample=False,
    )


def check_idx_dir(directory: str | os.PathLike, *, origin: str = "") -> list[Path]:
    """The four IDX files of ``directory``, found without reading them; ``DataError`` (as ``load_idx_dir``'s) if any is missing."""
    directory = Path(directory).expanduser()
    where = f"{directory} (from {origin})" if origin else str(directory)
    if not directory.is_dir():
        raise DataError(
            f"data directory {where} does not exist or is not a directory; "
            f"point it at a folder with the four MNIST files ({', '.join(files.FILE_NAMES)})"
        )
    return _find_all(directory, where)


def load_tfds(*, download: bool = False, notify: Notify = lambda msg: None) -> MnistArrays:
    """Load tfds ``mnist`` from the tfds data dir; download it first if asked and needed.

    Without ``download`` it must already be prepared (``DataError`` otherwise,
    without importing TensorFlow). A failed download raises ``DataError``.
    """
    data_dir = locations.tfds_data_dir()
    prepared = locations.tfds_mnist_prepared(data_dir)
    if not prepared and not download:
        raise DataError(
            f"tensorflow-datasets `mnist` is not prepared in {data_dir}; {HOW_TO_GET_MNIST}"
        )
    tfds = lazy.import_tfds()
    if not prepared:
        notify(f"Downloading MNIST (11 MB) with tensorflow-datasets into {data_dir}")
    try:
        with lazy.tfds_quiet():
            train, test = tfds.as_numpy(
                tfds.load(
                    "mnist", split=["train", "test"], batch_size=-1,
                    data_dir=str(data_dir), download=download,
                )
            )
    except Exception as err:  # tfds and its download stack raise many types
        action = "download" if not prepared else "load"
        raise DataError(
            f"could not {action} tensorflow-datasets `mnist` in {data_dir} "
            f"({_first_line(err)}); "
            f"{HOW_TO_GET_MNIST}"
        ) from err
    return MnistArrays(
        train_images=np.array(train["image"][..., 0]),
        train_labels=train["label"].astype(np.int32),
        test_images=np.array(test["image"][..., 0]),
        test_labels=test["label"].astype(np.int32),
        source="mnist",
        description=(
            f"full MNIST from tensorflow-datasets in {data_dir} "
            f"({len(train['label']):,} train, {len(test['label']):,} test images)"
        ),
        is_sample=False,
    )


def load_mnist(
    data: str = "auto",
    data_dir: str | os.PathLike | None = None,
    *,
    notify: Notify = lambda msg: None,
) -> MnistArrays:
    """Load MNIST from the source ``data`` names (one of :data:`SOURCES`).

    ``auto`` takes the first that is available:

    1. IDX files in ``data_dir``, else in ``$MNISTKIT_DATA_DIR``, else in
       mnistkit's imported copy. A directory named by the first two that is
       missing or invalid is an error, never skipped; so is a damaged copy.
    2. tfds ``mnist`` already prepared in the tfds data dir.
    3. tfds ``mnist`` downloaded, if its host answers a quick probe (a few
       seconds at most; skipped when ``$MNISTKIT_OFFLINE`` is set).
    4. The bundled sample; ``notify`` is called once with ``FALLBACK_NOTE``
       (how to get full MNIST; the front ends name the data itself).

    ``idx``, ``mnist`` and ``sample`` force one source and raise ``DataError``
    when it is unavailable (``mnist`` downloads if not prepared and online).
    ``data_dir`` only goes with ``auto`` and ``idx``. ``notify`` receives
    one-line messages for the user. Raises ``ConfigError`` for a bad ``data``.
    """
    if data not in SOURCES:
        raise ConfigError(f"unknown data source {data!r}; choose one of {', '.join(SOURCES)}")
    if data_dir is not None and data not in ("auto", "idx"):
        raise ConfigError(
            f"a data directory is read as IDX files, so it cannot go with data source {data!r}; "
            "use data source `idx` or `auto`"
        )
    if data == "sample":
        return load_sample()
    if data in ("auto", "idx"):
        found = idx_dir_candidate(data_dir)
        if found is not None:
            return load_idx_dir(found[0], origin=found[1])
        if data == "idx":
            raise DataError(f"no MNIST IDX directory is set up; {HOW_TO_GET_MNIST}")
    if data == "mnist":
        if locations.tfds_mnist_prepared():
            return load_tfds()
        if not locations.download_host_reachable():
            raise DataError(
                f"tensorflow-datasets `mnist` is not prepared in {locations.tfds_data_dir()} "
                f"and {locations.DOWNLOAD_HOST[0]} cannot be reached to download it; "
                f"{HOW_TO_GET_MNIST}"
            )
        return load_tfds(download=True, notify=notify)
    if locations.tfds_mnist_prepared():
        return load_tfds()
    if locations.download_host_reachable():
        try:
            return load_tfds(download=True, notify=notify)
        except DataError as err:
            notify(str(err))
    notify(FALLBACK_NOTE)
    return load_sample()


def idx_dir_candidate(data_dir: str | os.PathLike | None = None) -> tuple[Path, str] | None:
    """The IDX directory ``auto`` and ``idx`` would use, and where it came from.

    ``data_dir``, else ``$MNISTKIT_DATA_DIR``, else mnistkit's imported copy if
    it exists; None when there is none. Does not check the files.
    """
    if data_dir is not None:
        return Path(data_dir).expanduser(), ""
    env = environment.data_dir_variable()
    if env is not None:
        return env, "MNISTKIT_DATA_DIR"
    own = locations.imported_idx_dir()
    if own.is_dir():
        return own, "mnistkit data import"
    return None


def data_status(data_dir: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """Describe each source for ``mnistkit data status``, cheaply (headers only).

    One dict per source ``idx``, ``mnist``, ``sample`` with keys ``source``,
    ``available`` (bool), ``where`` (str path, or None), ``train`` and ``test``
    (image counts or None), ``bytes`` (on disk, or None), ``detail`` (one
    line for people) and ``auto`` (True for the one ``load_mnist("auto")``
    would pick, ignoring a possible download; False for all when ``auto``
    would fail because the IDX directory set up is broken).
    """
    rows = [_idx_status(data_dir), _tfds_status(), _sample_status()]
    idx_row = rows[0]
    broken_idx = idx_row["where"] is not None and not idx_row["available"]
    first = None if broken_idx else next(r for r in rows if r["available"])
    for row in rows:
        row["auto"] = row is first
    return rows


def _idx_status(data_dir: str | os.PathLike | None) -> dict[str, Any]:
    found = idx_dir_candidate(data_dir)
    row = _row("idx", None, f"none set up; {HOW_TO_GET_MNIST}")
    if found is None:
        return row
    directory, origin = found
    row.update(where=str(directory), detail=f"from {origin}" if origin else "from --data-dir")
    try:
        paths = _find_all(directory, str(directory))
        train = idx.read_count(paths[0], "images")
        test = idx.read_count(paths[2], "images")
    except DataError as err:
        row["detail"] = str(err)
        return row
    row.update(available=True, train=train, test=test, bytes=sum(p.stat().st_size for p in paths))
    return row


def _tfds_status() -> dict[str, Any]:
    where = locations.tfds_mnist_dir()
    if not locations.tfds_mnist_prepared():
        return _row("mnist", str(where), "not prepared; `mnistkit data import DIR` prepares it "
                    "offline, and `auto` downloads it when online")
    counts = locations.tfds_mnist_counts()
    row = _row("mnist", str(where), "prepared by tensorflow-datasets")
    row.update(available=True, train=counts.get("train"), test=counts.get("test"),
               bytes=locations.dir_bytes(where))
    return row


def _sample_status() -> dict[str, Any]:
    where = sample_dir()
    row = _row("sample", str(where), "bundled with mnistkit (a stratified tenth of MNIST)")
    paths = _find_all(where, str(where))
    row.update(available=True, train=idx.read_count(paths[0], "images"),
               test=idx.read_count(paths[2], "images"), bytes=sum(p.stat().st_size for p in paths))
    return row


def _row(source: str, where: str | None, detail: str) -> dict[str, Any]:
    return {"source": source, "available": False, "where": where, "train": None,
            "test": None, "bytes": None, "detail": detail}


def _find_all(directory: Path, where: str) -> list[Path]:
    paths = []
    for spec in files.FILES:
        path = files.find_file(directory, spec)
        if path is None:
            raise DataError(
                f"data directory {where} has no {spec.name}; it needs the four MNIST files "
                f"({', '.join(files.FILE_NAMES)})"
            )
        paths.append(path)
    return paths


def _read_dir(directory: Path, where: str | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    ti, tl, si, sl = _find_all(directory, where or str(directory))
    return (*idx.read_pair(ti, tl), *idx.read_pair(si, sl))


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__
