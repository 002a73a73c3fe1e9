"""The main screen: the lesson sidebar beside two tabs, the lesson and the run."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Protocol, cast

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Horizontal
from textual.geometry import Size
from textual.screen import Screen
from textual.widgets import Header, TabbedContent, TabPane, Tree

from mnistkit.curriculum.lessons import Lesson
from mnistkit.curriculum.progress import PASSED
from mnistkit.tui.widgets.footer import KeyFooter
from mnistkit.tui.widgets.lesson_view import LessonPage, LessonView
from mnistkit.tui.widgets.run_pane import RunPane
from mnistkit.tui.widgets.sidebar import LessonTree, lesson_marks

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from mnistkit.curriculum.loader import Curriculum
    from mnistkit.curriculum.progress import Progress


TAB_TEXT = {"lesson-tab": "#lesson", "run-tab": "#run"}
"""Each tab's scrollable text, which has the focus whenever the tab is shown by a key or an action."""


def breakpoint_classes(size: Size, horizontal: list[tuple[int, str]], vertical: list[tuple[int, str]]) -> dict[str, bool]:
    """Each breakpoint class on or off for a screen of ``size``, as Textual's ``Screen`` chooses them.

    In each direction the class of the largest breakpoint the size reaches is on, the others off.
    """
    reached = set()
    for dimension, breakpoints in ((size.width, horizontal), (size.height, vertical)):
        names = [name for at, name in sorted(breakpoints) if dimension >= at]
        reached.update(names[-1:])
    return {name: name in reached for _, name in (*horizontal, *vertical)}


class _LessonApp(Protocol):
    """What the screen uses of ``MnistkitApp`` (described here, as that module imports this one)."""

    curriculum: Curriculum
    progress: Progress
    lesson_id: str | None

    def resume(self) -> None: ...

    def open_lesson(self, lesson_id: str) -> None: ...


class LessonCommands(Provider):
    """Command-palette entries that open each lesson by title."""

    def _entries(self):
        app = cast(_LessonApp, self.app)  # Textual types it as App[Any]; this provider is only used by MnistkitApp
        for lesson in app.curriculum.ordered():
            where = f"plugin {lesson.plugin}" if lesson.plugin else "curriculum"
            yield f"Open lesson: {lesson.title}", partial(app.open_lesson, lesson.id), f"{where}, about {lesson.minutes} min"

    async def discover(self) -> Hits:
        for title, callback, help_text in self._entries():
            yield DiscoveryHit(title, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, callback, help_text in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)


class MainScreen(Screen):
    """Where a learner spends their time; every key here calls an app action."""

    COMMANDS = {LessonCommands}

    BINDINGS = [
        Binding("q", "app.quit", "Quit"),
        Binding("t", "app.train", "Train"),
        Binding("r", "app.run_stage", "Run stage"),
        Binding("x", "app.cancel_run", "Cancel"),
        Binding("e", "app.exercise", "Exercise"),
        Binding("g", "app.train_again", "Again", show=False),
        Binding("u", "app.resume", "Resume", show=False),
        Binding("c", "app.compare", "Compare", show=False),
        Binding("w", "app.welcome", "First steps", show=False),
        Binding("right_square_bracket", "app.next_lesson", "Next"),
        Binding("left_square_bracket", "app.previous_lesson", "Prev", show=False),
        Binding("d", "app.mark_done", "Done", show=False),
        Binding("s", "app.toggle_sidebar", "Sidebar", show=False),
        Binding("1", "app.show_tab('lesson-tab')", "Lesson", show=False),
        Binding("2", "app.show_tab('run-tab')", "Run", show=False),
        Binding("p", "app.plugins", "Plugins", show=False),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            yield LessonTree(id="sidebar")
            with TabbedContent(id="tabs", initial="lesson-tab"):
                with TabPane(r"[b]\[1][/] Lesson", id="lesson-tab"):  # the key first, so it does not read as "lesson 1"
                    yield LessonView(id="lesson")
                with TabPane(r"[b]\[2][/] Run", id="run-tab"):
                    yield RunPane(id="run")
        yield KeyFooter()

    def on_resize(self, event: events.Resize) -> None:
        """Put on the breakpoint classes (``-narrow``, ``-short``...) for the new size before Textual lays the screen out.

        Textual's ``Screen`` lays itself out for the new size first and then
        changes the classes, restyling every widget: a resize across a
        breakpoint laid the screen out twice, first with the old size's styles
        (a 30-column sidebar at 80 columns), and restyled each block of the
        lessons kept built, long enough to be seen. Here the classes change
        first, and the lesson pages are not restyled, as no style of theirs
        depends on a breakpoint; Textual's own handler then finds the classes
        already right.
        """
        horizontal = self.HORIZONTAL_BREAKPOINTS if self.HORIZONTAL_BREAKPOINTS is not None else self.app.HORIZONTAL_BREAKPOINTS
        vertical = self.VERTICAL_BREAKPOINTS if self.VERTICAL_BREAKPOINTS is not None else self.app.VERTICAL_BREAKPOINTS
        classes = breakpoint_classes(event.size, horizontal or [], vertical or [])
        if all((name in self.classes) == on for name, on in classes.items()):
            return
        self.update_classes(classes, update=False)
        self.app.stylesheet.update_nodes(self._outside_lesson_pages(), animate=False)

    def _outside_lesson_pages(self) -> list[DOMNode]:
        """The screen and every widget on it but the lesson pages and what they hold."""
        nodes: list[DOMNode] = []
        stack: list[DOMNode] = [self]
        while stack:
            node = stack.pop()
            if not isinstance(node, LessonPage):
                nodes.append(node)
                stack.extend(node.children)
        return nodes

    def on_mount(self) -> None:
        app = cast(_LessonApp, self.app)  # Textual types it as App[Any]; this screen is only shown by MnistkitApp
        self.query_one(LessonTree).show(app.curriculum, app.progress, app.lesson_id)
        app.resume()

    @on(Tree.NodeSelected, "#sidebar")
    def _open_selected(self, event: Tree.NodeSelected) -> None:
        if event.node.data is not None:
            cast(_LessonApp, self.app).open_lesson(event.node.data)

    @property
    def running(self) -> bool:
        return self.query_one(RunPane).running

    @property
    def run_pane(self) -> RunPane:
        return self.query_one(RunPane)

    def show_lesson(self, lesson: Lesson, position: str) -> None:
        status, _, passed = self._marks(lesson)
        ahead = cast(_LessonApp, self.app).curriculum.neighbour(lesson.id, +1)
        self.query_one(LessonView).show(lesson, status, position, passed, ahead=ahead)
        self.mark_lesson(lesson)
        self.query_one(LessonTree).select_lesson(lesson.id)
        self.show_tab("lesson-tab")

    def mark_lesson(self, lesson: Lesson) -> None:
        """Redraw the lesson's marks (its status and its exercises') from the app's progress."""
        status, exercises, passed = self._marks(lesson)
        self.query_one(LessonTree).mark(lesson.id, status, exercises)
        view = self.query_one(LessonView)
        if view.lesson == lesson:
            view.set_status(status, passed)

    def _marks(self, lesson: Lesson) -> tuple[str, str | None, tuple[int, int]]:
        """The lesson's status, its exercises' state, and (passed, total) of its exercises."""
        app = cast(_LessonApp, self.app)
        status, exercises = lesson_marks(app.curriculum, app.progress, lesson.id)
        ids = [exercise.id for exercise in app.curriculum.exercises.for_lesson(lesson.id)]
        passed = sum(app.progress.exercise_status(exercise_id) == PASSED for exercise_id in ids)
        return status, exercises, (passed, len(ids))

    async def drop_hidden_lessons(self) -> None:
        """Remove the lesson pages kept out of sight (the next one is built again a moment later)."""
        await self.query_one(LessonView).drop_hidden_pages()

    def show_tab(self, tab: str) -> None:
        """Show a tab and give its scrollable text the focus, so the arrow keys and Page Down scroll it at once."""
        self.query_one(TabbedContent).active = tab
        self.query_one(TAB_TEXT[tab]).focus()

    @property
    def showing_run(self) -> bool:
        """Whether the run tab is the one on screen (its status line then says what a notification would)."""
        return self.query_one(TabbedContent).active == "run-tab"

    def toggle_sidebar(self) -> None:
        sidebar = self.query_one(LessonTree)
        sidebar.display = not sidebar.display
        if sidebar.display:
            sidebar.focus()
        elif self.focused is sidebar:
            self.query_one(TAB_TEXT[self.query_one(TabbedContent).active]).focus()

    def begin_run(self, title: str, stage: bool = False, hint: str = "") -> None:
        self.query_one(RunPane).begin(title, stage, hint)
        self.show_tab("run-tab")

    def handle_run_item(self, item: object) -> None:
        self.query_one(RunPane).handle(item)
