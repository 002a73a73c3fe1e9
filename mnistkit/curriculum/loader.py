"""The curriculum as every front end sees it: the core lessons, then each plugin's, and the rules over them.

``load(registry)`` is the one loader, used by ``mnistkit lessons``, ``mnistkit
lesson show|run|reset`` and the TUI's sidebar, so they list the same lessons
in the same order. The core curriculum is the lessons folder's lessons whose
ids do not start with ``plugin-``, by ``order``. Plugin lessons are the files
the plugins' specs name (``Registry.lessons_by_plugin``), grouped by plugin;
the lessons folder's own ``plugin-`` lessons that no loaded plugin names come
last, under ``mnistkit``. A lesson that fails to load becomes a line in
``problems`` instead of stopping the program. The exercises of every lesson
(``mnistkit.curriculum.exercises``) come with it, in the same order.

The rules live here too: which lesson is next (``up_next``, ``following``),
where a lesson stands (``position``) and which model and optimizer a plugin's
lesson trains (``config_for``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mnistkit.curriculum.exercises import ExerciseSet, load_exercises
from mnistkit.curriculum.lessons import Lesson, load_lessons, parse_lesson
from mnistkit.curriculum.progress import DONE, PASSED, lesson_status
from mnistkit.errors import ConfigError, MnistkitError, did_you_mean, match_name

KIT_GROUP = "mnistkit"
"""The group of the lessons folder's ``plugin-`` lessons that no loaded plugin names (such as schedules)."""


@dataclass(frozen=True)
class Curriculum:
    """Core lessons and plugin lessons (plugin name to its lessons, in reading order), their exercises, and what failed to load."""

    core: tuple[Lesson, ...] = ()
    by_plugin: dict[str, tuple[Lesson, ...]] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    exercises: ExerciseSet = field(default_factory=ExerciseSet)

    def status(self, lesson_id: str, progress) -> str:
        """The lesson's status in ``progress``: done, for a lesson with exercises, only once they all pass."""
        return lesson_status(progress, lesson_id, [exercise.id for exercise in self.exercises.for_lesson(lesson_id)])

    def waiting(self, lesson_id: str, progress) -> list:
        """The lesson's exercises that have not passed yet in ``progress``, in order (its done-ness waits on them)."""
        return [exercise for exercise in self.exercises.for_lesson(lesson_id) if progress.exercise_status(exercise.id) != PASSED]

    def ordered(self) -> Iterator[Lesson]:
        """Every lesson in reading order: the curriculum, then the plugin groups."""
        yield from self.core
        for lessons in self.by_plugin.values():
            yield from lessons

    def plugin_lessons(self) -> list[Lesson]:
        return [lesson for lessons in self.by_plugin.values() for lesson in lessons]

    def get(self, lesson_id: str | None) -> Lesson | None:
        return next((lesson for lesson in self.ordered() if lesson.id == lesson_id), None)

    def lesson(self, lesson_id: str) -> Lesson:
        """The lesson ``lesson_id`` (case is forgiven); ``ConfigError`` naming close ids, or listing them all."""
        ids = [lesson.id for lesson in self.ordered()]
        found = self.get(match_name(lesson_id, ids))
        if found is not None:
            return found
        hint = did_you_mean(lesson_id, ids) or f"the lessons are: {', '.join(ids)}"
        raise ConfigError(f"no lesson {lesson_id!r}; {hint} (see `mnistkit lessons`)")

    def neighbour(self, lesson_id: str | None, step: int) -> Lesson | None:
        """The lesson ``step`` places after (or before, if negative) ``lesson_id``; the first for an unknown id."""
        order = list(self.ordered())
        ids = [lesson.id for lesson in order]
        if not order:
            return None
        if lesson_id not in ids:
            return order[0]
        index = ids.index(lesson_id) + step
        return order[index] if 0 <= index < len(order) else None

    def following(self, lesson_id: str) -> Lesson | None:
        """The lesson after ``lesson_id`` in reading order, or None after the last."""
        return self.neighbour(lesson_id, 1) if self.get(lesson_id) is not None else None

    def up_next(self, status: Callable[[str], str], last: str | None) -> Lesson | None:
        """The lesson to take next: the last one opened, unless done; else the first core lesson not done."""
        if last is not None and self.get(last) is not None and status(last) != DONE:
            return self.get(last)
        return next((lesson for lesson in self.core if status(lesson.id) != DONE), None)

    def position(self, lesson: Lesson) -> str:
        """Where ``lesson`` stands: ``lesson 3 of 13``, or ``plugin lesson 2 of 12``."""
        group = list(self.core) if lesson in self.core else self.plugin_lessons()
        if lesson not in group:
            return "lesson"
        where = f"lesson {group.index(lesson) + 1} of {len(group)}"
        return where if lesson in self.core else f"plugin {where}"

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

    def config_for(self, config, lesson: Lesson | None, registry, chosen: tuple[str, ...] = ()):
        """``config`` with the model and optimizer that ``lesson`` teaches put in.

        A plugin's lesson about a model (or optimizer) trains that one, unless
        the config already uses one the lesson teaches or the user ``chosen``
        that kind explicitly. A switched model or optimizer starts from its
        own options (and the optimizer from its own learning rate).
        """
        if lesson is None:
            return config
        taught = self.specs_for(registry, lesson)
        changes: dict[str, Any] = {}
        for kind in ("model", "optimizer"):
            names = [name for k, name in taught if k == kind]
            if names and kind not in chosen and getattr(config, kind) not in names:
                changes[kind], changes[f"{kind}_options"] = names[0], {}
        if "optimizer" in changes and "learning_rate" not in chosen:
            changes["learning_rate"] = None
        return dataclasses.replace(config, **changes)


def load(registry) -> Curriculum:
    """The curriculum and the plugins' lessons; anything that fails to load becomes a line in ``problems``."""
    problems: list[str] = []
    everything: list[Lesson] = []
    try:
        everything = load_lessons()
    except MnistkitError as err:
        problems.append(f"the curriculum could not be loaded: {err}")
    core = tuple(lesson for lesson in everything if not lesson.is_plugin_lesson)
    by_plugin = load_plugin_lessons(registry, problems, taken={lesson.id for lesson in core})
    claimed = {Path(lesson.path).resolve() for lessons in by_plugin.values() for lesson in lessons}
    taken = {lesson.id for lessons in by_plugin.values() for lesson in lessons}
    kit = [dataclasses.replace(lesson, plugin=KIT_GROUP) for lesson in everything
           if lesson.is_plugin_lesson and Path(lesson.path).resolve() not in claimed and lesson.id not in taken]
    if kit:
        by_plugin[KIT_GROUP] = kit
    groups = sorted(by_plugin.items(), key=lambda item: (min(lesson.order for lesson in item[1]), item[0]))
    lessons = Curriculum(core, {name: tuple(sorted(lessons, key=_reading_order)) for name, lessons in groups})
    exercises = load_exercises(lessons)
    return dataclasses.replace(lessons, problems=tuple(problems) + exercises.problems, exercises=exercises)


def _reading_order(lesson: Lesson) -> tuple[int, str]:
    return lesson.order, lesson.id


def load_plugin_lessons(registry, problems: list[str] | None = None, taken: Iterable[str] = frozenset()) -> dict[str, list[Lesson]]:
    """Each plugin's paired lessons, keyed by plugin name, each with ``plugin`` set.

    The files are those the registry resolved (``registry.lessons_by_plugin()``).
    A lesson that cannot be read or parsed, or whose id another lesson
    already has (``taken`` and earlier plugins'), raises ``ConfigError``, or,
    when ``problems`` is a list, is reported there and skipped.
    """
    found: dict[str, list[Lesson]] = {}
    seen, added = set(taken), set()
    for owner, paths in registry.lessons_by_plugin().items():
        for path in paths:
            if Path(path).resolve() in added:
                continue  # one file named by two plugins is one lesson, under the first
            try:
                lesson = _read(path)
                if lesson.id in seen:
                    raise ConfigError(f"{path}: lesson id {lesson.id!r} is already used by another lesson; rename it")
            except ConfigError as err:
                message = f"plugin {owner!r}: {err}"
                if problems is None:
                    raise ConfigError(message) from err
                problems.append(message)
                continue
            seen.add(lesson.id)
            added.add(Path(path).resolve())
            found.setdefault(owner, []).append(dataclasses.replace(lesson, plugin=owner))
    return found


def _read(path: Path) -> Lesson:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read the lesson: {err}") from err
    return parse_lesson(text, path)
