"""Each learner's progress through the lessons, shared by the CLI and the TUI.

One list of statuses, one file (``progress.json`` in mnistkit's home), and
``Progress``, which keeps working in memory when that file cannot be read or
written (a read-only home must not stop the TUI).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mnistkit.errors import ConfigError, MnistkitError

NOT_STARTED, CURRENT, DONE = "not started", "current", "done"
STATUSES = (NOT_STARTED, CURRENT, DONE)
ATTEMPTED, PASSED = "attempted", "passed"
EXERCISE_STATUSES = (NOT_STARTED, ATTEMPTED, PASSED)
"""An exercise is not started, attempted (checked, not passed yet) or passed (once passed, it stays passed)."""


class ProgressStore:
    """Per-user lesson progress (platformdirs user data dir, or MNISTKIT_HOME).

    One JSON file, ``progress.json`` in mnistkit's home, shared by the CLI
    and the TUI: each call reads it afresh and each change replaces it whole
    (written beside it, then renamed), so two programs never see half a file.
    A lesson is "done" once marked so; the last lesson shown or run is
    "current" unless done; every other lesson is "not started". Each
    exercise has a status (``EXERCISE_STATUSES``) and the number of hints
    shown. An unreadable file counts as no progress and is replaced on the
    next change.
    """

    def __init__(self, path: Path | None = None):
        if path is None:
            from mnistkit.environment import home_dir

            path = home_dir() / "progress.json"
        self.path = Path(path)

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"done": [], "last": None, "exercises": {}}
        if not isinstance(data, dict):
            return {"done": [], "last": None, "exercises": {}}
        done = data.get("done")
        last = data.get("last")
        exercises = data.get("exercises")
        return {
            "done": [x for x in done if isinstance(x, str)] if isinstance(done, list) else [],
            "last": last if isinstance(last, str) else None,
            "exercises": {k: v for k, v in exercises.items() if isinstance(k, str) and isinstance(v, dict)}
            if isinstance(exercises, dict) else {},
        }

    def _write(self, data: dict[str, Any]) -> None:
        from mnistkit.atomic import write_atomic
        from mnistkit.errors import OutputError

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, (json.dumps({"version": 1, **data}, indent=2) + "\n").encode())
        except OSError as err:
            raise OutputError(f"cannot save lesson progress in {self.path}: {err.strerror or err}") from err

    def status(self, lesson_id: str) -> str:  # "not started" | "current" | "done"
        data = self._read()
        if lesson_id in data["done"]:
            return "done"
        return "current" if data["last"] == lesson_id else "not started"

    def mark(self, lesson_id: str, status: str) -> None:
        if status not in STATUSES:
            raise ConfigError(f"unknown lesson status {status!r}; use one of {', '.join(STATUSES)}")
        data = self._read()
        done = [x for x in data["done"] if x != lesson_id]
        if status == "done":
            done.append(lesson_id)
        if status == "not started":
            last = None if data["last"] == lesson_id else data["last"]
        else:
            last = lesson_id
        self._write({**data, "done": done, "last": last})

    def last_lesson(self) -> str | None:
        return self._read()["last"]

    def exercise_status(self, exercise_id: str) -> str:
        status = self._read()["exercises"].get(exercise_id, {}).get("status")
        return status if status in EXERCISE_STATUSES else NOT_STARTED

    def mark_exercise(self, exercise_id: str, status: str) -> None:
        """Record a check's outcome (or a reset, with NOT_STARTED); a passed exercise stays passed until reset."""
        if status not in EXERCISE_STATUSES:
            raise ConfigError(f"unknown exercise status {status!r}; use one of {', '.join(EXERCISE_STATUSES)}")
        data = self._read()
        entry = dict(data["exercises"].get(exercise_id, {}))
        if status == NOT_STARTED:
            entry = {}
        elif not (status == ATTEMPTED and entry.get("status") == PASSED):
            entry["status"] = status
        self._write({**data, "exercises": {**data["exercises"], exercise_id: entry}})

    def hints_shown(self, exercise_id: str) -> int:
        shown = self._read()["exercises"].get(exercise_id, {}).get("hints", 0)
        return shown if isinstance(shown, int) and shown >= 0 else 0

    def show_hint(self, exercise_id: str, available: int) -> int:
        """Count one more hint shown (at most ``available``); the number of the hint to show, from 1."""
        data = self._read()
        entry = dict(data["exercises"].get(exercise_id, {}))
        shown = min(self.hints_shown(exercise_id) + 1, available)
        entry["hints"] = shown
        self._write({**data, "exercises": {**data["exercises"], exercise_id: entry}})
        return shown

    def reset_all(self) -> None:
        """Forget all progress."""
        self._write({"done": [], "last": None, "exercises": {}})


class Progress:
    """The user's progress, stored by ``ProgressStore`` (shared with ``mnistkit lessons``).

    A store that cannot be read or written (a read-only home, say) must not
    stop the app: the failure is remembered in ``problem`` and the progress
    of this session is kept in memory.
    """

    def __init__(self, store: ProgressStore | None = None) -> None:
        self.problem: str | None = None
        self._memory: dict[str, str] = {}
        self._exercises: dict[str, str] = {}
        self._hints: dict[str, int] = {}
        self._last: str | None = None
        self._store: ProgressStore | None
        try:
            self._store = store if store is not None else ProgressStore()
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

    def exercise_status(self, exercise_id: str) -> str:
        if self._store is not None:
            try:
                return self._store.exercise_status(exercise_id)
            except (MnistkitError, OSError) as err:
                self._fail(err)
        return self._exercises.get(exercise_id, NOT_STARTED)

    def mark_exercise(self, exercise_id: str, status: str) -> None:
        if status == NOT_STARTED or self._exercises.get(exercise_id) != PASSED:
            self._exercises[exercise_id] = status
        if self._store is not None:
            try:
                self._store.mark_exercise(exercise_id, status)
            except (MnistkitError, OSError) as err:
                self._fail(err)

    def hints_shown(self, exercise_id: str) -> int:
        if self._store is not None:
            try:
                return self._store.hints_shown(exercise_id)
            except (MnistkitError, OSError) as err:
                self._fail(err)
        return self._hints.get(exercise_id, 0)

    def show_hint(self, exercise_id: str, available: int) -> int:
        shown = min(self.hints_shown(exercise_id) + 1, available)
        self._hints[exercise_id] = shown
        if self._store is not None:
            try:
                return self._store.show_hint(exercise_id, available)
            except (MnistkitError, OSError) as err:
                self._fail(err)
        return shown


def lesson_status(progress, lesson_id: str, exercise_ids: list[str]) -> str:
    """A lesson's status as people see it: a lesson with exercises is done when every one of them has passed.

    Until then it is "current" once opened, run or attempted. ``progress`` is a
    ``ProgressStore`` or a ``Progress``.
    """
    marked = progress.status(lesson_id)
    if not exercise_ids:
        return marked
    states = [progress.exercise_status(exercise_id) for exercise_id in exercise_ids]
    if all(state == PASSED for state in states):
        return DONE
    return CURRENT if marked != NOT_STARTED or any(state != NOT_STARTED for state in states) else NOT_STARTED


def record_check(progress, exercise, passed: bool) -> None:
    """Save a check's outcome for ``exercise`` (and open its lesson, if it was not started)."""
    progress.mark_exercise(exercise.id, PASSED if passed else ATTEMPTED)
    if progress.status(exercise.lesson) == NOT_STARTED:
        progress.mark(exercise.lesson, CURRENT)
