"""A live chart of one metric: the running train value during epochs and the test value after each."""

from __future__ import annotations

import math

from textual_plotext import PlotextPlot


class MetricChart(PlotextPlot):
    """Train (running, per Progress event) against test (per epoch) for ``metric``.

    The x axis is in epochs: a Progress at step 50 of 200 in epoch 2 is x=1.25,
    and a run of 0.75 epochs spans 0 to 0.75.
    Call ``replot`` after adding points; it only sets data, the drawing
    happens when Textual renders the widget.
    """

    def __init__(self, metric: str, title: str, *, percent: bool = False, id: str | None = None):
        super().__init__(id=id)
        self.metric = metric
        self.title = title
        self.percent = percent
        self.train: list[tuple[float, float]] = []
        self.test: list[tuple[float, float]] = []
        self.epochs: float = 1
        self.earlier: list[tuple[float, float]] = []
        """An earlier run's test values, one per epoch, drawn in grey under this run's (see ``compare``)."""
        self.earlier_epochs: float = 0

    def on_mount(self) -> None:
        super().on_mount()
        self.replot()

    def reset(self, epochs: float = 1) -> None:
        """Forget the points; the x axis will span ``epochs`` (1 if that is not above 0)."""
        self.train.clear()
        self.test.clear()
        self.epochs = epochs if epochs > 0 else 1
        self.replot()

    def compare(self, history, epochs: float = 0) -> None:
        """Draw an earlier run's test curve (from its ``history`` rows) in grey; an empty ``history`` stops comparing.

        It stays through ``reset``: a new run is drawn over it, which is the point.
        """
        rows = list(history)
        self.earlier = [(float(i), self._scaled(row[f"test_{self.metric}"]))
                        for i, row in enumerate(rows, 1) if f"test_{self.metric}" in row]
        self.earlier_epochs = max(float(epochs or 0), float(len(rows)))
        self.replot()

    def add_train(self, epoch: float, value: float) -> None:
        self.train.append((epoch, self._scaled(value)))

    def add_test(self, epoch: float, value: float) -> None:
        self.test.append((epoch, self._scaled(value)))

    def _scaled(self, value: float) -> float:
        return 100.0 * value if self.percent else value

    def replot(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(self.title)
        series = [("before", self.earlier, "hd", "gray"), ("train", self.train, "braille", None),
                  ("test", self.test, "hd", None)]
        for name, points, marker, color in series:
            if points:
                xs, ys = zip(*points)
                plt.plot(list(xs), list(ys), label=name, marker=marker, **({"color": color} if color else {}))
        span = max(self.epochs, self.earlier_epochs if self.earlier else 0)
        plt.xlim(0, span)
        ticks = _ticks(span)
        plt.xticks(ticks, [f"{tick:g}" for tick in ticks])  # 0.75, not plotext's 0.8
        if not (self.train or self.test or self.earlier):
            plt.ylim(0, 100 if self.percent else 1)
        self.refresh()


def _ticks(epochs: float) -> list[float]:
    """Whole epochs on the x axis, at most about six of them, and the end of a run that ends inside an epoch."""
    step = max(1, math.ceil(math.ceil(epochs) / 6))
    ticks: list[float] = list(range(0, math.floor(epochs) + 1, step))
    return ticks if epochs == math.floor(epochs) else [*ticks, epochs]
