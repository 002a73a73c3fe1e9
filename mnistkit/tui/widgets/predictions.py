"""The prediction grid: test digits drawn in text, wrong guesses in red, all of them in view.

Five or more of ``prediction_grid``'s digits side by side where they fit;
in a narrower pane (80 columns with the sidebar shown) ``small_prediction_grid``'s
braille digits, five across, so the 25 digits take 19 lines and fit the run
tab's height instead of nine rows of three.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from mnistkit.engine import events as ev
from mnistkit.report.digits import CELL_WIDTH, SMALL_CELL_WIDTH, prediction_grid, small_prediction_grid

MIN_COLUMNS = 5
"""The large digits are used only when at least this many fit side by side."""

PLACEHOLDER = "The test digits and the model's guesses appear here after each epoch."


def layout(width: int, count: int) -> tuple[bool, int]:
    """(small digits?, columns) for ``count`` digits in ``width`` columns: large ones when ``MIN_COLUMNS`` fit.

    As many columns as fit, fewer where that takes as few rows (25 digits in 5 rows of 5, not 6, 6, 6, 6 and 1).
    """
    large = (width + CELL_WIDTH - 14) // CELL_WIDTH  # the last digit needs no gap after it
    small = large < MIN_COLUMNS
    fit = max(1, (width + 1) // SMALL_CELL_WIDTH) if small else large
    rows = -(-max(1, count) // fit)
    return small, -(-max(1, count) // rows)


class PredictionGrid(Static):
    """Shows the latest ``Predictions`` event in as many columns as fit the width."""

    def __init__(self, *, id: str | None = None):
        super().__init__(Text(PLACEHOLDER, style="dim"), id=id)
        self.predictions: ev.Predictions | None = None
        self.shape: tuple[bool, int] | None = None
        """(small digits?, columns) of the grid shown, None before the first predictions."""

    def show(self, predictions: ev.Predictions | None) -> None:
        self.predictions = predictions
        self._draw(force=True)

    def on_resize(self) -> None:
        self._draw()

    def _draw(self, force: bool = False) -> None:
        p = self.predictions
        if p is None:
            return
        shape = layout(self.size.width, len(p.labels)) if self.size.width else (False, MIN_COLUMNS)
        if shape == self.shape and not force:
            return
        self.shape = small, columns = shape
        wrong = int((p.labels != p.predicted).sum())
        title = f"predictions after epoch {p.epoch}: {wrong} of {len(p.labels)} wrong"
        if small and wrong:  # say what the bracketed digit under a wrong guess is, in the room there is
            legend = ", the true digit in ( )"
            title += legend if len(title + legend) + 2 <= self.size.width else " (true)"
        self.border_title = title
        draw = small_prediction_grid if small else prediction_grid
        self.update(draw(p.images, p.labels, p.predicted, columns=columns))

    def clear(self) -> None:
        self.predictions = None
        self.shape = None
        self.border_title = "predictions"
        self.update(Text(PLACEHOLDER, style="dim"))
