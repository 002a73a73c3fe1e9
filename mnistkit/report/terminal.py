"""The terminal view of a run: progress bars, epoch lines, the prediction grid, the curves.

A consumer of engine events, like the run directory writer and the TUI.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Self, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeRemainingColumn

from mnistkit.engine import events as ev


class ConsoleView:
    """Draws a run for a person: one progress bar per epoch, one line per epoch."""

    def __init__(self, console: Console, epochs: float):
        self.console = console
        self.epochs = math.ceil(epochs)  # a run of 2.5 epochs shows epochs 1/3 to 3/3
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[stats]}"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self.task: TaskID | None = None
        self.compiling: TaskID | None = None  # the spinner from the start until the train step has compiled
        self.train: dict[str, float] = {}
        self.last_predictions: ev.Predictions | None = None
        self.last_reports: dict[str, ev.Report] = {}

    def __enter__(self) -> Self:
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def handle(self, event: ev.Event) -> None:
        print_ = self.progress.console.print
        match event:
            case ev.RunStarted():
                cfg = event.config
                print_(
                    f"Training [bold]{cfg.get('model')}[/] with [bold]{cfg.get('optimizer')}[/] "
                    f"(learning rate {cfg.get('learning_rate')}, batch {cfg.get('batch_size')}, "
                    f"{cfg.get('epochs')} epoch{'' if cfg.get('epochs') == 1 else 's'}, seed {cfg.get('seed')})"
                )
                print_(f"Data: {event.data_source}")
                print_(f"Backend: [bold]{event.backend}[/], devices: {', '.join(event.devices)}")
                self.compiling = self.progress.add_task("compiling the train step", total=None, stats="")
            case ev.Compiled():
                self._done_compiling()
                print_(f"[dim]Compiled the train step in {event.seconds:.1f} s[/]")
            case ev.Progress():
                self._done_compiling()
                stats = f"loss {event.loss:.4f}  acc {event.accuracy:6.2%}  {event.images_per_sec:,.0f} img/s"
                description = f"epoch {event.epoch}/{self.epochs}"
                if self.task is None:
                    self.task = self.progress.add_task(description, total=event.steps, stats=stats)
                self.progress.update(self.task, completed=event.step, description=description, stats=stats)
            case ev.EpochEnd():
                if self.task is not None:
                    self.progress.remove_task(self.task)
                    self.task = None
                self.train = event.train
            case ev.Evaluation():
                test = event.test
                print_(
                    f"epoch {event.epoch:>{len(str(self.epochs))}}/{self.epochs}  "
                    f"train loss {self.train.get('loss', float('nan')):.4f} acc {self.train.get('accuracy', float('nan')):6.2%}  "
                    f"test loss {test['loss']:.4f} acc [bold]{test['accuracy']:6.2%}[/]"
                )
            case ev.Predictions():
                self.last_predictions = event
            case ev.Report():
                self.last_reports[event.metric] = event
            case ev.Finished():
                self.show_predictions()
                self.show_reports()
                self.show_curves(event.history)
                print_(f"Finished in {event.seconds:.1f} s")
            case ev.Failed() | ev.Interrupted():
                self._done_compiling()  # the front end says it once, with what was kept (the run's outcome)

    def _done_compiling(self) -> None:
        if self.compiling is not None:
            self.progress.remove_task(self.compiling)
            self.compiling = None

    def show_curves(self, history) -> None:
        """The loss and accuracy curves in text, on a terminal only (a log or a pipe gets curves.png alone)."""
        if not self.console.is_terminal:
            return
        from rich.text import Text

        from mnistkit.report.curves import terminal_curves

        text = terminal_curves(history, self.console.width, color=self.console.color_system is not None)
        if text is not None:
            self.console.print(Text.from_ansi(text), soft_wrap=True)

    def show_reports(self) -> None:
        """Each metric plugin's last report text, after the prediction grid."""
        for report in self.last_reports.values():
            if report.text:
                self.console.print(f"[bold]{report.metric}[/] after epoch {report.epoch}:")
                self.console.print(report.text, markup=False, highlight=False)

    def show_predictions(self) -> None:
        from mnistkit.report.digits import prediction_grid

        p = self.last_predictions
        if p is None:
            return
        wrong = int((p.labels != p.predicted).sum())
        self.console.print(f"Predictions on {len(p.labels)} test digits after epoch {p.epoch} ({wrong} wrong):")
        self.console.print(prediction_grid(p.images, p.labels, p.predicted))


@contextmanager
def busy(console: Console, text: str) -> Iterator[None]:
    """A spinner saying ``text`` while the block runs, on a terminal; nothing in a log or a pipe."""
    if not console.is_terminal:
        yield
        return
    with console.status(text, spinner="dots"):
        yield


class JsonView:
    """Prints one JSON object per event; the first line names the schema version."""

    def __init__(self, stream: TextIO | None = None):
        self.stream = stream if stream is not None else sys.stdout
        self._write({"event": "Schema", "schema": "mnistkit.engine.events", "version": ev.SCHEMA_VERSION})

    def _write(self, obj: dict) -> None:
        self.stream.write(json.dumps(obj) + "\n")
        self.stream.flush()

    def handle(self, event: ev.Event) -> None:
        self._write(ev.to_json(event))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        pass


class NoView:
    """Shows nothing: the view of a process that trains in step with process 0 of a ``--distributed`` run."""

    def handle(self, event: ev.Event) -> None:
        pass

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        pass
