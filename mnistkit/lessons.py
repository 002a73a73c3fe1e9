"""Lessons: parse the curriculum's markdown files and track each user's progress.

INTERFACE STUB agreed between the lessons and TUI work; the lessons work
replaces the bodies (keeping these names and fields).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Question:
    """A "check yourself" question with its answer (hidden until asked)."""

    question: str
    answer: str


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    order: int
    stage: str | None  # id of the runnable stage (see mnistkit.stages), or None
    minutes: int
    prerequisites: tuple[str, ...]
    body: str  # markdown without the front matter
    path: Path
    plugin: str | None = None  # set for a plugin's paired lesson
    questions: tuple[Question, ...] = field(default_factory=tuple)


def load_curriculum() -> list[Lesson]:
    """The core lessons, sorted by ``order``."""
    raise NotImplementedError


def load_plugin_lessons(registry) -> dict[str, list[Lesson]]:
    """Each plugin's paired lessons, keyed by plugin name."""
    raise NotImplementedError


def get_lesson(lesson_id: str) -> Lesson:
    """Look a lesson up by id; unknown ids raise ConfigError listing the ids."""
    raise NotImplementedError


class ProgressStore:
    """Per-user lesson progress (platformdirs user data dir, or MNISTKIT_HOME)."""

    def status(self, lesson_id: str) -> str:  # "not started" | "current" | "done"
        raise NotImplementedError

    def mark(self, lesson_id: str, status: str) -> None:
        raise NotImplementedError

    def last_lesson(self) -> str | None:
        raise NotImplementedError
