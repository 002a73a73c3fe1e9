"""Shared fixtures. Data fixtures are prefixed ``data_``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

REAL_MNIST_DIR = Path(__file__).resolve().parents[2] / "shared/data/mnist"
"""The four original MNIST files, present on development and CI machines only."""


@pytest.fixture
def data_real_mnist() -> Path:
    """The directory of the four original MNIST files; skips the test when absent."""
    if not (REAL_MNIST_DIR / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"needs the original MNIST files in {REAL_MNIST_DIR}, which is absent")
    return REAL_MNIST_DIR


@pytest.fixture
def data_isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """Point mnistkit's home and the tfds data dir at empty temporary dirs, offline.

    Returns ``home`` and ``tfds`` paths (not created). ``MNISTKIT_DATA_DIR`` is
    unset and downloads are off (``MNISTKIT_OFFLINE=1``).
    """
    home, tfds = tmp_path / "mnistkit-home", tmp_path / "tfds-data"
    monkeypatch.setenv("MNISTKIT_HOME", str(home))
    monkeypatch.setenv("TFDS_DATA_DIR", str(tfds))
    monkeypatch.setenv("MNISTKIT_OFFLINE", "1")
    monkeypatch.delenv("MNISTKIT_DATA_DIR", raising=False)
    return SimpleNamespace(home=home, tfds=tfds)


@pytest.fixture
def data_make_idx_dir(tmp_path: Path) -> Callable[..., Path]:
    """Factory: write four small valid MNIST-format IDX files with the standard names.

    ``make(name="idx", n_train=64, n_test=20, seed=0, gz=True)`` returns the
    directory. Labels cycle through 0-9; pixels are random.
    """
    from mnistkit.data import files

    def make(name: str = "idx", n_train: int = 64, n_test: int = 20, seed: int = 0,
             gz: bool = True) -> Path:
        rng = np.random.default_rng(seed)
        return files.write_dir(
            tmp_path / name,
            rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8), np.arange(n_train) % 10,
            rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8), np.arange(n_test) % 10,
            gz=gz,
        )

    return make


@pytest.fixture(autouse=True)
def _isolate_user_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the real user's mnistkit home or tfds data, or goes online."""
    base = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("MNISTKIT_HOME", str(base / "mnistkit-home"))
    monkeypatch.setenv("TFDS_DATA_DIR", str(base / "tfds-data"))
    monkeypatch.setenv("MNISTKIT_OFFLINE", "1")
    monkeypatch.setenv("MNISTKIT_RUNS_DIR", str(base / "runs"))
    monkeypatch.delenv("MNISTKIT_DATA_DIR", raising=False)
    monkeypatch.delenv("MNISTKIT_PLUGINS", raising=False)
    monkeypatch.delenv("MNISTKIT_DISABLE_PLUGINS", raising=False)
