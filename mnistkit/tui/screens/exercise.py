"""The exercise view: the task, the learner's file in an editor, and the check, hints and solution beside it.

The file is the learner's own: ``workspace.start`` makes it from the starter
the first time and keeps it after that. ctrl+s saves the editor into it;
ctrl+o hands the terminal to ``$EDITOR`` and reads the file back. A check
saves first, then runs ``checking.check`` in a thread worker, so the screen
never waits on the learner's code; leaving the view (or quitting) sets the
check's cancel event, which stops the checker process at once. A check's
outcome, a hint shown and a reset go into the app's ``Progress`` (the
progress.json ``mnistkit exercise`` uses too), and the screen posts
``ExerciseScreen.Changed`` so the app can redraw the lesson's marks.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator, Sequence
from importlib.util import find_spec
from pathlib import Path

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.theme import Theme
from textual.widget import Widget
from textual.widgets import Footer, Header, Markdown, Static, TextArea
from textual.worker import Worker, WorkerState

from mnistkit.atomic import write_atomic
from mnistkit.curriculum import checking, workspace
from mnistkit.curriculum.exercises import Exercise
from mnistkit.curriculum.progress import ATTEMPTED, NOT_STARTED, PASSED, Progress, record_check
from mnistkit.errors import MnistkitError, OutputError
from mnistkit.tui.external_editor import choose_editor
from mnistkit.tui.screens.confirm import ConfirmScreen
from mnistkit.tui.screens.solution import SolutionScreen

LANGUAGE = "python" if find_spec("tree_sitter") and find_spec("tree_sitter_python") else None
"""Python highlighting needs tree-sitter and its Python grammar (dependencies); without them the editor shows plain text."""

EDITOR_THEMES = {True: "css", False: "github_light"}
"""The editor's colours by whether the app's theme is dark: "css" follows the app's own colours."""

COMMANDS = (
    ("Check the exercise", "Save your file and run the exercise's check on it", "check"),
    ("Show a hint", "The next of the exercise's hints, one at a time", "hint"),
    ("Open the file in $EDITOR", "Edit your file in your own editor; it is read back when you quit it", "external_editor"),
    ("Show the solution", "The reference solution, after you confirm", "solution"),
    ("Reset the exercise to its starter", "Your file back to the starter (your version kept as .bak), after you confirm", "reset"),
    ("Next exercise", "The lesson's next exercise", "next_exercise"),
    ("Back to the lesson", "Leave the exercise view (your file is saved)", "leave"),
)
"""Command-palette entries on this screen: title, help, screen action."""

STATUS_LINES = {
    NOT_STARTED: "Not checked yet. [b]ctrl+r[/] saves your file and checks it; [b]ctrl+g[/] gives a hint.",
    ATTEMPTED: "Checked before, not passed yet. [b]ctrl+r[/] checks again; [b]ctrl+g[/] gives a hint.",
    PASSED: "✓ Passed before. Change it and [b]ctrl+r[/] checks again.",
}


def shown_path(path: Path) -> str:
    """``path`` with the home folder as ``~``, as a learner would type it."""
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)


def result_text(result: checking.CheckResult) -> str:
    """A check's outcome as console markup: passed or not, how long, the checker's message, what the code printed."""
    took = f"{result.seconds:.1f} s"
    if result.passed:
        return f"✓ Passed ({took}): {escape(result.message)}"
    text = f"✗ Not yet ({took}): {escape(result.message)}"
    printed = result.output.strip().splitlines()[-2:]
    if printed:
        text += "\n[dim]Your code printed: " + escape(" | ".join(printed)) + "[/]"
    return text


class ExerciseScreen(Screen[None]):
    """One exercise of a lesson; Esc leaves the editor, and from outside it goes back to the lesson."""

    BINDINGS = [
        Binding("escape", "leave", "Back"),
        Binding("ctrl+s", "save", "Save"),
        Binding("ctrl+r", "check", "Check"),
        Binding("c", "check", "Check", show=False),
        Binding("ctrl+g", "hint", "Hint"),
        Binding("h", "hint", "Hint", show=False),
        Binding("ctrl+o", "external_editor", "$EDITOR"),
        Binding("o", "external_editor", "$EDITOR", show=False),
        Binding("ctrl+l", "solution", "Solution"),
        Binding("a", "solution", "Solution", show=False),
        Binding("ctrl+n", "next_exercise", "Next"),
        Binding("n", "next_exercise", "Next", show=False),
        Binding("R", "reset", "Reset", show=False),
    ]

    class Changed(Message):
        """The exercise's status changed (a check, a reset): the lesson's marks may need redrawing."""

        def __init__(self, exercise: Exercise) -> None:
            super().__init__()
            self.exercise = exercise

    def __init__(self, exercises: Sequence[Exercise], index: int, progress: Progress,
                 directory: str | Path | None = None):
        """Open ``exercises[index]``, making the learner's file from the starter if it does not exist yet.

        Raises ``MnistkitError`` (a message for the learner) when the file cannot be made or read.
        """
        super().__init__()
        self.exercises, self.index, self.progress = list(exercises), index, progress
        self.exercise = self.exercises[index]
        self.directory = directory
        self.path, _ = workspace.start(self.exercise, directory)
        self._saved = self._read()  # the file's text as last read or written
        self._shown = ""  # the result line's markup
        self._cancel = threading.Event()
        self._checking = False
        self._hints_mounted = 0
        self._solution_seen = False  # asked once; after a yes, ctrl+l shows it again without asking
        # Soft wrap: at 80 columns a docstring would otherwise run off the right edge.
        self._editor = TextArea.code_editor(self._saved, language=LANGUAGE, soft_wrap=True, id="exercise-editor")

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="exercise"):
            with VerticalScroll(id="exercise-task"):
                yield Markdown(self.exercise.task, id="exercise-body")
                yield Vertical(id="exercise-hints")
            with Vertical(id="exercise-work"):
                yield self._editor
                yield Static(id="exercise-result")
        yield Footer(show_command_palette=False)  # its keys fill 80 columns; ctrl+p still opens the palette

    def on_mount(self) -> None:
        self.sub_title = f"exercise {self.index + 1} of {len(self.exercises)}: {self.exercise.id}"
        self.query_one("#exercise-task").border_title = self.exercise.title
        self._follow_theme(self.app.current_theme)
        self.app.theme_changed_signal.subscribe(self, self._follow_theme)
        self.call_later(self._show_hints, self.progress.hints_shown(self.exercise.id))
        self._show_state()
        self._mark_saved()
        self._editor.focus()

    def on_unmount(self) -> None:
        """Stop a check in flight and keep what was typed: leaving the view, switching exercise or quitting."""
        self._cancel.set()
        if self._editor.text != self._saved:
            self._write(self._editor.text, quiet=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "next_exercise":
            return len(self.exercises) > 1  # hidden (and the key unbound) for a lesson's only exercise
        return True

    def palette_commands(self) -> Iterator[tuple[str, str, str]]:
        """``COMMANDS`` that apply here (the app puts them in the command palette)."""
        return (command for command in COMMANDS if self.check_action(command[2], ()))

    # The file

    def _read(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise OutputError(f"cannot read {self.path}: {err}; fix or delete the file (reset makes it again)") from err

    def _write(self, text: str, quiet: bool = False) -> bool:
        try:
            write_atomic(self.path, text.encode())
        except OSError as err:
            if not quiet:
                self.notify(f"cannot save {self.path}: {err.strerror or err}", title="Not saved", severity="error")
            return False
        self._saved = text
        if not quiet:
            self._mark_saved()
        return True

    def _sync(self) -> bool:
        """Make the file and the editor agree: save the editor's changes, else read the file's (another editor's)."""
        if self._editor.text != self._saved:
            return self._write(self._editor.text)
        try:
            on_disk = self._read()
        except OutputError as err:
            self.notify(str(err), severity="error")
            return False
        if on_disk != self._saved:
            self._load(on_disk)
        return True

    def _load(self, text: str) -> None:
        self._saved = text
        self._editor.load_text(text)
        self._mark_saved()

    @on(TextArea.Changed, "#exercise-editor")
    def _mark_saved(self) -> None:
        state = "saved" if self._editor.text == self._saved else "[b]modified[/]: ctrl+s saves"
        self._editor.border_title = f"{escape(shown_path(self.path))} · {state}"

    def action_save(self) -> None:
        if self._write(self._editor.text):
            self.notify(f"Saved {self.path.name}.", timeout=2)

    def action_external_editor(self) -> None:
        choice = choose_editor()
        if choice.command is None:
            self.notify(choice.note, title="No editor", severity="warning", timeout=10)
            return
        if not self._sync():
            return
        try:
            with self.app.suspend():
                code = subprocess.run([*choice.command, str(self.path)], check=False).returncode
        except SuspendNotSupported:
            self.notify(f"This terminal cannot hand the screen to another program: edit {shown_path(self.path)} "
                        f"in another window, then ctrl+r here checks it.", severity="warning", timeout=10)
            return
        except OSError as err:
            self.notify(f"cannot start {choice.command[0]}: {err.strerror or err}; check $EDITOR",
                        title="No editor", severity="error", timeout=10)
            return
        self._sync()
        if code:
            self.notify(f"{choice.command[0]} exited with code {code}.", severity="warning")
        if choice.note:
            self.notify(choice.note, timeout=8)

    def action_reset(self) -> None:
        name = self.path.name
        self.app.push_screen(ConfirmScreen(
            f"Replace your {name} with the starter?\n\nYour version is kept as {name}.bak, and the exercise "
            f"counts as not started again.", yes="Reset"), self._reset)

    def _reset(self, yes: bool | None) -> None:
        if not yes:
            return
        try:
            self.path, _ = workspace.start(self.exercise, self.directory, reset=True)
            self._load(self._read())
        except MnistkitError as err:
            self.notify(str(err), title="Not reset", severity="error")
            return
        self.progress.mark_exercise(self.exercise.id, NOT_STARTED)
        self.query_one("#exercise-hints").remove_children()
        self._hints_mounted = 0
        self._show_state()
        self.post_message(self.Changed(self.exercise))
        self.notify(f"Back to the starter; your version is in {workspace.backup_file(self.path).name}.")

    # Checking

    def action_check(self) -> None:
        if self._checking:
            self.notify("Already checking…", timeout=2)
            return
        if not self._sync():
            return
        self._checking = True
        self._result("Checking… your code runs in a process of its own (a few seconds; leaving the view cancels it).",
                     "-checking")
        self._check(self.path, self._cancel)

    @work(thread=True, exclusive=True, group="exercise-check", exit_on_error=False)
    def _check(self, path: Path, cancel: threading.Event) -> checking.CheckResult:
        return checking.check(self.exercise, path, cancel=cancel)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "exercise-check" or event.state not in (WorkerState.SUCCESS, WorkerState.ERROR):
            return
        self._checking = False
        if event.state == WorkerState.ERROR:
            self._result(f"✗ The check could not run: {escape(str(event.worker.error))}", "-failed")
            return
        result = event.worker.result
        if self._cancel.is_set() or not isinstance(result, checking.CheckResult):
            return  # the view is going away: nothing to show, and a cancelled check says nothing about the code
        record_check(self.progress, self.exercise, result.passed)
        text = result_text(result)
        if result.passed and len(self.exercises) > 1:
            text += " [b]ctrl+n[/]: the next exercise."
        self._result(text, "-passed" if result.passed else "-failed")
        self.post_message(self.Changed(self.exercise))

    def _show_state(self) -> None:
        state = self.progress.exercise_status(self.exercise.id)
        self._result(STATUS_LINES.get(state, STATUS_LINES[NOT_STARTED]), "-passed" if state == PASSED else "")

    def _result(self, markup: str, kind: str) -> None:
        line = self.query_one("#exercise-result", Static)
        line.update(markup)
        line.set_classes(kind)
        self._shown = markup

    def add_to_result(self, markup: str) -> None:
        """Say more under the check's result (the lesson it completes), where the learner is looking."""
        self.query_one("#exercise-result", Static).update(f"{self._shown}\n{markup}")

    # Hints and the solution

    async def action_hint(self) -> None:
        hints = self.exercise.hints
        if self.progress.hints_shown(self.exercise.id) >= len(hints):
            self.notify(f"That was the last hint ({len(hints)} of {len(hints)}); ctrl+l shows the solution.")
            await self._show_hints(len(hints))
            return
        await self._show_hints(self.progress.show_hint(self.exercise.id, len(hints)))

    async def _show_hints(self, count: int) -> None:
        """Show hints 1 to ``count`` under the task and scroll the last one into view."""
        hints = self.exercise.hints
        count = min(count, len(hints))
        box = self.query_one("#exercise-hints", Vertical)
        new = [Markdown(f"**Hint {number} of {len(hints)}:** {hints[number - 1]}", classes="exercise-hint")
               for number in range(self._hints_mounted + 1, count + 1)]
        if new:
            await box.mount_all(new)
        self._hints_mounted = max(self._hints_mounted, count)
        if box.children:
            self._bring_into_view(box.children[-1])

    def action_solution(self) -> None:
        if self._solution_seen:
            self._reveal_solution(True)
            return
        self.app.push_screen(ConfirmScreen(
            "Show the reference solution?\n\nIt helps most after you have tried: ctrl+g gives a hint first.",
            yes="Show it"), self._reveal_solution)

    def _reveal_solution(self, yes: bool | None) -> None:
        if not yes:
            return
        self._solution_seen = True
        self.app.push_screen(SolutionScreen(self.exercise.title, self.exercise.solution(), LANGUAGE,
                                            EDITOR_THEMES[self.app.current_theme.dark]))

    def _bring_into_view(self, widget: Widget) -> None:
        task = self.query_one("#exercise-task", VerticalScroll)
        self.call_after_refresh(task.scroll_to_widget, widget, animate=False, top=True)

    # Moving

    def action_next_exercise(self) -> None:
        following = (self.index + 1) % len(self.exercises)
        self._sync()
        try:
            screen = ExerciseScreen(self.exercises, following, self.progress, self.directory)
        except MnistkitError as err:
            self.notify(str(err), severity="error")
            return
        self.app.switch_screen(screen)

    def action_leave(self) -> None:
        self._sync()
        self.app.pop_screen()

    def _follow_theme(self, theme: Theme) -> None:
        self._editor.theme = EDITOR_THEMES[theme.dark]
