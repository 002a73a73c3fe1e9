"""PNG pictures of a run: learning curves and a grid of test digits.

matplotlib is imported only when a picture is drawn, so importing this module
costs nothing. Figures are drawn with matplotlib's object API on an Agg
canvas rather than through ``pyplot``: no global backend is chosen or
switched (a notebook's or the TUI's stays as it was), no figure registry
grows, and drawing from a worker thread is safe. Each PNG is written whole
with ``write_atomic``.
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from mnistkit.atomic import write_atomic

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TRAIN_COLOUR = "tab:blue"
TEST_COLOUR = "tab:orange"
RIGHT_COLOUR = "tab:green"
WRONG_COLOUR = "tab:red"
MAX_DIGITS = 25

# matplotlib warns when placing a legend where it hides least data took over a
# second: on a busy machine that happens with a handful of points, and the
# warning would reach the user's terminal from the drawing thread.
warnings.filterwarnings("ignore", message='Creating legend with loc="best" can be slow', category=UserWarning)
CURVES_LEFT, CURVES_RIGHT = 0.8, 0.2
"""Inches left of and right of each panel of the curves (the left holds the y ticks and label)."""
CAPTION_HEIGHT, SIDE_MARGIN, BOTTOM_MARGIN = 14, 6, 2
"""Around each digit of the prediction grid, in the digit's pixels: a caption above, margins beside and below."""
GRID_PIXELS_PER_INCH = 25
"""A digit pixel's size in the prediction grid: a 28-pixel digit's cell is 1.6 inches wide."""


def _figure(width: float, height: float, layout: Literal["constrained", "compressed", "tight"] | None = "constrained") -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout=layout)
    FigureCanvasAgg(figure)
    return figure


def warm_up() -> None:
    """Import matplotlib, load its font and draw a PNG now (about half a second), so the first picture does not wait for them."""
    figure = _figure(1, 1, layout=None)
    figure.text(0.5, 0.5, "0")
    figure.savefig(io.BytesIO(), format="png")


def _save(figure: Figure, path: Path) -> None:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    write_atomic(Path(path), buffer.getvalue())


def _metric_names(history: Sequence[dict[str, Any]]) -> list[str]:
    """Metrics with a train_ or test_ column: loss, accuracy, then the rest."""
    names: list[str] = []
    for row in history:
        for key in row:
            for split in ("train_", "test_"):
                if key.startswith(split) and key[len(split) :] not in names:
                    names.append(key[len(split) :])
    preferred = [n for n in ("loss", "accuracy") if n in names]
    return preferred + [n for n in names if n not in preferred]


def plot_curves(history: Sequence[dict[str, Any]], path: Path) -> None:
    """Save a PNG with one panel per metric (loss, accuracy, then any plugin
    metric), train and test against epoch, to ``path``.

    ``history`` holds rows as made by ``mnistkit.engine.events.history_row``; a
    missing value is skipped. Every point has a marker, so a single epoch
    still shows. Epoch ticks are integers. Raises ``ValueError`` for an
    empty history or one without metric columns, ``OSError`` if ``path``
    cannot be written.
    """
    if not history:
        raise ValueError("no epochs to plot")
    names = _metric_names(history)
    if not names:
        raise ValueError("history has no train_* or test_* columns to plot")
    from matplotlib.ticker import MaxNLocator

    # Margins fixed in inches, not measured by a constrained layout: every
    # panel is alike, and measuring them costs a third of the drawing time.
    width, height, panel = 5.0 * len(names), 4.0, 5.0 - CURVES_LEFT - CURVES_RIGHT
    figure = _figure(width, height, layout=None)
    axes = figure.subplots(1, len(names), squeeze=False)[0]
    figure.subplots_adjust(left=CURVES_LEFT / width, right=1 - CURVES_RIGHT / width, bottom=0.55 / height,
                           top=1 - 0.35 / height, wspace=(CURVES_LEFT + CURVES_RIGHT) / panel)
    epochs = [row["epoch"] for row in history]
    for ax, name in zip(axes, names):
        for split, colour in (("train", TRAIN_COLOUR), ("test", TEST_COLOUR)):
            key = f"{split}_{name}"
            points = [(e, row[key]) for e, row in zip(epochs, history) if key in row]
            if points:
                xs, ys = zip(*points)
                ax.plot(xs, ys, marker="o", color=colour, label=split)
        ax.set_title(name.replace("_", " ").capitalize(), y=1.0)  # a fixed place: finding one costs a quarter of the drawing
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if len(set(epochs)) == 1:
            ax.set_xlim(epochs[0] - 0.5, epochs[0] + 0.5)
            ax.set_xticks([epochs[0]])  # the integer locator falls back to tenths when it finds one tick only
        ax.grid(alpha=0.3)
        ax.legend()
    _save(figure, path)


def plot_predictions(
    images: np.ndarray, labels: Sequence[int] | np.ndarray, predicted: Sequence[int] | np.ndarray, path: Path
) -> None:
    """Save a PNG grid (5 wide) of up to the first 25 digits to ``path``.

    Each digit is titled ``pred N (true M)``: green when right, red when
    wrong. ``images`` is (n, 28, 28) (or (n, 28, 28, 1)), uint8 0-255 or
    float 0-1. Raises ``ValueError`` if there are no images or the lengths
    differ, ``OSError`` if ``path`` cannot be written.
    """
    images = np.asarray(images)
    labels = np.asarray(labels).reshape(-1)
    predicted = np.asarray(predicted).reshape(-1)
    if not len(images) == len(labels) == len(predicted):
        raise ValueError(
            f"need one label and one prediction per image: got {len(images)} images, "
            f"{len(labels)} labels, {len(predicted)} predictions"
        )
    if len(images) == 0:
        raise ValueError("no digits to plot")
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    count = min(len(images), MAX_DIGITS)
    columns = min(count, 5)
    rows = math.ceil(count / columns)
    vmax = 1.0 if np.issubdtype(images.dtype, np.floating) and images.max() <= 1.0 else 255

    # One image of all the digits, each under its caption, rather than an
    # axes per digit: 25 axes cost most of a second to lay out and draw,
    # which the end of every run would wait for.
    height, width = images.shape[1:3]
    cell_height, cell_width = CAPTION_HEIGHT + height + BOTTOM_MARGIN, width + 2 * SIDE_MARGIN
    mosaic = np.zeros((rows * cell_height, columns * cell_width), dtype=np.float32)
    figure = _figure(columns * cell_width / GRID_PIXELS_PER_INCH, rows * cell_height / GRID_PIXELS_PER_INCH, layout=None)
    ax = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_axis_off()
    for i in range(count):
        row, column = divmod(i, columns)
        top, left = row * cell_height + CAPTION_HEIGHT, column * cell_width + SIDE_MARGIN
        mosaic[top : top + height, left : left + width] = images[i]
        label, guess = int(labels[i]), int(predicted[i])
        ax.text(
            column * cell_width + cell_width / 2, row * cell_height + CAPTION_HEIGHT / 2, f"pred {guess} (true {label})",
            ha="center", va="center", fontsize=9,
            color=RIGHT_COLOUR if guess == label else WRONG_COLOUR,
            fontweight="normal" if guess == label else "bold",
        )
    ax.imshow(mosaic, cmap="gray_r", vmin=0, vmax=vmax, interpolation="nearest", aspect="auto")
    _save(figure, path)
