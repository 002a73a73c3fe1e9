"""The bundled sample: what it holds, how big it is, and that it can be rebuilt exactly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from mnistkit.data import files, load_mnist
from mnistkit.data.sources import sample_dir

REPO = Path(__file__).resolve().parents[1]


def test_sample_loads_with_600_train_and_100_test_images_per_digit():
    arrays = load_mnist("sample")

    assert arrays.is_sample and arrays.source == "sample"
    assert arrays.train_images.shape == (6_000, 28, 28)
    assert arrays.test_images.shape == (1_000, 28, 28)
    assert np.bincount(arrays.train_labels).tolist() == [600] * 10
    assert np.bincount(arrays.test_labels).tolist() == [100] * 10
    assert arrays.description == "bundled MNIST sample (6,000 train, 1,000 test images)"


def test_sample_keeps_the_digits_mixed_for_a_small_shuffle_buffer():
    labels = load_mnist("sample").train_labels

    assert len(set(labels[:100].tolist())) == 10


def test_sample_is_at_most_2_mb_and_documented():
    total = sum((sample_dir() / name).stat().st_size for name in files.FILE_NAMES)
    readme = (sample_dir() / "README.md").read_text()

    assert total <= 2_000_000
    assert f"{total:,} bytes" in readme
    assert "Yann LeCun, Corinna Cortes and\nChristopher J.C. Burges" in readme
    assert "CC BY-SA 3.0" in readme and "scripts/make_sample.py" in readme


def test_make_sample_rebuilds_identical_bytes(data_real_mnist, tmp_path):
    subprocess.run(
        [sys.executable, str(REPO / "scripts/make_sample.py"), str(data_real_mnist), "--out", str(tmp_path)],
        check=True, capture_output=True,
    )

    for name in files.FILE_NAMES:
        assert (tmp_path / name).read_bytes() == (sample_dir() / name).read_bytes(), name
