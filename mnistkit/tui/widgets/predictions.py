"""The prediction grid: test digits drawn in text, wrong guesses in red, all of them in view.

Five or more of ``prediction_grid``'s digits side by side where they fit;
in a narrower pane (80 columns with the sidebar shown) ``small_prediction_grid``'s
braille digits, five across, so the 25 digits take 19 lines and fit the run
tab's height instead of nine rows of three. The grid is laid out for the
width Textual gives the widget (``get_content_height`` and ``render``), so it
follows every change of width without waiting for a resize event.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

from mnistkit.engine import events as ev
from mnistkit.report.digits import CELL_WIDTH, SMALL_CELL_WIDTH, prediction_grid, small_prediction_grid

MIN_COLUMNS = 5
"""The large digits are used only when at least this many fit side by side."""

PLACEHOLDER = "The test digits and the model's guesses appear here after each epoch."

LARGE_LINES, SMALL_LINES = 8, 3
"""Lines a row of large digits (7 and the caption) and of small ones take, without the blank line between rows."""


def layout(width: int, count: int) -> tuple[bool, int]:
    """(small digits?, columns) for ``count`` digits in ``width`` columns: large ones when ``MIN_COLUMNS`` fit.

    As many columns as fit, fewer where that takes as few rows (25 digits in 5 rows of 5, not 6, 6, 6, 6 and 1).
    """
    large = (width + CELL_WIDTH - 14) // CELL_WIDTH  # the last digit needs no gap after it
    small = large < MIN_COLUMNS
    fit = max(1, (width + 1) // SMALL_CELL_WIDTH) if small else large
    rows = -(-max(1, count) // fit)
    return small, -(-max(1, count) // rows)


class PredictionGrid(Widget):
    """Shows the latest ``Predictions`` event in as many columns as fit the width."""

    DEFAULT_CSS = """
    PredictionGrid {
        height: auto;
    }
    """

    def __init__(self, *, id: str | None = None):
        super().__init__(id=id)
        self.predictions: ev.Predictions | None = None
        self.shape: tuple[bool, int] | None = None
        """(small digits?, columns) of the grid drawn last, None before the first predictions."""
        self._grid: RenderableType | None = None

    def show(self, predictions: ev.Predictions | None) -> None:
        self.predictions, self.shape, self._grid = predictions, None, None
        if predictions is not None:
            self._title(layout(self.size.width, len(predictions.labels)) if self.size.width else (False, MIN_COLUMNS))
        self.refresh(layout=True)

    def clear(self) -> None:
        self.show(None)
        self.border_title = "predictions"

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if self.predictions is None:
            return len(Text(PLACEHOLDER).wrap(self.app.console, max(1, width)))
        small, columns = layout(width, len(self.predictions.labels))
        rows = -(-len(self.predictions.labels) // columns)
        return rows * (SMALL_LINES if small else LARGE_LINES) + rows - 1

    def render(self) -> RenderableType:
        p = self.predictions
        if p is None:
            return Text(PLACEHOLDER, style="dim")
        shape = layout(self.size.width, len(p.labels))
        if shape != self.shape or self._grid is None:
            small, columns = self.shape = shape
            draw = small_prediction_grid if small else prediction_grid
            self._grid = draw(p.images, p.labels, p.predicted, columns=columns)
            self._title(shape)
        return self._grid

    def _title(self, shape: tuple[bool, int]) -> None:
        p = self.predictions
        assert p is not None  # only called with predictions to show
        wrong = int((p.labels != p.predicted).sum())
        title = f"predictions after epoch {p.epoch}: {wrong} of {len(p.labels)} wrong"
        if shape[0] and wrong:  # say what the bracketed digit under a wrong guess is, in the room there is
            legend = ", the true digit in ( )"
            title += legend if len(title + legend) + 2 <= self.size.width else " (true)"
        if title != self.border_title:
            self.border_title = title
