"""The lesson pane: a lesson's markdown, what to do with it, and its check-yourself answers folded away.

A lesson's page (its markdown and answers) takes Textual a few hundred
milliseconds to build, a widget per block. So the pane keeps the last few
pages built and hidden, and builds the next lesson's page while the learner
reads: ``]`` then only swaps pages.
"""

from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import Collapsible, Markdown, Static

from mnistkit.curriculum.lessons import Lesson, hide_answers
from mnistkit.curriculum.progress import DONE

FOLDED = "*(answer folded below)*"

WELCOME = """\
# Welcome to mnistkit

Pick a lesson in the sidebar (arrow keys, then Enter), or press **]** for the
next one. Press **t** to choose a model and train it, **w** for your first ten
minutes (train, read, change one thing, compare), **?** for every key.
"""


PAGES_KEPT = 3
"""Lesson pages kept built: the one shown, the next one (built ahead) and the last one left, for ``[``."""

AHEAD_DELAY = 0.3
"""Seconds after a lesson is shown before the next one's page is built, so the shown one is drawn first."""


class LessonPage(Vertical):
    """One lesson's markdown with its check-yourself answers folded below it (the welcome text for no lesson).

    Ids are unique within a page; the page shown comes first in the pane, so
    ``#lesson-body`` finds the lesson on screen.
    """

    def __init__(self, lesson: Lesson | None):
        super().__init__(classes="lesson-page")
        self.lesson = lesson

    def compose(self) -> ComposeResult:
        lesson = self.lesson
        yield Markdown(WELCOME if lesson is None else hide_answers(lesson.body, FOLDED), id="lesson-body")
        with Vertical(id="lesson-answers"):
            if lesson is not None and lesson.questions:
                yield Static("[b]Answers[/] [dim](Tab to one, Enter to open)[/]", classes="answers-title")
                for number, question in enumerate(lesson.questions, 1):
                    yield Collapsible(Markdown(question.answer), title=f"Answer {number}", collapsed=True)


class LessonView(VerticalScroll):
    """Shows one lesson; the check-yourself answers are folded below it until opened."""

    def __init__(self, *, id: str | None = None):
        super().__init__(id=id)
        self.lesson: Lesson | None = None
        self.position = ""
        self.exercises = (0, 0)  # (passed, total) of the lesson's exercises
        self._pages: dict[str | None, LessonPage] = {}  # by lesson id, the least recently shown first
        self._ahead: Timer | None = None
        self._ahead_lesson: Lesson | None = None

    def watch_has_focus(self, has_focus: bool) -> None:
        """Restyle this pane alone when it gains or loses the focus, not every block of the lesson in it.

        Textual restyles a widget's whole subtree by default; no style below
        this pane depends on its focus, and restyling a long lesson's blocks
        (a millisecond each) made every switch of tab slow.
        """
        self.app.stylesheet.update_nodes([self], animate=True)

    def compose(self) -> ComposeResult:
        yield Static("", id="lesson-meta")
        self._pages[None] = LessonPage(None)
        yield self._pages[None]

    def show(self, lesson: Lesson, status: str, position: str = "", exercises: tuple[int, int] = (0, 0),
             ahead: Lesson | None = None) -> None:
        """Show ``lesson``; ``position`` reads like "lesson 3 of 9"; ``exercises`` is (passed, total).

        ``ahead``, the lesson likely opened next, has its page built out of
        sight a moment later.
        """
        self.lesson, self.position = lesson, position
        self.set_status(status, exercises)
        page = self._pages.pop(lesson.id, None)
        for other in self._pages.values():
            other.display = False
        if page is None:
            page = LessonPage(lesson)
            self.mount(page, after="#lesson-meta")
        else:
            page.display = True
            self.move_child(page, after=self.query_one("#lesson-meta"))
        self._pages[lesson.id] = page
        self.scroll_home(animate=False)
        self._plan_ahead(ahead)

    async def drop_hidden_pages(self) -> None:
        """Remove the pages out of sight, before a change of theme restyles every block of them.

        The next lesson's page is built again a moment later.
        """
        shown = self._pages.get(self.lesson.id if self.lesson is not None else None)
        hidden = [page for page in self._pages.values() if page is not shown]
        self._pages = {key: page for key, page in self._pages.items() if page is shown}
        await self.remove_children(hidden)
        self._plan_ahead(self._ahead_lesson)

    def _plan_ahead(self, lesson: Lesson | None) -> None:
        if self._ahead is not None:
            self._ahead.stop()
        self._ahead_lesson = lesson
        self._ahead = self.set_timer(AHEAD_DELAY, self._build_ahead)

    def _build_ahead(self) -> None:
        """Build the next lesson's page out of sight, and remove the oldest pages beyond ``PAGES_KEPT`` (this too takes time)."""
        lesson = self._ahead_lesson
        if lesson is not None and lesson.id not in self._pages:
            page = LessonPage(lesson)
            page.display = False
            self._pages[lesson.id] = page  # after the shown one, so older pages go first
            self.mount(page)
        self._drop_old_pages()

    def _drop_old_pages(self) -> None:
        shown = self.lesson.id if self.lesson is not None else None
        while len(self._pages) > PAGES_KEPT:
            oldest = next(lesson_id for lesson_id in self._pages if lesson_id != shown)
            self._pages.pop(oldest).remove()

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
