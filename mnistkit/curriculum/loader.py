"""The lessons the TUI shows, in sidebar order, and the user's progress through them.

A thin adapter over ``mnistkit.curriculum.lessons``: the core curriculum in ``order``,
then each plugin's paired lessons grouped by plugin. A lesson source that
fails becomes a line in ``problems`` (shown as a notification) instead of
stopping the app.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from mnistkit.curriculum import lessons as lessons_module
from mnistkit.errors import MnistkitError
from mnistkit.curriculum.lessons import Lesson

NOT_STARTED, CURRENT, DONE = "not started", "current", "done"


@dataclass(frozen=True)
class Curriculum:
    """Core lessons and plugin lessons, plus what could not be loaded."""

    core: tuple[Lesson, ...] = ()
    by_plugin: dict[str, tuple[Lesson, ...]] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    def ordered(self) -> Iterator[Lesson]:
        """Every lesson in sidebar order: the curriculum, then plugins by name."""
        yield from self.core
        for plugin in sorted(self.by_plugin):
            yield from self.by_plugin[plugin]

    def get(self, lesson_id: str | None) -> Lesson | None:
        return next((lesson for lesson in self.ordered() if lesson.id == lesson_id), None)

    def neighbour(self, lesson_id: str | None, step: int) -> Lesson | None:
        """The lesson ``step`` places after (or before, if negative) ``lesson_id`` in sidebar order."""
        order = list(self.ordered())
        ids = [lesson.id for lesson in order]
        if not order:
            return None
        if lesson_id not in ids:
            return order[0]
        index = ids.index(lesson_id) + step
        return order[index] if 0 <= index < len(order) else None

    def for_spec(self, registry, kind: str, name: str) -> Lesson | None:
        """The lesson a plugin's ``kind`` ``name`` names, matched by its resolved file."""
        path = registry.lessons.get((kind, name))
        if path is None:
            return None
        path = Path(path).resolve()
        return next((lesson for lesson in self.ordered() if Path(lesson.path).resolve() == path), None)

    def specs_for(self, registry, lesson: Lesson) -> list[tuple[str, str]]:
        """The ``(kind, name)`` of every plugin spec that names ``lesson`` as its lesson."""
        path = Path(lesson.path).resolve()
        return [key for key, file in registry.lessons.items() if Path(file).resolve() == path]


def load(registry) -> Curriculum:
    """Load the curriculum and the plugins' lessons; failures become ``problems``."""
    problems: list[str] = []
    core: tuple[Lesson, ...] = ()
    by_plugin: dict[str, tuple[Lesson, ...]] = {}
    try:
        core = tuple(lessons_module.load_curriculum())
    except MnistkitError as err:
        problems.append(f"the curriculum could not be loaded: {err}")
    found = lessons_module.load_plugin_lessons(registry, problems)
    by_plugin = {name: tuple(items) for name, items in found.items() if items}
    return Curriculum(core, by_plugin, tuple(problems))


class Progress:
    """The user's progress, stored by ``mnistkit.curriculum.lessons.ProgressStore`` (shared with ``mnistkit lessons``).

    A store that cannot be read or written (a read-only home, say) must not
    stop the app: the failure is remembered in ``problem`` and the progress
    of this session is kept in memory.
    """

    def __init__(self, store=None):
        self.problem: str | None = None
        self._memory: dict[str, str] = {}
        self._last: str | None = None
        try:
            self._store = store if store is not None else lessons_module.ProgressStore()
        except (MnistkitError, OSError) as err:
            self._store, self.problem = None, f"progress cannot be saved: {err}"

    def status(self, lesson_id: str) -> str:
        if self._store is not None:
            try:
                return self._store.status(lesson_id)
            except (MnistkitError, OSError) as err:
                self._fail(err)
        return self._memory.get(lesson_id, NOT_STARTED)

    def mark(self, lesson_id: str, status: str) -> None:
        self._memory[lesson_id] = status
        self._last = lesson_id
        if self._store is not None:
            try:
                self._store.mark(lesson_id, status)
            except (MnistkitError, OSError) as err:
                self._fail(err)

    def last_lesson(self) -> str | None:
        if self._store is not None:
            try:
                return self._store.last_lesson()
            except (MnistkitError, OSError) as err:
                self._fail(err)
        return self._last

    def _fail(self, err: Exception) -> None:
        self._store, self.problem = None, f"progress cannot be saved: {err}"
