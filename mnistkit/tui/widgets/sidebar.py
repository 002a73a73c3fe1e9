"""The sidebar: the curriculum in order with progress marks, then plugin lessons by plugin.

Each lesson has its status mark (done, current, not started, as
``Curriculum.status`` says, so a lesson with exercises is done once they
pass); a lesson with exercises has a second mark for them: not started,
attempted, or all passed.
"""

from __future__ import annotations

import re

from rich.text import Text
from textual.widgets import Tree

from mnistkit.curriculum.loader import Curriculum
from mnistkit.curriculum.progress import ATTEMPTED, CURRENT, DONE, NOT_STARTED, PASSED, Progress

MARKS = {DONE: ("✓", "green"), CURRENT: ("▶", "bold"), NOT_STARTED: ("·", "dim")}
EXERCISE_MARKS = {PASSED: ("●", "green"), ATTEMPTED: ("◐", "yellow"), NOT_STARTED: ("○", "dim")}
"""A lesson's exercises: all passed, some checked (or passed) but not all passed, none checked yet."""


def exercises_state(states: list[str]) -> str | None:
    """One mark for a lesson's exercises from each one's status; None for a lesson without exercises."""
    if not states:
        return None
    if all(state == PASSED for state in states):
        return PASSED
    return ATTEMPTED if any(state != NOT_STARTED for state in states) else NOT_STARTED


def plugin_title(title: str) -> str:
    """A plugin lesson's title without its "Model plugin: " (or "Optimizer plugins: ") prefix, which the group above it already says.

    At 80 columns the sidebar shows about 20 characters of a title: with the
    prefix, every model lesson read "Model plugin:" and nothing more.
    """
    short = re.sub(r"^\w+ plugins?: ", "", title)
    return short or title


def lesson_marks(curriculum: Curriculum, progress: Progress, lesson_id: str) -> tuple[str, str | None]:
    """The lesson's status and its exercises' state (``exercises_state``), as the sidebar shows them."""
    states = [progress.exercise_status(exercise.id) for exercise in curriculum.exercises.for_lesson(lesson_id)]
    return curriculum.status(lesson_id, progress), exercises_state(states)


class LessonTree(Tree[str]):
    """One leaf per lesson, its data the lesson id; selecting a leaf opens the lesson."""

    def __init__(self, *, id: str | None = None):
        super().__init__("Lessons", id=id)
        self.show_root = False
        self.guide_depth = 2
        self._titles: dict[str, str] = {}
        self._exercise_column = False

    def show(self, curriculum: Curriculum, progress: Progress, current: str | None) -> None:
        """Rebuild the tree and put the cursor on ``current``."""
        self.clear()
        self._exercise_column = len(curriculum.exercises) > 0
        self._titles = {lesson.id: f"{number}. {lesson.title}" for number, lesson in enumerate(curriculum.core, 1)}
        core = self.root.add("Curriculum", expand=True)
        for lesson in curriculum.core:
            core.add_leaf(self._label(self._titles[lesson.id], *lesson_marks(curriculum, progress, lesson.id)),
                          data=lesson.id)
        if not curriculum.core:
            core.add_leaf(Text("no lessons found", style="dim"))
        if curriculum.by_plugin:
            plugins = self.root.add("Plugin lessons", expand=True)
            for plugin in curriculum.by_plugin:
                group = plugins.add(plugin, expand=True)
                for lesson in curriculum.by_plugin[plugin]:
                    self._titles[lesson.id] = plugin_title(lesson.title)
                    group.add_leaf(self._label(self._titles[lesson.id], *lesson_marks(curriculum, progress, lesson.id)),
                                   data=lesson.id)
        self.select_lesson(current)

    def mark(self, lesson_id: str, status: str, exercises: str | None = None) -> None:
        """Redraw one lesson's label with its status and its exercises' state."""
        for node in self._leaves():
            if node.data == lesson_id:
                node.set_label(self._label(self._titles[lesson_id], status, exercises))

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

    def _label(self, title: str, status: str, exercises: str | None) -> Text:
        mark, style = MARKS.get(status, MARKS[NOT_STARTED])
        label = Text.assemble((mark, style), " ")
        if exercises is not None:
            label.append_text(Text.assemble(EXERCISE_MARKS[exercises], " "))
        elif self._exercise_column:
            label.append("  ")  # the exercise column of the other lessons, so the titles line up
        label.append(title, "bold" if status == CURRENT else "")
        return label
