"""What the learning curves show: where overfitting starts, and the curves drawn in the terminal (plotext).

``overfitting_starts`` is the one rule for "the model starts to overfit",
the rule the train lesson teaches and its exercise ``train-overfitting`` asks
for; the TUI's run tab says it under its charts. ``terminal_curves`` draws
the same two panels as ``curves.png`` (``report.plots``) in text, for the end
of ``mnistkit run``: train and test per epoch, side by side; it returns None
when there is nothing to draw (fewer than two epochs) or too little room.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

OVERFITTING_LESSON, OVERFITTING_EXERCISE = "train", "train-overfitting"
"""The lesson that teaches ``overfitting_starts``'s rule, and the exercise that has the learner write it."""

MIN_WIDTH = 60
MAX_WIDTH = 120
HEIGHT = 12


def overfitting_starts(history: Sequence[Mapping[str, float]]) -> int | None:
    """The epoch from which the model overfits, or None: the test loss rises while the training loss keeps falling.

    ``history`` has one row per epoch (``epoch`` from 1, ``train_loss``,
    ``test_loss``), as ``Finished.history`` and ``metrics.csv`` have them;
    rows without both losses are left out. The best epoch is the one with the
    lowest test loss. If a later epoch exists and every later epoch has a
    lower training loss than the best one, overfitting starts at the epoch
    after the best: from there on the test loss never gets back down to its
    lowest. Otherwise (the test loss is lowest at the last epoch, or the
    training loss rises as well, a learning-rate problem rather than
    overfitting) None. Losses, not accuracies: on 1,000 test images the
    accuracy wobbles by chance.
    """
    rows = [row for row in history if "train_loss" in row and "test_loss" in row and "epoch" in row]
    if not rows:
        return None
    best = min(rows, key=lambda row: row["test_loss"])
    later = [row for row in rows if row["epoch"] > best["epoch"]]
    if later and all(row["train_loss"] < best["train_loss"] for row in later):
        return int(best["epoch"]) + 1
    return None


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
