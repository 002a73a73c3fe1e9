"""The sidebar: the curriculum in order with progress marks, then plugin lessons by plugin."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Tree

from mnistkit.curriculum.loader import Curriculum
from mnistkit.curriculum.progress import CURRENT, DONE, NOT_STARTED, Progress

MARKS = {DONE: ("✓", "green"), CURRENT: ("▶", "bold"), NOT_STARTED: ("·", "dim")}


class LessonTree(Tree[str]):
    """One leaf per lesson, its data the lesson id; selecting a leaf opens the lesson."""

    def __init__(self, *, id: str | None = None):
        super().__init__("Lessons", id=id)
        self.show_root = False
        self.guide_depth = 2
        self._titles: dict[str, str] = {}

    def show(self, curriculum: Curriculum, progress: Progress, current: str | None) -> None:
        """Rebuild the tree and put the cursor on ``current``."""
        self.clear()
        self._titles = {lesson.id: f"{number}. {lesson.title}" for number, lesson in enumerate(curriculum.core, 1)}
        core = self.root.add("Curriculum", expand=True)
        for lesson in curriculum.core:
            core.add_leaf(self._label(self._titles[lesson.id], progress.status(lesson.id)), data=lesson.id)
        if not curriculum.core:
            core.add_leaf(Text("no lessons found", style="dim"))
        if curriculum.by_plugin:
            plugins = self.root.add("Plugin lessons", expand=True)
            for plugin in curriculum.by_plugin:
                group = plugins.add(plugin, expand=True)
                for lesson in curriculum.by_plugin[plugin]:
                    self._titles[lesson.id] = lesson.title
                    group.add_leaf(self._label(lesson.title, progress.status(lesson.id)), data=lesson.id)
        self.select_lesson(current)

    def mark(self, lesson_id: str, status: str) -> None:
        """Redraw one lesson's label with a new status."""
        for node in self._leaves():
            if node.data == lesson_id:
                node.set_label(self._label(self._titles[lesson_id], status))

    def select_lesson(self, lesson_id: str | None) -> None:
        for node in self._leaves():
            if node.data == lesson_id:
                # A new node's line is known only after the tree lays itself out again.
                self.call_after_refresh(self.move_cursor, node)
                return

    def _leaves(self):
        stack = list(self.root.children)
        while stack:
            node = stack.pop(0)
            if node.children:
                stack[:0] = list(node.children)
            else:
                yield node

    @staticmethod
    def _label(title: str, status: str) -> Text:
        mark, style = MARKS.get(status, MARKS[NOT_STARTED])
        return Text.assemble((mark, style), " ", (title, "bold" if status == CURRENT else ""))
