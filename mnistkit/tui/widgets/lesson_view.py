"""The lesson pane: a lesson's markdown, what to do with it, and its check-yourself answers folded away."""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Collapsible, Markdown, Static

from mnistkit.curriculum.lessons import Lesson, hide_answers
from mnistkit.curriculum.progress import DONE

FOLDED = "*(answer folded below)*"

WELCOME = """\
# Welcome to mnistkit

Pick a lesson in the sidebar (arrow keys, then Enter), or press **]** for the
next one. Press **t** to choose a model and train it, **?** for every key.
"""


class LessonView(VerticalScroll):
    """Shows one lesson; the check-yourself answers are folded below it until opened."""

    def __init__(self, *, id: str | None = None):
        super().__init__(id=id)
        self.lesson: Lesson | None = None
        self.position = ""
        self.exercises = (0, 0)  # (passed, total) of the lesson's exercises

    def watch_has_focus(self, has_focus: bool) -> None:
        """Restyle this pane alone when it gains or loses the focus, not every block of the lesson in it.

        Textual restyles a widget's whole subtree by default; no style below
        this pane depends on its focus, and restyling a long lesson's blocks
        (a millisecond each) made every switch of tab slow.
        """
        self.app.stylesheet.update_nodes([self], animate=True)

    def compose(self) -> ComposeResult:
        yield Static("", id="lesson-meta")
        yield Markdown(WELCOME, id="lesson-body")
        yield Vertical(id="lesson-answers")

    def show(self, lesson: Lesson, status: str, position: str = "", exercises: tuple[int, int] = (0, 0)) -> None:
        """Show ``lesson``; ``position`` reads like "lesson 3 of 9"; ``exercises`` is (passed, total)."""
        self.lesson, self.position = lesson, position
        self.set_status(status, exercises)
        self.query_one("#lesson-body", Markdown).update(hide_answers(lesson.body, FOLDED))
        answers = self.query_one("#lesson-answers", Vertical)
        answers.remove_children()
        if lesson.questions:
            answers.mount(Static("[b]Answers[/] [dim](Tab to one, Enter to open)[/]", classes="answers-title"))
            answers.mount_all(
                Collapsible(Markdown(q.answer), title=f"Answer {number}", collapsed=True)
                for number, q in enumerate(lesson.questions, 1)
            )
        self.scroll_home(animate=False)

    def set_status(self, status: str, exercises: tuple[int, int] | None = None) -> None:
        """Redraw the line above the lesson: where it sits, how long, what to run, its exercises, done or not.

        ``exercises`` is (passed, total); None keeps the last one given.
        """
        lesson = self.lesson
        if lesson is None:
            return
        if exercises is not None:
            self.exercises = exercises
        passed, total = self.exercises
        parts = [self.position] if self.position else []
        parts.append(f"about {lesson.minutes} min")
        if lesson.plugin:
            parts.append(f"plugin [b]{escape(lesson.plugin)}[/]")
        if lesson.stage:
            parts.append(f"stage [b]{escape(lesson.stage)}[/]: press [b]r[/] to run it")
        if lesson.prerequisites:
            parts.append("after " + ", ".join(escape(p) for p in lesson.prerequisites))
        if total:
            what = "exercise" if total == 1 else f"{total} exercises"
            parts.append(f"{what}: press [b]e[/] ({passed} of {total} passed)")
        if status == DONE:
            parts.append("[green]done ✓[/]")
        else:
            waiting = "done once it passes" if total == 1 else "done once they pass"
            parts.append(f"[dim]{waiting}[/]" if total else "[dim]press d when done[/]")
        self.query_one("#lesson-meta", Static).update("  ·  ".join(parts))
