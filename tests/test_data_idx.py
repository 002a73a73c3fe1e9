"""The IDX reader and writer: valid files load, every bad file is a DataError naming it."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mnistkit.data import idx
from mnistkit.errors import DataError

IMAGES = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
LABELS = np.array([0, 9, 3, 3, 7])


def idx_bytes(magic: int, dims: tuple[int, ...], data: bytes) -> bytes:
    return struct.pack(f">I{len(dims)}I", magic, *dims) + data


VALID_IMAGES_RAW = idx_bytes(idx.IMAGES_MAGIC, IMAGES.shape, IMAGES.tobytes())
VALID_LABELS_RAW = idx_bytes(idx.LABELS_MAGIC, LABELS.shape, LABELS.astype(np.uint8).tobytes())


@pytest.mark.parametrize("name", ["images.idx", "images.idx.gz"])
def test_reads_back_images_and_labels_it_wrote(tmp_path, name):
    images_path, labels_path = tmp_path / name, tmp_path / f"labels-{name}"
    idx.write_idx(images_path, IMAGES)
    idx.write_idx(labels_path, LABELS)

    images, labels = idx.read_pair(images_path, labels_path)

    assert images.dtype == np.uint8 and images.shape == (5, 28, 28)
    np.testing.assert_array_equal(images, IMAGES)
    assert labels.dtype == np.int32
    np.testing.assert_array_equal(labels, LABELS)
    assert images.flags.writeable and labels.flags.writeable


def test_writes_gzip_only_for_gz_names_and_reproducibly(tmp_path):
    idx.write_idx(tmp_path / "a.gz", IMAGES)
    idx.write_idx(tmp_path / "b.gz", IMAGES)
    idx.write_idx(tmp_path / "raw", IMAGES)

    assert (tmp_path / "a.gz").read_bytes() == (tmp_path / "b.gz").read_bytes()
    assert (tmp_path / "a.gz").read_bytes()[:2] == b"\x1f\x8b"
    assert (tmp_path / "raw").read_bytes() == VALID_IMAGES_RAW


def test_detects_gzip_by_magic_bytes_not_by_name(tmp_path):
    (tmp_path / "plain.gz").write_bytes(VALID_IMAGES_RAW)
    (tmp_path / "packed").write_bytes(gzip.compress(VALID_IMAGES_RAW))

    np.testing.assert_array_equal(idx.read_images(tmp_path / "plain.gz"), IMAGES)
    np.testing.assert_array_equal(idx.read_images(tmp_path / "packed"), IMAGES)


def test_rejects_a_labels_file_where_images_are_expected(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(VALID_LABELS_RAW)

    with pytest.raises(DataError, match="IDX labels file, but MNIST images are needed") as err:
        idx.read_images(path)
    assert str(path) in str(err.value)


def test_rejects_unknown_magic(tmp_path):
    path = tmp_path / "x.idx"
    path.write_bytes(idx_bytes(0x00000C03, (5, 28, 28), IMAGES.tobytes()))

    with pytest.raises(DataError, match=r"magic 0x00000c03") as err:
        idx.read_images(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
def test_rejects_truncated_images_file(tmp_path, compress):
    path = tmp_path / "images"
    raw = VALID_IMAGES_RAW[:-1]
    path.write_bytes(gzip.compress(raw) if compress else raw)

    with pytest.raises(DataError, match="is truncated") as err:
        idx.read_images(path)
    assert str(path) in str(err.value)


def test_rejects_truncated_gzip_stream(tmp_path):
    path = tmp_path / "images.gz"
    path.write_bytes(gzip.compress(VALID_IMAGES_RAW)[:-20])

    with pytest.raises(DataError, match="not a valid gzip file") as err:
        idx.read_images(path)
    assert str(path) in str(err.value)


def test_rejects_trailing_bytes(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(VALID_LABELS_RAW + b"\x00")

    with pytest.raises(DataError, match="1 unexpected bytes after") as err:
        idx.read_labels(path)
    assert str(path) in str(err.value)


def test_rejects_images_that_are_not_28x28(tmp_path):
    path = tmp_path / "images"
    path.write_bytes(idx_bytes(idx.IMAGES_MAGIC, (2, 32, 32), bytes(2 * 32 * 32)))

    with pytest.raises(DataError, match="holds 32x32 images, but MNIST images are 28x28"):
        idx.read_images(path)


def test_rejects_labels_outside_0_to_9(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(idx_bytes(idx.LABELS_MAGIC, (3,), bytes([1, 10, 2])))

    with pytest.raises(DataError, match="holds label 10, but MNIST labels are 0 to 9") as err:
        idx.read_labels(path)
    assert str(path) in str(err.value)


def test_pair_rejects_count_mismatch_between_images_and_labels(tmp_path):
    idx.write_idx(tmp_path / "images.gz", IMAGES)
    idx.write_idx(tmp_path / "labels.gz", LABELS[:4])

    with pytest.raises(DataError, match="has 5 images but .*labels.gz has 4 labels"):
        idx.read_pair(tmp_path / "images.gz", tmp_path / "labels.gz")


def test_missing_file_is_a_data_error_naming_it(tmp_path):
    with pytest.raises(DataError, match="cannot read .*nowhere.gz"):
        idx.read_labels(tmp_path / "nowhere.gz")


def test_count_comes_from_the_header_alone(tmp_path):
    path = tmp_path / "images.gz"
    idx.write_idx(path, IMAGES)

    assert idx.read_count(path, "images") == 5


def test_reads_the_original_mnist_files(data_real_mnist):
    images, labels = idx.read_pair(
        data_real_mnist / "t10k-images-idx3-ubyte.gz", data_real_mnist / "t10k-labels-idx1-ubyte.gz"
    )

    assert images.shape == (10_000, 28, 28)
    assert np.bincount(labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def parse_or_data_error(raw: bytes, kind: str) -> None:
    try:
        result = idx.parse_idx(raw, kind, source="fuzz")
    except DataError as err:
        assert "fuzz" in str(err) and "\n" not in str(err)
        return
    expected_ndim = 3 if kind == "images" else 1
    assert result.ndim == expected_ndim


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


PREFIXES = [b"", b"\x1f\x8b", b"\x1f\x8b\x08\x00", b"\x00\x00\x08\x03", b"\x00\x00\x08\x01"]


@FUZZ
@given(
    raw=st.tuples(st.sampled_from(PREFIXES), st.binary(max_size=2_000)).map(b"".join),
    kind=st.sampled_from(["images", "labels"]),
)
def test_random_bytes_parse_or_raise_data_error(raw, kind):
    parse_or_data_error(raw, kind)


@FUZZ
@given(
    raw=st.one_of(
        st.just(VALID_IMAGES_RAW), st.just(gzip.compress(VALID_IMAGES_RAW, mtime=0))
    ).flatmap(lambda b: st.integers(0, len(b)).map(lambda n: b[:n])),
)
def test_truncations_of_a_valid_file_parse_or_raise_data_error(raw):
    parse_or_data_error(raw, "images")


@FUZZ
@given(
    data=st.data(),
    base=st.sampled_from([
        VALID_LABELS_RAW, gzip.compress(VALID_LABELS_RAW, mtime=0),
        VALID_IMAGES_RAW[:200], gzip.compress(VALID_IMAGES_RAW, mtime=0)[:200],
    ]),
)
def test_corrupted_bytes_of_a_valid_file_parse_or_raise_data_error(data, base):
    raw = bytearray(base)
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    parse_or_data_error(bytes(raw), "labels")
    parse_or_data_error(bytes(raw), "images")
