"""The four original files: registered sizes and checksums, and verifying a directory."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
from pathlib import Path

import pytest

from mnistkit.data import files
from mnistkit.errors import DataError


def spec_for(name: str, content: bytes) -> files.MnistFile:
    return files.MnistFile(name, "train", "images", len(content), hashlib.sha256(content).hexdigest())


CONTENTS = {"a.gz": b"first file" * 10, "b.gz": b"second file" * 10}
SPECS = [spec_for(name, content) for name, content in CONTENTS.items()]


@pytest.fixture
def good_dir(tmp_path: Path) -> Path:
    for name, content in CONTENTS.items():
        (tmp_path / name).write_bytes(content)
    return tmp_path


def test_sizes_and_checksums_match_what_tensorflow_datasets_registers():
    tfds_root = Path(importlib.util.find_spec("tensorflow_datasets").submodule_search_locations[0])
    registered = {}
    for line in (tfds_root / "url_checksums/mnist.txt").read_text().splitlines():
        _url, size, sha256, name = line.split("\t")
        registered[name] = (int(size), sha256)

    assert {f.name: (f.size, f.sha256) for f in files.FILES} == registered


def test_verify_accepts_intact_files(good_dir):
    files.verify_dir(good_dir, SPECS)


def test_verify_names_a_missing_file(good_dir):
    (good_dir / "b.gz").unlink()

    with pytest.raises(DataError, match=r"b\.gz is missing"):
        files.verify_dir(good_dir, SPECS)


def test_verify_names_a_truncated_file(good_dir):
    (good_dir / "a.gz").write_bytes(CONTENTS["a.gz"][:-1])

    with pytest.raises(DataError, match=r"a\.gz is truncated \(99 of 100 bytes\)"):
        files.verify_dir(good_dir, SPECS)


def test_verify_names_a_file_of_the_wrong_size(good_dir):
    (good_dir / "b.gz").write_bytes(CONTENTS["b.gz"] + b"!")

    with pytest.raises(DataError, match=r"b\.gz has the wrong size"):
        files.verify_dir(good_dir, SPECS)


def test_verify_names_a_corrupt_file(good_dir):
    (good_dir / "b.gz").write_bytes(CONTENTS["b.gz"].upper())

    with pytest.raises(DataError, match=r"b\.gz is corrupt \(SHA-256"):
        files.verify_dir(good_dir, SPECS)


def test_verify_names_the_first_bad_file(good_dir):
    (good_dir / "a.gz").write_bytes(b"x")
    (good_dir / "b.gz").unlink()

    with pytest.raises(DataError, match=r"a\.gz is truncated"):
        files.verify_dir(good_dir, SPECS)


def test_verify_rejects_a_missing_directory(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        files.verify_dir(tmp_path / "nope")


def test_verify_accepts_the_original_files(data_real_mnist):
    files.verify_dir(data_real_mnist)
    assert files.is_original(data_real_mnist)


def test_verify_names_a_corrupt_original_file(data_real_mnist, tmp_path):
    for spec in files.FILES:
        shutil.copyfile(data_real_mnist / spec.name, tmp_path / spec.name)
    path = tmp_path / files.TEST_LABELS.name
    content = bytearray(path.read_bytes())
    content[100] ^= 0xFF
    path.write_bytes(bytes(content))

    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz is corrupt"):
        files.verify_dir(tmp_path)
    assert not files.is_original(tmp_path)
