"""The terminal view of `mnistkit run`: a spinner while it compiles, the curves at the end (only in a terminal)."""

from __future__ import annotations

import io

from rich.console import Console

from mnistkit.engine import events as ev
from mnistkit.report.curves import terminal_curves
from mnistkit.report.terminal import ConsoleView

HISTORY = tuple(
    {"epoch": e, "train_loss": 1 / e, "test_loss": 1.2 / e, "train_accuracy": 1 - 0.1 / e,
     "test_accuracy": 1 - 0.15 / e, "seconds": 1.0}
    for e in range(1, 5)
)


def finish(console: Console, history=HISTORY) -> str:
    with ConsoleView(console, len(history)) as view:
        view.handle(ev.Finished(history=history, seconds=3.0))
    return console.file.getvalue()


def test_the_curves_have_a_loss_and_an_accuracy_panel_with_an_axis_of_epochs():
    text = terminal_curves(HISTORY, 100, color=False)
    lines = text.splitlines()
    assert "loss" in lines[0] and "accuracy" in lines[0] and lines[0].index("loss") < lines[0].index("accuracy")
    assert "train" in text and "test" in text
    assert lines[-1].split() == ["1", "2", "3", "4"] * 2  # an epoch axis under each panel
    assert max(len(line) for line in lines) <= 100 and "\x1b[" not in text
    # The y axis of the loss panel spans the values: highest at the top, lowest at the bottom.
    assert lines[2].split("┤")[0].strip() == "1.20" and lines[-3].split("┤")[0].strip() == "0.25"


def test_a_run_in_a_terminal_ends_with_the_curves():
    out = finish(Console(file=io.StringIO(), force_terminal=True, width=100, color_system=None))
    assert "accuracy" in out and "┌" in out and out.index("┌") < out.index("Finished in 3.0 s")


def test_a_pipe_a_narrow_terminal_or_a_single_epoch_gets_no_curves():
    assert "┌" not in finish(Console(file=io.StringIO(), force_terminal=False, width=100))
    assert "┌" not in finish(Console(file=io.StringIO(), force_terminal=True, width=50, color_system=None))
    assert "┌" not in finish(Console(file=io.StringIO(), force_terminal=True, width=100, color_system=None), HISTORY[:1])


def started() -> ev.RunStarted:
    return ev.RunStarted(config={"model": "cnn", "optimizer": "adamw", "learning_rate": 0.005, "batch_size": 32,
                                 "epochs": 2, "seed": 0}, backend="cpu", devices=("cpu:0",), data_source="sample",
                         num_train=64, num_test=32, steps_per_epoch=2)


def test_something_moves_while_the_first_step_compiles():
    console = Console(file=io.StringIO(), force_terminal=True, width=100, color_system=None)
    with ConsoleView(console, 2) as view:
        view.handle(started())
        assert [task.description for task in view.progress.tasks] == ["compiling the train step"]
        view.progress.refresh()
        assert "compiling the train step" in console.file.getvalue()
        view.handle(ev.Compiled(seconds=1.5))
        assert view.progress.tasks == []
        view.handle(ev.Progress(epoch=1, step=1, steps=2, loss=0.5, accuracy=0.8, images_per_sec=100.0))
        assert [task.description for task in view.progress.tasks] == ["epoch 1/2"]


def test_busy_spins_on_a_terminal_and_stays_silent_in_a_pipe():
    from mnistkit.report.terminal import busy

    piped = Console(file=io.StringIO(), force_terminal=False)
    with busy(piped, "Preparing..."):
        piped.print("a line")
    assert piped.file.getvalue() == "a line\n"
    shown = Console(file=io.StringIO(), force_terminal=True, width=80, color_system=None)
    with busy(shown, "Preparing..."):
        shown.print("a line")
    assert "Preparing..." in shown.file.getvalue() and "a line" in shown.file.getvalue()
