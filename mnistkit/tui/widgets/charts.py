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

    def on_mount(self) -> None:
        super().on_mount()
        self.replot()

    def reset(self, epochs: float = 1) -> None:
        """Forget the points; the x axis will span ``epochs`` (1 if that is not above 0)."""
        self.train.clear()
        self.test.clear()
        self.epochs = epochs if epochs > 0 else 1
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
        for name, points, marker in (("train", self.train, "braille"), ("test", self.test, "hd")):
            if points:
                xs, ys = zip(*points)
                plt.plot(list(xs), list(ys), label=name, marker=marker)
        plt.xlim(0, self.epochs)
        ticks = _ticks(self.epochs)
        plt.xticks(ticks, [f"{tick:g}" for tick in ticks])  # 0.75, not plotext's 0.8
        if not (self.train or self.test):
            plt.ylim(0, 100 if self.percent else 1)
        self.refresh()


def _ticks(epochs: float) -> list[float]:
    """Whole epochs on the x axis, at most about six of them, and the end of a run that ends inside an epoch."""
    step = max(1, math.ceil(math.ceil(epochs) / 6))
    ticks: list[float] = list(range(0, math.floor(epochs) + 1, step))
    return ticks if epochs == math.floor(epochs) else [*ticks, epochs]
