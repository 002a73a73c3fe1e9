"""The help screen (``?``): every key, what it does, and where else to find it."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = (
    ("↑ ↓ PgUp PgDn", "scroll the lesson or the run: the text shown has the focus (the bar on its left)"),
    ("↑ ↓ Enter", "in the sidebar (shift+Tab twice from the text): move and open a lesson"),
    ("] [", "next / previous lesson"),
    ("d", "mark the lesson done (saved, and shared with `mnistkit lessons`)"),
    ("1 2", "show the lesson / the run"),
    ("s", "hide or show the sidebar (more room at 80×24)"),
    ("t", "choose what to train: model, optimizer, metrics, hyper-parameters, data"),
    ("g", "train again with the last settings"),
    ("r", "run this lesson's stage"),
    ("e", "open the lesson's exercise: write the code, mnistkit checks it (keys below)"),
    ("x", "cancel the run (the model keeps what it learnt)"),
    ("u", "resume the run just cancelled, or pick a resumable one from the runs folder"),
    ("c", "compare with an earlier run: its test curve in grey, and a line on what differs"),
    ("w", "your first ten minutes: train, read what happened, change one thing, compare"),
    ("p", "browse plugins, including those that failed to load and why"),
    ("ctrl+t", "switch between the light and dark themes"),
    ("ctrl+p", "command palette: every action, every lesson by title, themes"),
    ("Tab", "move between parts of the screen (shift+Tab goes back); the focused one is marked"),
    ("?", "this screen"),
    ("q", "quit (from the main screen; ctrl+q anywhere)"),
    ("Esc", "close this screen, the plugin browser, the training form or an exercise"),
)

FORM = (
    "In the training form, Tab moves between fields and Enter opens a list. "
    "Enter in a field, ctrl+s or the Train button starts the run; Esc goes back. "
    "A value that cannot work gets a message under the form and nothing starts."
)

EXERCISE_KEYS = (
    ("ctrl+s", "save your file (leaving the exercise saves it too)"),
    ("ctrl+r  c", "save and check it: green when it passes, red with what to fix"),
    ("ctrl+g  h", "the next hint, one at a time"),
    ("ctrl+o  o", "open the file in $EDITOR (else nano or vi); it is read back when you quit"),
    ("ctrl+l  a", "the reference solution, after you say yes"),
    ("ctrl+n  n", "the lesson's next exercise, when it has several"),
    ("R", "reset the file to the starter, after you say yes (yours is kept as .bak)"),
    ("Esc", "leave the editor; Esc again goes back to the lesson"),
)
"""The exercise view's keys; the letters work once the editor is left (Esc), the ctrl keys everywhere."""

EXERCISE = (
    "An exercise is a file of your own (in mnistkit's home, under exercises/), the same one "
    "`mnistkit exercise` checks; a lesson with exercises is done once they pass. In the sidebar, "
    "○ means not started, ◐ checked but not passed yet, ● passed."
)

RUN = (
    "While training, the run tab shows a progress bar with images per second and the time left; "
    "loss and accuracy charts (train during each epoch, test after it); 25 test digits with the "
    "model's guesses (wrong ones in red) after every epoch; what jax.jit costs (compile time "
    "against one step, the backend and devices); and one log line per epoch. "
    "Once shown, the arrow keys and Page Down scroll it."
)


def keys_table(keys=KEYS) -> Table:
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 0))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for key, what in keys:
        table.add_row(key, what)
    return table


class HelpScreen(ModalScreen[None]):
    """A list of keys over the current screen; Esc, q or ? closes it."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("q", "dismiss", "Close", show=False),
        Binding("question_mark", "dismiss", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(Text("Keys", style="bold"))
            yield Static(keys_table())
            yield Static(Text(FORM), classes="help-note")
            yield Static(Text("In an exercise", style="bold"), classes="help-heading")
            yield Static(keys_table(EXERCISE_KEYS))
            yield Static(Text(EXERCISE), classes="help-note")
            yield Static(Text(RUN), classes="help-note")

    def on_mount(self) -> None:
        self.query_one("#help").border_title = "mnistkit keys (Esc closes)"
