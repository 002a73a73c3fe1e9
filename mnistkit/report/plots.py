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


def _figure(width: float, height: float, layout: Literal["constrained", "compressed", "tight"] | None = "constrained") -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout=layout)
    FigureCanvasAgg(figure)
    return figure


def warm_up() -> None:
    """Import matplotlib and its Agg canvas now (about half a second), so the first picture does not wait for it."""
    _figure(1, 1)


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

    figure = _figure(5.0 * len(names), 4.0)
    axes = figure.subplots(1, len(names), squeeze=False)[0]
    epochs = [row["epoch"] for row in history]
    for ax, name in zip(axes, names):
        for split, colour in (("train", TRAIN_COLOUR), ("test", TEST_COLOUR)):
            key = f"{split}_{name}"
            points = [(e, row[key]) for e, row in zip(epochs, history) if key in row]
            if points:
                xs, ys = zip(*points)
                ax.plot(xs, ys, marker="o", color=colour, label=split)
        ax.set_title(name.replace("_", " ").capitalize())
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if len(set(epochs)) == 1:
            ax.set_xlim(epochs[0] - 0.5, epochs[0] + 0.5)
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

    # A fixed layout: every cell is alike, and constrained layout would cost
    # most of the drawing time measuring 25 titles.
    figure = _figure(1.6 * columns, 1.75 * rows, layout=None)
    axes = figure.subplots(rows, columns, squeeze=False).reshape(-1)
    figure.subplots_adjust(left=0.02, right=0.98, bottom=0.02, top=1 - 0.3 / (1.75 * rows), wspace=0.1, hspace=0.3)
    for i, ax in enumerate(axes):
        ax.set_axis_off()
        if i >= count:
            continue
        label, guess = int(labels[i]), int(predicted[i])
        ax.imshow(images[i], cmap="gray_r", vmin=0, vmax=vmax, interpolation="nearest")
        ax.set_title(
            f"pred {guess} (true {label})",
            color=RIGHT_COLOUR if guess == label else WRONG_COLOUR,
            fontsize=9,
            fontweight="normal" if guess == label else "bold",
        )
    _save(figure, path)
