"""Choosing and loading a data source; the cheap import; data status."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from mnistkit.data import data_status, files, load_mnist, locations
from mnistkit.errors import ConfigError, DataError


def test_importing_mnistkit_data_loads_no_tensorflow_jax_or_flax():
    code = (
        "import sys, mnistkit.data, mnistkit.data.idx, mnistkit.data.pipeline; "
        "heavy = [m for m in ('tensorflow', 'tensorflow_datasets', 'jax', 'flax') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_auto_picks_the_idx_dir_named_by_the_environment(data_isolated_env, data_make_idx_dir, monkeypatch):
    directory = data_make_idx_dir(n_train=64, n_test=20)
    monkeypatch.setenv("MNISTKIT_DATA_DIR", str(directory))
    messages = []

    arrays = load_mnist("auto", notify=messages.append)

    assert arrays.source == "idx" and not arrays.is_sample
    assert arrays.train_images.shape == (64, 28, 28) and arrays.train_images.dtype == np.uint8
    assert arrays.test_labels.shape == (20,) and arrays.test_labels.dtype == np.int32
    assert arrays.description == f"MNIST-format IDX files from {directory} (64 train, 20 test images)"
    assert messages == []


def test_data_dir_argument_wins_over_the_environment(data_isolated_env, data_make_idx_dir, monkeypatch):
    monkeypatch.setenv("MNISTKIT_DATA_DIR", str(data_make_idx_dir("env", n_train=30)))
    argument = data_make_idx_dir("arg", n_train=40, gz=False)

    arrays = load_mnist(data_dir=argument)

    assert len(arrays.train_images) == 40


def test_auto_uses_the_imported_copy_when_nothing_is_named(data_isolated_env, data_make_idx_dir):
    data_isolated_env.home.mkdir()
    data_make_idx_dir("mnistkit-home/mnist", n_train=50)

    arrays = load_mnist("auto")

    assert arrays.source == "idx" and len(arrays.train_labels) == 50


def test_explicit_missing_data_dir_is_an_error_not_a_fallback(data_isolated_env, tmp_path):
    with pytest.raises(DataError, match=r"data directory .*nope does not exist"):
        load_mnist("auto", data_dir=tmp_path / "nope")


def test_explicit_data_dir_with_a_bad_file_is_an_error(data_isolated_env, data_make_idx_dir):
    directory = data_make_idx_dir()
    bad = directory / files.TEST_LABELS.name
    bad.write_bytes(bad.read_bytes()[:-3])

    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz is not a valid gzip file"):
        load_mnist("auto", data_dir=directory)


def test_environment_data_dir_missing_a_file_is_an_error_naming_the_variable(
    data_isolated_env, data_make_idx_dir, monkeypatch
):
    directory = data_make_idx_dir()
    (directory / files.TRAIN_LABELS.name).unlink()
    monkeypatch.setenv("MNISTKIT_DATA_DIR", str(directory))

    with pytest.raises(DataError, match=r"\(from MNISTKIT_DATA_DIR\) has no train-labels-idx1-ubyte\.gz"):
        load_mnist("auto")


def test_auto_with_nothing_available_falls_back_to_the_sample_and_says_so_once(data_isolated_env):
    messages = []

    arrays = load_mnist("auto", notify=messages.append)

    assert arrays.source == "sample" and arrays.is_sample
    assert len(messages) == 1
    assert "mnistkit data import DIR" in messages[0] and "--data-dir DIR" in messages[0]
    assert "\n" not in messages[0] and len(messages[0]) <= 80
    assert arrays.description not in messages[0]  # the front ends name the data, once


def test_auto_gives_up_on_an_unreachable_download_host_quickly(data_isolated_env, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    monkeypatch.delenv("MNISTKIT_OFFLINE")
    monkeypatch.setattr(locations, "DOWNLOAD_HOST", ("127.0.0.1", closed_port))
    start = time.monotonic()

    arrays = load_mnist("auto")

    assert arrays.source == "sample"
    assert time.monotonic() - start < 5


def test_forcing_mnist_with_nothing_prepared_errors_clearly_and_quickly(data_isolated_env):
    start = time.monotonic()

    with pytest.raises(DataError, match=r"`mnist` is not prepared in .*tfds-data .*mnistkit data import DIR"):
        load_mnist("mnist")
    assert time.monotonic() - start < 5


def test_forcing_idx_with_no_directory_set_up_errors(data_isolated_env):
    with pytest.raises(DataError, match="no MNIST IDX directory is set up"):
        load_mnist("idx")


def test_forcing_sample_loads_the_sample(data_isolated_env, data_make_idx_dir, monkeypatch):
    monkeypatch.setenv("MNISTKIT_DATA_DIR", str(data_make_idx_dir()))

    assert load_mnist("sample").source == "sample"


def test_unknown_source_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown data source 'cifar'; choose one of auto, idx"):
        load_mnist("cifar")


def test_data_dir_with_a_non_idx_source_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot go with data source 'sample'"):
        load_mnist("sample", data_dir=tmp_path)


def test_auto_loads_full_mnist_from_the_original_files(data_isolated_env, data_real_mnist):
    arrays = load_mnist(data_dir=data_real_mnist)

    assert arrays.description == f"full MNIST from {data_real_mnist} (60,000 train, 10,000 test images)"
    assert np.bincount(arrays.train_labels).tolist() == [
        5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949
    ]


def test_status_lists_each_source_and_what_auto_would_pick(data_isolated_env, data_make_idx_dir, monkeypatch):
    directory = data_make_idx_dir(n_train=64, n_test=20)
    monkeypatch.setenv("MNISTKIT_DATA_DIR", str(directory))

    rows = {row["source"]: row for row in data_status()}

    assert list(rows) == ["idx", "mnist", "sample"]
    assert rows["idx"]["available"] and rows["idx"]["auto"]
    assert (rows["idx"]["where"], rows["idx"]["train"], rows["idx"]["test"]) == (str(directory), 64, 20)
    assert rows["idx"]["bytes"] == sum(p.stat().st_size for p in directory.iterdir())
    assert not rows["mnist"]["available"] and "not prepared" in rows["mnist"]["detail"]
    assert rows["sample"]["available"] and not rows["sample"]["auto"]
    assert (rows["sample"]["train"], rows["sample"]["test"]) == (6_000, 1_000)


def test_status_explains_a_broken_idx_dir_that_auto_would_reject(data_isolated_env, tmp_path, monkeypatch):
    monkeypatch.setenv("MNISTKIT_DATA_DIR", str(tmp_path))

    rows = {row["source"]: row for row in data_status()}

    assert not rows["idx"]["available"]
    assert "has no train-images-idx3-ubyte.gz" in rows["idx"]["detail"]
    assert not any(row["auto"] for row in rows.values())
