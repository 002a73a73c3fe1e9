"""The prediction grid: test digits drawn in block characters, wrong guesses in red."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from mnistkit.engine import events as ev
from mnistkit.report.digits import prediction_grid

CELL_WIDTH = 16
"""A digit's 14 columns plus the grid's 2-column gap."""

PLACEHOLDER = "The test digits and the model's guesses appear here after each epoch."


class PredictionGrid(Static):
    """Shows the latest ``Predictions`` event in as many columns as fit the width."""

    def __init__(self, *, id: str | None = None):
        super().__init__(Text(PLACEHOLDER, style="dim"), id=id)
        self.predictions: ev.Predictions | None = None
        self._columns = 0

    def show(self, predictions: ev.Predictions | None) -> None:
        self.predictions = predictions
        self._draw(force=True)

    def on_resize(self) -> None:
        self._draw()

    def _draw(self, force: bool = False) -> None:
        columns = max(1, (self.size.width + 2) // CELL_WIDTH) if self.size.width else 5
        if self.predictions is None or (columns == self._columns and not force):
            return
        self._columns = columns
        p = self.predictions
        wrong = int((p.labels != p.predicted).sum())
        self.border_title = f"predictions after epoch {p.epoch}: {wrong} of {len(p.labels)} wrong"
        self.update(prediction_grid(p.images, p.labels, p.predicted, columns=columns))

    def clear(self) -> None:
        self.predictions = None
        self._columns = 0
        self.border_title = "predictions"
        self.update(Text(PLACEHOLDER, style="dim"))
