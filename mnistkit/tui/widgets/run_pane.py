"""The run pane: everything a training run or a lesson's stage shows, fed one item at a time.

``RunPane.handle`` takes what ``mnistkit.tui.training`` produces (the
engine's events, the TUI's notices, and a stage's text and tables) and
routes each to the widget that shows it. It never trains anything itself.
A stage that does not train shows only its output; the charts, digits and
jit panel appear once a run starts.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

from rich.cells import cell_len
from rich.markup import escape
from rich.protocol import is_renderable
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, ScrollableContainer, Vertical, VerticalScroll
from textual.widgets import RichLog, Static

from mnistkit.curriculum.stages import Note
from mnistkit.engine import events as ev
from mnistkit.engine.settings import epoch_lengths
from mnistkit.report.curves import OVERFITTING_EXERCISE, OVERFITTING_LESSON, overfitting_starts
from mnistkit.runs.catalog import PastRun, differences
from mnistkit.tui import training
from mnistkit.tui.widgets.charts import MetricChart
from mnistkit.tui.widgets.jit_panel import JitPanel
from mnistkit.tui.widgets.predictions import PredictionGrid
from mnistkit.tui.widgets.run_progress import RunProgress

CHART_INTERVAL = 0.5
"""Seconds between chart redraws during an epoch; epoch ends always redraw."""

IDLE = "Nothing is running. Press [b]t[/] to choose what to train, or [b]r[/] to run this lesson's stage."


AGAIN = "[b]g[/] to train again with the same settings, or [b]t[/] to change them"
"""What the run pane offers once a run has ended: the keys of ``MainScreen``'s train-again and train bindings."""

RESUME = "[b]u[/] to resume it, "
"""Put before ``AGAIN`` when the run that ended can be continued (``MainScreen``'s resume binding)."""

MARK_DONE = "[b]d[/] to mark the lesson done, "
"""What a finished stage offers first when its lesson waits for no exercise (the app's mark-done binding)."""


def comparison_line(past: PastRun, now_config: Mapping[str, Any], history: list[dict[str, float]]) -> str:
    """What the grey curve is, what changed since, and the two test accuracies side by side."""
    changed = differences(past.config, now_config)
    line = f"Grey: run {past.name} ({', '.join(changed) if changed else 'the same settings'})"
    accuracy = past.history[-1].get("test_accuracy") if past.history else None
    if isinstance(accuracy, int | float):
        line += f", test accuracy {accuracy:.1%} after {len(past.history)} epoch(s)"
    if history and "test_accuracy" in history[-1]:
        line += f"; this run {history[-1]['test_accuracy']:.1%} after {len(history)}"
    return line + ". [b]c[/] compares with another run."


def overfitting_note(history) -> str:
    """The line under the charts once ``report.curves.overfitting_starts`` finds overfitting in ``history``, else ""."""
    epoch = overfitting_starts(history)
    if epoch is None:
        return ""
    return (f"Epoch {epoch}: the test loss is rising while the train loss falls: the model starts to overfit "
            f"(lesson {OVERFITTING_LESSON}, exercise {OVERFITTING_EXERCISE}).")


class RunPane(VerticalScroll):
    """Status, progress, loss and accuracy charts, what they show, the prediction grid, the jit panel and a log."""

    DEFAULT_CSS = """
    RunPane #run-advice {
        height: auto;
        color: $text-warning;
        display: none;
    }
    RunPane #run-advice.-shown {
        display: block;
    }
    RunPane #run-compare {
        height: auto;
        color: $text-muted;
        display: none;
    }
    RunPane #run-compare.-shown {
        display: block;
    }
    """

    def __init__(self, *, id: str | None = None):
        super().__init__(id=id)
        self.running = False
        self.stage_run = False
        self.hint = ""
        self._cancelling = False
        self._epoch_end: ev.EpochEnd | None = None
        self._history: list[dict[str, float]] = []
        self._epochs: float = 0
        self._lengths: list[int] = []
        """Steps in each epoch (``epoch_lengths``): the last of a run of 2.5 epochs has half of them."""
        self._steps_per_epoch = 0
        self._charted = 0.0
        self.compared: PastRun | None = None
        """The earlier run drawn in grey on the charts (``compare_with``)."""
        self.folder: training.RunFolder | None = None
        """The folder of the run shown, and once it has ended whether it can be resumed."""
        self.config: dict[str, Any] = {}
        """The settings of the run shown (from its ``RunStarted``)."""

    def compose(self) -> ComposeResult:
        yield Static(IDLE, id="run-status")
        yield Static("", id="run-data")
        yield RunProgress(id="run-progress")
        with Horizontal(id="run-charts"):
            yield MetricChart("loss", "loss", id="chart-loss")
            yield MetricChart("accuracy", "accuracy %", percent=True, id="chart-accuracy")
        yield Static("", id="run-advice")
        yield Static("", id="run-compare")
        with Horizontal(id="run-details"):
            yield PredictionGrid(id="run-grid")
            with Vertical(id="run-side"):
                yield JitPanel(id="run-jit")
                yield RichLog(id="run-log", wrap=True, markup=False, max_lines=500, min_width=20)  # default 78: cut off beside the sidebar
        yield ScrollableContainer(id="run-output")

    def begin(self, title: str, stage: bool = False, hint: str = "") -> None:
        """Clear the previous run's output and say what is starting: a training run, or a lesson's stage.

        ``hint`` (markup ending in ", ") goes first in what the status line offers once the run has finished.
        """
        self.running, self.stage_run, self.hint, self._cancelling = True, stage, hint, False
        self.set_class(stage, "-stage")
        self.query_one("#run-output").remove_children()
        self._epoch_end, self._history, self._epochs, self._lengths, self._charted = None, [], 0, [], 0.0
        self.folder = None
        self._advise("")
        self._status(f"[b]{escape(title)}[/]: starting…")
        self.query_one("#run-data", Static).update("")
        self.query_one(RunProgress).reset()
        for chart in self.query(MetricChart):
            chart.reset()
        self.query_one(PredictionGrid).clear()
        self.query_one(JitPanel).reset()
        self.log_line(f"— {title} —", style="bold")
        self.scroll_home(animate=False)  # the status, the bar and the charts in view, whatever the last run left

    def cancelling(self) -> None:
        """Say on the status line that a cancel is under way (the steps under way finish, then a checkpoint)."""
        self._status("[yellow]Cancelling…[/] the steps under way finish first.")
        self._cancelling = True  # kept until the run ends: a later "compiling…" must not read as if x was ignored

    def log_line(self, text: str, style: str = "") -> None:
        self.query_one(RichLog).write(Text(text, style=style))

    def _status(self, markup: str, *, final: bool = False) -> None:
        if self._cancelling and not final:
            return
        self.query_one("#run-status", Static).update(markup)

    def handle(self, item: object) -> None:
        """Show one item of a run's stream."""
        self.query_one(JitPanel).handle(item)
        match item:
            case training.Phase():
                self._status(f"{item.text}…")
            case training.DataNotice():
                self.log_line(item.text, style="yellow")
            case training.RunFolder():
                self.folder = item
            case training.Resumed():
                self._resumed(item)
            case Note():
                self._output(Text(item.text, style="italic yellow"), wrap=True)
            case str():
                self._output(Text(item), wrap=True)
            case training.StageDone():
                self._ended(f"[green]Stage {escape(item.stage)} done[/] in {item.seconds:.1f} s. "
                            f"Press {self.hint or MARK_DONE}[b]][/] for the next one.", "done")
            case ev.RunStarted():
                self._started(item)
            case ev.Compiled():
                self.log_line(f"compiled the train step in {item.seconds:.2f} s")
            case ev.Progress():
                self._progress(item)
            case ev.EpochEnd():
                self._epoch_end = item
            case ev.Evaluation():
                self._evaluated(item)
            case ev.Report() if item.text:
                self.log_line(f"{item.metric}: {item.text}")
            case ev.Predictions():
                self.query_one(PredictionGrid).show(item)
            case ev.Finished() if self.stage_run:
                self.log_line(f"training finished in {item.seconds:.1f} s")
            case ev.Finished():
                self._ended(f"[green]Finished[/] {self._epochs:g} epoch(s) in {item.seconds:.1f} s. "
                            f"Press {self.hint}{AGAIN}.",
                            f"finished in {item.seconds:.1f} s")
            case ev.Interrupted():
                where = (f" in epoch {item.epoch} after {item.step} steps" if item.epoch and item.step
                         else f" at the start of epoch {item.epoch}" if item.epoch else " before training started")
                again = "[b]r[/] to run the stage again" if self.stage_run else AGAIN
                if not self.stage_run and self.folder is not None and self.folder.resumable:
                    again = RESUME + again
                self._ended(f"[yellow]Cancelled[/]{where}. Press {again}.", "cancelled")
            case ev.Failed():
                self._ended(f"[red]Run failed:[/] {escape(item.message)}", "failed")
            case _ if is_renderable(item):
                self._output(item)

    def _output(self, renderable, wrap: bool = False) -> None:
        """Show a stage's text or table; text drawn as a table (``nnx.tabulate``) keeps its lines whole."""
        widget = Static(renderable, classes="stage-output")
        if isinstance(renderable, Text) and not wrap:
            renderable.no_wrap = True
            widget.styles.width = max((cell_len(line) for line in renderable.plain.splitlines()), default=1)
        self.query_one("#run-output").mount(widget)

    def _started(self, started: ev.RunStarted) -> None:
        self.remove_class("-stage")
        config = started.config
        self._epochs = float(config.get("epochs") or 0)
        self._steps_per_epoch = started.steps_per_epoch
        self._lengths = epoch_lengths(self._epochs, started.steps_per_epoch) if started.steps_per_epoch else []
        self._status(
            f"Training [b]{config.get('model')}[/] with [b]{config.get('optimizer')}[/]  "
            f"lr {config.get('learning_rate')}  batch {config.get('batch_size')}  "
            f"{self._epochs:g} epoch(s)  seed {config.get('seed')}   [dim]x cancels[/]"
        )
        self.query_one("#run-data", Static).update(Text.assemble(("data ", "dim"), started.data_source))
        self.query_one(RunProgress).start(started)
        for chart in self.query(MetricChart):
            chart.reset(self._epochs)
        self.config = dict(config)
        self._show_comparison()
        self.log_line(f"{started.num_train:,} train and {started.num_test:,} test images, "
                      f"{started.steps_per_epoch} steps per epoch")

    def compare_with(self, past: PastRun | None, now_config: Mapping[str, Any] | None = None) -> None:
        """Draw ``past``'s test curves in grey under this run's (None stops); ``now_config`` until a run has started."""
        self.compared = past
        if now_config is not None and not self.config:
            self.config = dict(now_config)
        for chart in self.query(MetricChart):
            chart.compare(past.history if past is not None else (), past.config.get("epochs", 0) if past else 0)
        self._show_comparison()

    def _show_comparison(self) -> None:
        line = self.query_one("#run-compare", Static)
        shown = self.compared is not None
        line.update(comparison_line(self.compared, self.config, self._history) if self.compared is not None else "")
        line.set_class(shown, "-shown")

    def _resumed(self, resumed: training.Resumed) -> None:
        """Draw the epochs the run had done before it stopped, as if this run had drawn them."""
        self._history = list(resumed.history)
        for epoch, row in enumerate(resumed.history, 1):
            for chart in self.query(MetricChart):
                if f"train_{chart.metric}" in row:
                    chart.add_train(float(epoch), row[f"train_{chart.metric}"])
                if f"test_{chart.metric}" in row:
                    chart.add_test(float(epoch), row[f"test_{chart.metric}"])
        for chart in self.query(MetricChart):
            chart.replot()
        self.log_line(f"resumed in epoch {resumed.epoch} after {resumed.step} steps "
                      f"({len(resumed.history)} epoch(s) done before)")

    def _epochs_done(self, epoch: int, step: int, steps: int) -> float:
        """Where step ``step`` of epoch ``epoch`` is on the charts' x axis, in epochs (0.75 at the end of a run of 0.75)."""
        if len(self._lengths) < epoch:
            return epoch - 1 + step / steps
        return (sum(self._lengths[: epoch - 1]) + step) / self._steps_per_epoch

    def _progress(self, progress: ev.Progress) -> None:
        self.query_one(RunProgress).advance(progress)
        x = self._epochs_done(progress.epoch, progress.step, progress.steps)
        self.query_one("#chart-loss", MetricChart).add_train(x, progress.loss)
        self.query_one("#chart-accuracy", MetricChart).add_train(x, progress.accuracy)
        now = time.monotonic()
        if now - self._charted >= CHART_INTERVAL:
            self._charted = now
            for chart in self.query(MetricChart):
                chart.replot()

    def _evaluated(self, evaluation: ev.Evaluation) -> None:
        end = self._epoch_end
        test, train = evaluation.test, end.train if end is not None else {}
        epoch = evaluation.epoch
        if end is not None and end.epoch == epoch:
            self._history.append(ev.history_row(end, evaluation))
            self._advise(overfitting_note(self._history))
            self._show_comparison()
        steps = self._lengths[epoch - 1] if len(self._lengths) >= epoch else 1
        x = self._epochs_done(epoch, steps, steps)
        self.query_one("#chart-loss", MetricChart).add_test(x, test["loss"])
        self.query_one("#chart-accuracy", MetricChart).add_test(x, test["accuracy"])
        for chart in self.query(MetricChart):
            chart.replot()
        epochs = len(self._lengths) or math.ceil(self._epochs) or epoch
        width = len(str(epochs))
        self.log_line(
            f"epoch {epoch:>{width}}/{epochs}  "
            f"train loss {train.get('loss', float('nan')):.4f} acc {train.get('accuracy', float('nan')):6.2%}  "
            f"test loss {test['loss']:.4f} acc {test['accuracy']:6.2%}"
        )

    def _advise(self, text: str) -> None:
        advice = self.query_one("#run-advice", Static)
        advice.update(text)
        advice.set_class(bool(text), "-shown")

    def _ended(self, status: str, short: str) -> None:
        self.running = False
        self._status(status, final=True)
        self.query_one(RunProgress).finish(short)
        self.log_line(Text.from_markup(status).plain)
