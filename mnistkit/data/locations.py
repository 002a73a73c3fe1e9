"""Where MNIST can be found, checked cheaply and without importing TensorFlow.

* mnistkit's own copy of the four IDX files, made by ``mnistkit data import``:
  ``<home>/mnist`` where home is ``$MNISTKIT_HOME`` or
  ``platformdirs.user_data_dir("mnistkit")``.
* The tensorflow-datasets data dir: ``$TFDS_DATA_DIR`` or
  ``~/tensorflow_datasets`` (the same rule tfds itself uses), with the
  prepared ``mnist`` dataset in ``mnist/<version>/``.
* The host tfds downloads MNIST from, probed with a short TCP connect.

The environment variables are read through ``mnistkit.environment``, at call time.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from pathlib import Path

from mnistkit.environment import home_dir, offline_forced, tfds_data_dir

TFDS_MNIST_VERSION = "3.0.1"
"""The version ``tfds.load("mnist")`` loads with tensorflow-datasets 4.9.x."""

DOWNLOAD_HOST = ("storage.googleapis.com", 443)
"""Where tensorflow-datasets downloads the MNIST files from."""

PROBE_TIMEOUT_S = 3.0


def imported_idx_dir() -> Path:
    """Where ``mnistkit data import`` keeps its verified copy of the four files."""
    return home_dir() / "mnist"


def tfds_mnist_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """The directory a prepared tfds ``mnist`` dataset lives in."""
    root = Path(data_dir).expanduser() if data_dir is not None else tfds_data_dir()
    return root / "mnist" / TFDS_MNIST_VERSION


def tfds_mnist_prepared(data_dir: str | os.PathLike | None = None) -> bool:
    """True if tfds ``mnist`` is prepared there (tfds writes dataset_info.json last)."""
    return (tfds_mnist_dir(data_dir) / "dataset_info.json").is_file()


def tfds_mnist_counts(data_dir: str | os.PathLike | None = None) -> dict[str, int]:
    """Examples per split of a prepared tfds ``mnist``, from its dataset_info.json.

    Returns an empty dict if the file is absent or unreadable.
    """
    try:
        info = json.loads((tfds_mnist_dir(data_dir) / "dataset_info.json").read_text())
        return {s["name"]: sum(int(n) for n in s["shardLengths"]) for s in info["splits"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def download_host_reachable(timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Probe :data:`DOWNLOAD_HOST` with a TCP connect, giving up after ``timeout`` s.

    The probe runs in a daemon thread so that a hanging DNS lookup (which has
    no timeout of its own) cannot hold the caller longer than ``timeout``.
    Always False when :func:`offline_forced`.
    """
    if offline_forced():
        return False
    host, port = DOWNLOAD_HOST
    result: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, name="mnistkit-net-probe", daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])


def dir_bytes(directory: Path) -> int:
    """Total size of the regular files directly inside ``directory``."""
    try:
        return sum(p.stat().st_size for p in directory.iterdir() if p.is_file())
    except OSError:
        return 0
