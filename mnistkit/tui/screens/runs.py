"""Choose an earlier run from the runs folder: to resume it, or to draw its curves under the current ones."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rich.markup import escape
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from mnistkit import environment
from mnistkit.runs.catalog import PastRun, list_runs
from mnistkit.runs.config import RunConfig

if TYPE_CHECKING:
    from mnistkit.tui.screens.main import MainScreen

STOP = "stop"
"""The option that stops comparing, offered first while a comparison is shown."""


class RunPicker(ModalScreen[PastRun | str | None]):
    """A list of runs, newest first, one line each (``PastRun.describe``); Enter picks one, Esc picks none.

    Dismissed with the chosen ``PastRun``, ``STOP`` for the "stop comparing"
    option (``stop`` given), or None.
    """

    BINDINGS = [Binding("escape", "dismiss(None)", "Close")]

    def __init__(self, title: str, runs: list[PastRun], hint: str, *, stop: str | None = None):
        super().__init__()
        self.title_text = title
        self.runs = runs
        self.hint = hint
        self.stop = stop

    def compose(self) -> ComposeResult:
        options = [Option(escape(self.stop), id=STOP)] if self.stop else []
        options += [Option(f"[b]{escape(run.name)}[/]\n  {escape(run.describe())}", id=str(index))
                    for index, run in enumerate(self.runs)]
        with Vertical(id="run-picker"):
            yield OptionList(*options, id="run-list")
            yield Static(self.hint, id="run-picker-hint")

    def on_mount(self) -> None:
        self.query_one("#run-picker").border_title = f"{self.title_text} (Enter picks, Esc closes)"
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        chosen = event.option.id
        self.dismiss(STOP if chosen == STOP else self.runs[int(chosen or 0)])


class _RunsApp(Protocol):
    """What resuming and comparing use of ``MnistkitApp`` (described here, as that module imports this one)."""

    runs_dir: str | None
    config: RunConfig

    @property
    def main(self) -> MainScreen: ...

    def resume_run(self, path: Path) -> None: ...

    def notify(self, message: str, *, title: str = "") -> None: ...

    def push_screen(self, screen: Any, callback: Any = None) -> Any: ...


def offer_resume(app: _RunsApp) -> None:
    """Resume the run just cancelled in the run tab; else let the learner pick one from the runs folder."""
    main = app.main
    if main.running:
        app.notify("A run is in progress: x cancels it (at a checkpoint), then u resumes it.")
        return
    folder = main.run_pane.folder
    if folder is not None and folder.resumable:
        app.resume_run(folder.path)
        return
    runs = [run for run in list_runs(environment.runs_dir(app.runs_dir)) if run.resumable]
    if not runs:
        app.notify("No run to resume in the runs folder. A run cancelled with x, or stopped with Ctrl-C in "
                   "`mnistkit run`, can be resumed; a finished one cannot.", title="Resume")
        return
    app.push_screen(RunPicker("Resume a run", runs, "It goes on from its last checkpoint with its own settings, up to "
                              "its last epoch, exactly as `mnistkit run --resume` does."),
                    lambda chosen: app.resume_run(chosen.path) if isinstance(chosen, PastRun) else None)


def offer_compare(app: _RunsApp) -> None:
    """Let the learner pick an earlier run whose test curves are drawn in grey under the run tab's."""
    pane = app.main.run_pane
    shown = pane.folder.path if pane.folder is not None else None
    runs = [run for run in list_runs(environment.runs_dir(app.runs_dir), with_history=True)
            if shown is None or run.path.resolve() != shown.resolve()]
    if not runs and pane.compared is None:
        app.notify("No earlier run with a finished epoch to compare with: train one (t), change a setting, train "
                   "again, then press c.", title="Compare")
        return

    def chosen(run: PastRun | str | None) -> None:
        if run == STOP:
            pane.compare_with(None)
        elif isinstance(run, PastRun):
            pane.compare_with(run, app.config.to_dict())
            app.main.show_tab("run-tab")

    app.push_screen(RunPicker("Compare with an earlier run", runs, "Its test loss and accuracy are drawn in grey "
                              "under this run's; the line under the charts says what changed.",
                              stop="Stop comparing" if pane.compared is not None else None), chosen)
