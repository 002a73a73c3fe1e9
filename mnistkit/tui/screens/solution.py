"""The reference solution of an exercise, read-only, over the exercise view."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import TextArea


class SolutionScreen(ModalScreen[None]):
    """The solution in a read-only editor (select and ctrl+c copies); Esc or q closes it."""

    BINDINGS = [Binding("escape", "dismiss", "Close"), Binding("q", "dismiss", "Close", show=False)]

    def __init__(self, title: str, solution: str, language: str | None, theme: str):
        super().__init__()
        self.title_text, self.solution = title, solution
        self.language, self.editor_theme = language, theme

    def compose(self) -> ComposeResult:
        with Vertical(id="solution"):
            yield TextArea.code_editor(self.solution, language=self.language, theme=self.editor_theme,
                                       read_only=True, soft_wrap=True, id="solution-code")

    def on_mount(self) -> None:
        box = self.query_one("#solution")
        box.border_title = f"The reference solution: {self.title_text}"
        box.border_subtitle = "Esc closes; ctrl+l opens it again"
        self.query_one("#solution-code").focus()
