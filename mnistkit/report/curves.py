"""The loss and accuracy curves drawn in the terminal (plotext), for the end of ``mnistkit run``.

The same two panels as ``curves.png`` (``report.plots``), in text: train
and test per epoch, side by side. ``terminal_curves`` returns None when
there is nothing to draw (fewer than two epochs) or too little room.
"""

from __future__ import annotations

from collections.abc import Sequence

MIN_WIDTH = 60
MAX_WIDTH = 120
HEIGHT = 12


def terminal_curves(history: Sequence[dict], width: int, color: bool = True) -> str | None:
    """Two panels, loss and accuracy, of ``history`` rows (``epoch``, ``train_*``, ``test_*``); ANSI colours if ``color``."""
    rows = [row for row in history if "epoch" in row]
    if len(rows) < 2 or width < MIN_WIDTH:
        return None
    import plotext as plt

    epochs = [row["epoch"] for row in rows]
    ticks = epochs if len(epochs) <= 10 else epochs[:: max(1, len(epochs) // 8)]
    plt.clear_figure()
    plt.subplots(1, 2)
    plt.plot_size(min(width, MAX_WIDTH), HEIGHT)
    for panel, metric in enumerate(("loss", "accuracy"), start=1):
        plt.subplot(1, panel)
        plt.theme("clear")
        for split in ("train", "test"):
            values = [row.get(f"{split}_{metric}") for row in rows]
            if all(isinstance(v, (int, float)) for v in values):
                plt.plot(epochs, values, label=split, marker="braille")
        plt.title(metric)
        plt.xticks(ticks)
    text = plt.build()
    plt.clear_figure()
    return text if color else plt.uncolorize(text)
