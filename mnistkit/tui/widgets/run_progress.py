"""A progress bar over the whole run, with images per second and the time left."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar

from mnistkit.engine import events as ev
from mnistkit.engine.settings import epoch_lengths


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class RunProgress(Horizontal):
    """Steps done out of every step of every epoch; the label has the speed and an estimate.

    A run of 2.5 epochs is three epochs, the last of half the steps: the bar
    counts the steps the engine will take (``epoch_lengths``), the label says
    epoch 3/3 for the last.
    """

    def __init__(self, *, id: str | None = None):
        super().__init__(id=id)
        self.lengths: list[int] = []
        self.batch_size = 0
        self._first: tuple[float, int] | None = None  # (when, steps done) at the run's first update after compiling

    def compose(self) -> ComposeResult:
        yield ProgressBar(total=1, show_eta=False, id="run-bar")  # still and empty until a run starts
        yield Label("", id="run-speed")

    def reset(self) -> None:
        self._first = None
        self.query_one(ProgressBar).update(total=None, progress=0)
        self.query_one(Label).update("")

    def start(self, started: ev.RunStarted) -> None:
        self.lengths = epoch_lengths(float(started.config.get("epochs") or 1), started.steps_per_epoch)
        self.batch_size = int(started.config.get("batch_size") or 0)
        self._first = None
        self.query_one(ProgressBar).update(total=sum(self.lengths), progress=0)
        self.query_one(Label).update(f"1/{len(self.lengths)}  compiling…")

    def advance(self, progress: ev.Progress) -> None:
        lengths = self.lengths or [progress.steps] * progress.epoch
        done = sum(lengths[: progress.epoch - 1]) + progress.step
        total = sum(lengths)
        self.query_one(ProgressBar).update(total=total, progress=done)
        text = f"{progress.epoch}/{len(lengths)}"
        rate = self._images_per_sec(done)
        if rate is not None:
            text += f"  {rate:,.0f} img/s  {_clock((total - done) * self.batch_size / rate)} left"
        self.query_one(Label).update(text)

    def _images_per_sec(self, done: int) -> float | None:
        """The speed since this run's first update, once a second of it is measured (None before).

        The engine's own figure is per epoch and starts from the epoch's first
        dispatch, which returns before the work is done: at the start of an
        epoch it reads far too fast, and the time left far too short.
        """
        now = time.monotonic()
        if self._first is None:
            self._first = (now, done)
            return None
        since, steps = now - self._first[0], done - self._first[1]
        if since < 1.0 or steps <= 0 or not self.batch_size:
            return None
        return steps * self.batch_size / since

    def finish(self, text: str) -> None:
        bar = self.query_one(ProgressBar)
        if bar.total is None:
            bar.update(total=1, progress=0)
        self.query_one(Label).update(text)
