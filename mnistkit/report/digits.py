"""Digits as text pictures for terminals.

A 28x28 MNIST digit becomes 7 lines of 14 characters: each character cell
shows two of the 14x14 pixels of the 2x-downsampled image, one on top of the
other, with the half-block characters ' ', '▀', '▄' and '█'. The CLI prints a
grid of these at the end of ``mnistkit run``; the TUI shows the same grid, or,
where five of those do not fit side by side, the small grid: each digit in 6
braille characters by 3 lines, its guess beside it, so 25 digits fit 54
columns by 19 lines. Only numpy and rich are imported, so this stays cheap for
either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from rich.console import RenderableType

INK_THRESHOLD = 64
"""A downsampled pixel (mean of a 2x2 block, 0-255) at or above this is ink.

MNIST strokes are about 2-3 pixels wide with soft edges; a quarter of full
intensity keeps thin strokes connected after downsampling without smearing
the anti-aliased fringe into blobs.
"""

_HALF_BLOCKS = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}
_GAP = "  "

CELL_WIDTH = 14 + len(_GAP)
"""Columns a digit of ``prediction_grid`` takes, with the gap after it."""

SMALL_CROP = 24
"""The small digits show this square of pixels around the ink: MNIST digits fit a 20x20 box, so none is cut."""

SMALL_CELL_WIDTH = SMALL_CROP // 4 + 1 + 3 + 1
"""Columns a digit of ``small_prediction_grid`` takes: 6 braille characters, a space, its 3-column guess, a gap."""

_BRAILLE_DOTS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))
"""The bit of the braille dot at (row, column) of a character's 4x2 dots, added to U+2800."""


def _as_grey(image: np.ndarray) -> np.ndarray:
    """The image as a 2-D float array on the 0-255 scale.

    Accepts (H, W) or (H, W, 1); floats with a maximum of at most 1 are taken
    to be on the 0-1 scale.
    """
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim != 2:
        raise ValueError(f"expected a 2-D image, got shape {np.shape(image)}")
    grey = array.astype(np.float32)
    if np.issubdtype(array.dtype, np.floating) and grey.size and grey.max() <= 1.0:
        grey *= 255.0
    return grey


def _downsample(grey: np.ndarray) -> np.ndarray:
    """Mean of each 2x2 block; odd sizes are padded with background first."""
    h, w = grey.shape
    padded = np.pad(grey, ((0, (-h) % 2), (0, (-w) % 2)))
    return padded.reshape(padded.shape[0] // 2, 2, padded.shape[1] // 2, 2).mean(axis=(1, 3))


def digit_lines(image: np.ndarray) -> list[str]:
    """The digit as lines of half-block characters, light ink on dark.

    A 28x28 image gives 7 lines of exactly 14 characters each (any HxW gives
    ceil(H/4) lines of ceil(W/2)). A character is drawn where the mean of a
    2x2 pixel block reaches ``INK_THRESHOLD``; a blank image gives only
    spaces. Accepts uint8 (0-255) or float (0-1) pixels, shape (H, W) or
    (H, W, 1).
    """
    ink = _downsample(_as_grey(image)) >= INK_THRESHOLD
    if ink.shape[0] % 2:
        ink = np.vstack([ink, np.zeros((1, ink.shape[1]), dtype=bool)])
    return [
        "".join(_HALF_BLOCKS[(bool(top), bool(bottom))] for top, bottom in zip(ink[r], ink[r + 1]))
        for r in range(0, ink.shape[0], 2)
    ]


def _around_ink(grey: np.ndarray, size: int) -> np.ndarray:
    """The ``size`` x ``size`` square of ``grey`` centred on its ink (on the centre for a blank image), padded if smaller."""
    grey = np.pad(grey, [(0, max(0, size - n)) for n in grey.shape])
    corner = []
    for axis in (1, 0):
        inked = np.flatnonzero((grey >= INK_THRESHOLD).any(axis=axis))
        middle = (inked[0] + inked[-1] + 1) // 2 if inked.size else grey.shape[1 - axis] // 2
        corner.append(int(np.clip(middle - size // 2, 0, grey.shape[1 - axis] - size)))
    top, left = corner
    return grey[top : top + size, left : left + size]


def small_digit_lines(image: np.ndarray) -> list[str]:
    """The digit in braille: 3 lines of 6 characters, for grids in narrow panes.

    Shows the ``SMALL_CROP`` square around the ink, downsampled 2x as
    ``digit_lines`` does (12x12 pixels), each braille character holding 2x4 of
    them. A blank image gives blank braille (U+2800). Accepts what
    ``digit_lines`` accepts.
    """
    ink = _downsample(_around_ink(_as_grey(image), SMALL_CROP)) >= INK_THRESHOLD
    ink = np.pad(ink, ((0, (-ink.shape[0]) % 4), (0, (-ink.shape[1]) % 2)))
    rows, columns = ink.shape[0] // 4, ink.shape[1] // 2
    dots = ink.reshape(rows, 4, columns, 2).transpose(0, 2, 1, 3) * np.array(_BRAILLE_DOTS)
    return ["".join(chr(0x2800 + int(code)) for code in row) for row in dots.sum(axis=(2, 3))]


@dataclass(frozen=True)
class _Cell:
    lines: list[str]
    label: int
    guess: int

    @property
    def correct(self) -> bool:
        return self.label == self.guess

    @property
    def caption(self) -> str:
        return _caption(self.label, self.guess)


def _caption(label: int, predicted: int) -> str:
    # Short enough to fit under a 14-column digit, so 5 columns fit 80 columns.
    if label == predicted:
        return f"{predicted} ✓"
    return f"{predicted} ✗ (true {label})"


def _cells(images: np.ndarray, labels: Sequence[int] | np.ndarray, predicted: Sequence[int] | np.ndarray,
           draw=digit_lines) -> list[_Cell]:
    images = np.asarray(images)
    labels = [int(x) for x in np.asarray(labels).reshape(-1)]
    predicted = [int(x) for x in np.asarray(predicted).reshape(-1)]
    if not len(images) == len(labels) == len(predicted):
        raise ValueError(
            f"need one label and one prediction per image: got {len(images)} images, "
            f"{len(labels)} labels, {len(predicted)} predictions"
        )
    return [_Cell(draw(image), label, guess) for image, label, guess in zip(images, labels, predicted)]


def _rows(cells: list[_Cell], columns: int) -> list[list[_Cell]]:
    if columns < 1:
        raise ValueError(f"columns must be at least 1, got {columns}")
    return [cells[i : i + columns] for i in range(0, len(cells), columns)]


def prediction_grid_text(
    images: np.ndarray, labels: Sequence[int] | np.ndarray, predicted: Sequence[int] | np.ndarray, columns: int = 5
) -> str:
    """The digits in a grid, each captioned with the model's guess, as plain text.

    A right guess reads ``7 ✓``; a wrong one ``3 ✗ (true 5)``, so mistakes show
    without colour. Digits fill rows of ``columns``; rows are separated by a
    blank line. Raises ``ValueError`` if the three lengths differ.
    """
    blocks = []
    for row in _rows(_cells(images, labels, predicted), columns):
        width = max(len(line) for cell in row for line in [*cell.lines, cell.caption])
        height = max(len(cell.lines) for cell in row)
        lines = []
        for i in range(height):
            parts = [(cell.lines[i] if i < len(cell.lines) else "").ljust(width) for cell in row]
            lines.append(_GAP.join(parts).rstrip())
        lines.append(_GAP.join(cell.caption.ljust(width) for cell in row).rstrip())
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def prediction_grid(
    images: np.ndarray, labels: Sequence[int] | np.ndarray, predicted: Sequence[int] | np.ndarray, columns: int = 5
) -> RenderableType:
    """The same grid as ``prediction_grid_text`` as a rich renderable.

    Right captions are green, wrong ones bold red; the digits themselves are
    unstyled. Raises ``ValueError`` if the three lengths differ.
    """
    from rich.table import Table
    from rich.text import Text

    cells = _cells(images, labels, predicted)
    grid = Table.grid(padding=(0, len(_GAP)))
    for _ in range(min(columns, len(cells))):
        grid.add_column()
    for i, row in enumerate(_rows(cells, columns)):
        rendered = []
        for cell in row:
            text = Text("\n".join(cell.lines) + "\n")
            text.append(cell.caption, style="green" if cell.correct else "bold red")
            rendered.append(text)
        if i:
            grid.add_row()
        grid.add_row(*rendered)
    return grid


def small_prediction_grid(
    images: np.ndarray, labels: Sequence[int] | np.ndarray, predicted: Sequence[int] | np.ndarray, columns: int = 5
) -> RenderableType:
    """The grid of ``prediction_grid`` in ``small_digit_lines``, each guess beside its digit.

    A right guess reads ``7 ✓`` (green); a wrong one ``3 ✗`` (bold red) with
    the true digit under it, ``(5)``. A digit takes ``SMALL_CELL_WIDTH``
    columns and 3 lines; rows are separated by a blank line, so 25 digits in
    5 columns take 54 columns by 19 lines. Raises ``ValueError`` if the three
    lengths differ.
    """
    from rich.table import Table
    from rich.text import Text

    cells = _cells(images, labels, predicted, draw=small_digit_lines)
    grid = Table.grid(padding=(0, 1))
    for _ in range(min(columns, len(cells))):
        grid.add_column()
    for i, row in enumerate(_rows(cells, columns)):
        rendered = []
        for cell in row:
            guess, true = (f"{cell.guess} ✓", "") if cell.correct else (f"{cell.guess} ✗", f"({cell.label})")
            text = Text(cell.lines[0] + " ").append(guess, style="green" if cell.correct else "bold red")
            text.append("\n" + cell.lines[1] + " ").append(true, style="red")
            for line in cell.lines[2:]:
                text.append("\n" + line)
            rendered.append(text)
        if i:
            grid.add_row()
        grid.add_row(*rendered)
    return grid
