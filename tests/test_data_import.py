"""`mnistkit data import DIR`: verified before anything is written, all or nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from mnistkit.data import files, import_idx_dir, lazy, load_mnist, locations
from mnistkit.errors import DataError


def snapshot(*roots: Path) -> set[Path]:
    return {p for root in roots if root.exists() for p in root.rglob("*")} | {
        root for root in roots if root.exists()
    }


def copy_originals(src: Path, dst: Path) -> Path:
    dst.mkdir()
    for spec in files.FILES:
        shutil.copyfile(src / spec.name, dst / spec.name)
    return dst


def test_import_rejects_a_missing_file_and_writes_nothing(data_isolated_env, tmp_path):
    src = tmp_path / "src"
    src.mkdir()

    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz is missing"):
        import_idx_dir(src)
    assert snapshot(data_isolated_env.home, data_isolated_env.tfds) == set()


def test_import_rejects_truncated_images_file(data_isolated_env, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / files.TRAIN_IMAGES.name).write_bytes(b"\x1f\x8b" + bytes(1000))

    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz is truncated \(1,002 of 9,912,422"):
        import_idx_dir(src)
    assert snapshot(data_isolated_env.home, data_isolated_env.tfds) == set()


def test_import_rejects_corrupt_file_and_keeps_existing_data(data_isolated_env, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for spec in files.FILES:
        (src / spec.name).write_bytes(bytes(spec.size))
    existing = data_isolated_env.home / "mnist" / "keep.txt"
    existing.parent.mkdir(parents=True)
    existing.write_text("old")
    before = snapshot(data_isolated_env.home, data_isolated_env.tfds)

    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz is corrupt"):
        import_idx_dir(src)
    assert snapshot(data_isolated_env.home, data_isolated_env.tfds) == before
    assert existing.read_text() == "old"


def test_import_interrupted_while_preparing_leaves_no_trace(
    data_isolated_env, data_real_mnist, monkeypatch
):
    def interrupt():
        raise KeyboardInterrupt

    monkeypatch.setattr(lazy, "import_tfds", interrupt)

    with pytest.raises(KeyboardInterrupt):
        import_idx_dir(data_real_mnist)
    leftovers = snapshot(data_isolated_env.home, data_isolated_env.tfds)
    assert leftovers <= {data_isolated_env.home, data_isolated_env.tfds}


def test_import_prepares_tfds_mnist_offline_and_copies_the_files(
    data_isolated_env, data_real_mnist, tmp_path
):
    src = copy_originals(data_real_mnist, tmp_path / "src")
    messages = []

    result = import_idx_dir(src, notify=messages.append)

    assert result.prepared and result.idx_dir == data_isolated_env.home / "mnist"
    files.verify_dir(result.idx_dir)
    assert result.tfds_dir == data_isolated_env.tfds / "mnist" / locations.TFDS_MNIST_VERSION
    assert sorted(p.name for p in data_isolated_env.tfds.iterdir()) == ["mnist"]
    assert sorted(p.name for p in data_isolated_env.home.iterdir()) == ["mnist"]
    assert len(messages) == 2
    tfds = lazy.import_tfds()
    assert str(tfds.builder_cls("mnist").VERSION) == locations.TFDS_MNIST_VERSION
    test = tfds.load("mnist", split="test", data_dir=str(data_isolated_env.tfds), download=False)
    assert sum(1 for _ in test) == 10_000

    auto = load_mnist("auto")
    assert auto.source == "idx" and auto.description.startswith("full MNIST from ")
    from_tfds = load_mnist("mnist")
    assert from_tfds.source == "mnist" and from_tfds.train_images.shape == (60_000, 28, 28)
    np.testing.assert_array_equal(np.sort(from_tfds.test_labels), np.sort(auto.test_labels))

    again = import_idx_dir(src)
    assert not again.prepared and again.seconds < 5
