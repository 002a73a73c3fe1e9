"""Fuzzing: whatever bytes, text or pixels arrive, the answer is a result or our own error.

The IDX parser's byte-level fuzzing (random bytes, truncations, flipped
bytes) lives in ``test_data_idx.py``; here are the properties around it:
round trips, headers that lie, the header-only reader and image/label pairs.
Then the lesson front-matter parser and the user-image preparation of
``mnistkit predict --image``.
"""

from __future__ import annotations

import gzip
import json
import struct
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mnistkit.curriculum.lessons import FRONT_MATTER_KEYS, parse_lesson
from mnistkit.data import idx
from mnistkit.errors import ConfigError, DataError

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

images = hnp.arrays(np.uint8, st.tuples(st.integers(0, 4), st.just(28), st.just(28)), elements=st.integers(0, 255))
labels = st.lists(st.integers(0, 9), max_size=8).map(lambda xs: np.array(xs, dtype=np.int64))


@FUZZ
@given(array=st.one_of(images, labels), gz=st.booleans())
def test_anything_written_as_idx_reads_back_equal(tmp_path, array, gz):
    path = tmp_path / ("data.idx.gz" if gz else "data.idx")
    idx.write_idx(path, array)
    kind = "images" if array.ndim == 3 else "labels"
    np.testing.assert_array_equal(idx.read_idx(path, kind), array)
    assert idx.read_count(path, kind) == len(array)


@FUZZ
@given(
    kind=st.sampled_from(["images", "labels"]),
    dims=st.lists(st.integers(0, 40), min_size=1, max_size=3),
    payload=st.integers(0, 3000),
    gz=st.booleans(),
)
def test_a_header_that_lies_about_its_shape_is_a_data_error(kind, dims, payload, gz):
    magic = (idx.IMAGES_MAGIC if kind == "images" else idx.LABELS_MAGIC) & 0xFFFFFF00 | len(dims)
    raw = struct.pack(f">I{len(dims)}I", magic, *dims) + bytes(payload)
    raw = gzip.compress(raw, mtime=0) if gz else raw
    try:
        array = idx.parse_idx(raw, kind)
    except DataError:
        return
    assert array.shape == tuple(dims) and array.size == payload


@FUZZ
@given(raw=st.binary(max_size=64), gz=st.booleans(), kind=st.sampled_from(["images", "labels"]))
def test_the_header_only_reader_gives_a_count_or_a_data_error(tmp_path, raw, gz, kind):
    path = tmp_path / "header.idx"
    path.write_bytes(gzip.compress(raw, mtime=0) if gz else raw)
    try:
        count = idx.read_count(path, kind)
    except DataError as err:
        assert str(path) in str(err)
        return
    assert isinstance(count, int) and count >= 0


@FUZZ
@given(n_images=st.integers(0, 4), n_labels=st.integers(0, 4))
def test_images_and_labels_pair_up_only_when_their_counts_agree(tmp_path, n_images, n_labels):
    idx.write_idx(tmp_path / "images", np.zeros((n_images, 28, 28), np.uint8))
    idx.write_idx(tmp_path / "labels", np.zeros(n_labels, np.uint8))
    if n_images == n_labels:
        pair = idx.read_pair(tmp_path / "images", tmp_path / "labels")
        assert len(pair[0]) == len(pair[1]) == n_images
    else:
        with pytest.raises(DataError, match=f"{n_images:,} images but .* {n_labels:,} labels"):
            idx.read_pair(tmp_path / "images", tmp_path / "labels")


def parse_or_config_error(text: str) -> None:
    try:
        lesson = parse_lesson(text, "fuzz.md")
    except ConfigError as err:
        assert str(err).startswith("fuzz.md:"), str(err)
        return
    assert lesson.id and lesson.title and lesson.minutes >= 1 and lesson.order >= 0


@FUZZ
@given(text=st.text(max_size=400))
def test_any_text_is_a_lesson_or_a_config_error_naming_the_file_and_line(text):
    parse_or_config_error(text)


front_matter_value = st.one_of(
    st.text(max_size=20),
    st.integers(-5, 10**10).map(str),
    st.lists(st.text(max_size=6), max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
    st.sampled_from(["", "none", "~", "'quoted'", '"x', "[a,,b]", "[]", "[", "0", "007"]),
)
front_matter_line = st.one_of(
    st.tuples(st.sampled_from(FRONT_MATTER_KEYS), front_matter_value).map(lambda kv: f"{kv[0]}: {kv[1]}"),
    st.text(max_size=30),
    st.sampled_from(["# a comment", "", "   ", "id", ":", "---x"]),
)


@FUZZ
@given(
    lines=st.lists(front_matter_line, max_size=10),
    required=st.booleans(),
    body=st.text(max_size=200),
    newline=st.sampled_from(["\n", "\r\n"]),
)
def test_front_matter_shaped_text_is_a_lesson_or_a_config_error(lines, required, body, newline):
    head = ["id: fuzz", "title: Fuzz", "order: 1", "minutes: 5"] if required else []
    parse_or_config_error(newline.join(["---", *head, *lines, "---", body]))


@FUZZ
@given(
    lesson_id=st.from_regex(r"[a-z0-9][a-z0-9_-]{0,12}", fullmatch=True),
    title=st.text(st.characters(blacklist_categories=["Cc", "Cs", "Zl", "Zp"]), min_size=1, max_size=30).map(str.strip),
    order=st.integers(0, 10**6),
    minutes=st.integers(1, 10**6),
)
def test_valid_front_matter_reads_back_its_values(lesson_id, title, order, minutes):
    assume(title)
    # The front matter is YAML: a double-quoted title (JSON's quoting is valid YAML) reads back as written.
    quoted = json.dumps(title, ensure_ascii=False)
    lesson = parse_lesson(f"---\nid: {json.dumps(lesson_id)}\ntitle: {quoted}\norder: {order}\nminutes: {minutes}\n---\nBody\n", "ok.md")
    assert (lesson.id, lesson.title, lesson.order, lesson.minutes) == (lesson_id, title, order, minutes)
    # Unquoted, YAML may read it as something else (a number, a list, an error): then a ConfigError, never a wrong title.
    try:
        plain = parse_lesson(f"---\nid: {lesson_id}\ntitle: {title}\norder: {order}\nminutes: {minutes}\n---\nBody\n", "ok.md")
    except ConfigError:
        return
    assert plain.title == yaml.safe_load(f"title: {title}")["title"]


pictures = st.sampled_from([np.uint8, np.int16, np.float32, np.float64, np.bool_]).flatmap(
    lambda dtype: hnp.arrays(
        dtype,
        st.one_of(
            st.tuples(st.integers(1, 50), st.integers(1, 50)),
            st.tuples(st.integers(1, 20), st.integers(1, 20), st.sampled_from([1, 2, 3, 4])),
            hnp.array_shapes(min_dims=1, max_dims=4, max_side=6),
        ),
        elements=hnp.from_dtype(np.dtype(dtype)),
    )
)


@FUZZ
@given(picture=pictures)
def test_any_npy_array_becomes_an_mnist_digit_or_a_data_error(tmp_path, picture):
    from mnistkit.runs.trained import load_digit

    path = tmp_path / "fuzz.npy"
    np.save(path, picture)
    try:
        digit = load_digit(path)
    except DataError as err:
        assert "fuzz.npy" in str(err)
        return
    assert digit.shape == (28, 28) and digit.dtype == np.uint8
    rows, cols = np.nonzero(digit)
    assert rows.size and max(np.ptp(rows), np.ptp(cols)) + 1 <= 22, "the ink fits MNIST's 20-pixel box, give or take"


def test_an_mnist_digit_drawn_large_dark_on_light_comes_back_like_itself(tmp_path):
    from PIL import Image

    from mnistkit.data.sources import load_sample
    from mnistkit.runs.trained import load_digit

    original = load_sample().test_images[0]
    large = 255 - np.kron(original, np.ones((5, 5), np.uint8))  # 140x140, black ink on white
    Image.fromarray(large).save(tmp_path / "digit.png")
    transparent = np.zeros((140, 140, 4), np.uint8)
    transparent[..., 3] = np.kron(original, np.ones((5, 5), np.uint8))  # black ink, alpha only
    Image.fromarray(transparent, "RGBA").save(tmp_path / "drawn.png")
    np.save(tmp_path / "digit.npy", np.kron(original, np.ones((3, 3), np.uint8)).astype(np.float32) / 255)

    for name in ("digit.png", "drawn.png", "digit.npy"):
        again = load_digit(Path(tmp_path / name)).astype(float)
        correlation = np.corrcoef(again.ravel(), original.astype(float).ravel())[0, 1]
        assert correlation > 0.8, (name, correlation)


def test_a_blank_picture_is_a_data_error(tmp_path):
    np.save(tmp_path / "blank.npy", np.full((20, 20), 7.0))
    from mnistkit.runs.trained import load_digit

    with pytest.raises(DataError, match="blank.npy is blank"):
        load_digit(tmp_path / "blank.npy")
