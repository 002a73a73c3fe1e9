"""Text pictures of digits and the prediction grid."""

from __future__ import annotations

import io

import numpy as np
import pytest
from rich.console import Console

from mnistkit.report.digits import digit_lines, prediction_grid, prediction_grid_text, small_digit_lines, small_prediction_grid


def vertical_bar() -> np.ndarray:
    """A synthetic '1': a 3-pixel-wide stroke down the middle, rows 4-23."""
    image = np.zeros((28, 28), dtype=np.uint8)
    image[4:24, 13:16] = 255
    return image


def test_digit_lines_are_7_rows_of_14_half_blocks() -> None:
    lines = digit_lines(vertical_bar())
    assert len(lines) == 7
    assert all(len(line) == 14 for line in lines)
    assert set("".join(lines)) <= {" ", "▀", "▄", "█"}


def test_digit_lines_draw_a_one_as_a_vertical_stroke() -> None:
    lines = digit_lines(vertical_bar())
    middle = [line[6:8] for line in lines]
    assert sum("█" in cell for cell in middle) >= 4, "\n".join(lines)
    assert all(line[:5].strip() == "" and line[9:].strip() == "" for line in lines), "\n".join(lines)


def test_digit_lines_of_a_blank_image_are_spaces() -> None:
    assert digit_lines(np.zeros((28, 28), dtype=np.uint8)) == [" " * 14] * 7


def test_digit_lines_ignore_faint_noise_and_accept_float_images() -> None:
    faint = np.full((28, 28), 20, dtype=np.uint8)
    assert set("".join(digit_lines(faint))) == {" "}
    as_float = vertical_bar().astype(np.float32)[..., None] / 255
    assert digit_lines(as_float) == digit_lines(vertical_bar())


def test_digit_lines_reject_a_batch() -> None:
    with pytest.raises(ValueError, match="2-D image"):
        digit_lines(np.zeros((2, 28, 28), dtype=np.uint8))


def grid_inputs() -> tuple[np.ndarray, list[int], list[int]]:
    images = np.stack([vertical_bar()] * 6)
    labels = [1, 2, 3, 4, 5, 6]
    predicted = [1, 2, 8, 4, 5, 0]
    return images, labels, predicted


def test_prediction_grid_text_marks_wrong_guesses_only() -> None:
    text = prediction_grid_text(*grid_inputs(), columns=5)
    assert "8 ✗ (true 3)" in text
    assert "0 ✗ (true 6)" in text
    assert text.count("✗") == 2
    assert text.count("✓") == 4
    assert "1 ✓" in text and "5 ✓" in text


def test_prediction_grid_text_fits_80_columns_for_5_columns() -> None:
    images = np.stack([vertical_bar()] * 25)
    text = prediction_grid_text(images, [3] * 25, [5] * 25)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert text.count("✗") == 25


def test_prediction_grid_colours_right_green_and_wrong_bold_red() -> None:
    console = Console(file=io.StringIO(), width=100, force_terminal=True, color_system="standard")
    console.print(prediction_grid(*grid_inputs()))
    styled = console.file.getvalue()
    assert "\x1b[1;31m8 ✗ (true 3)" in styled
    assert "\x1b[32m1 ✓" in styled


def test_prediction_grid_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="one label and one prediction"):
        prediction_grid_text(np.zeros((2, 28, 28), np.uint8), [1, 2], [1])


def test_small_digit_lines_are_3_lines_of_6_braille_characters() -> None:
    lines = small_digit_lines(vertical_bar())
    assert len(lines) == 3 and all(len(line) == 6 for line in lines)
    assert all("\u2800" <= char <= "\u28ff" for line in lines for char in line)
    assert small_digit_lines(np.zeros((28, 28), np.uint8)) == ["\u2800" * 6] * 3


def test_small_digit_lines_keep_a_digit_drawn_near_the_edge_whole() -> None:
    corner = np.zeros((28, 28), dtype=np.uint8)
    corner[0:20, 0:3] = 255  # a stroke down the left edge, outside a centred 24x24 crop
    dots = sum((ord(char) - 0x2800).bit_count() for line in small_digit_lines(corner) for char in line)
    assert dots == 10 * 2, "each of the stroke's 2x2 blocks (10 down, 2 across) is one dot"


def test_small_prediction_grid_fits_25_digits_in_54_columns_and_19_lines() -> None:
    images = np.stack([vertical_bar()] * 25)
    console = Console(file=io.StringIO(), width=54, color_system=None)
    console.print(small_prediction_grid(images, [3] * 24 + [1], [5] * 24 + [1]))
    lines = console.file.getvalue().splitlines()
    assert len(lines) == 19 and max(len(line.rstrip()) for line in lines) <= 54
    text = "\n".join(lines)
    assert text.count("5 ✗") == 24 and text.count("(3)") == 24 and text.count("1 ✓") == 1
