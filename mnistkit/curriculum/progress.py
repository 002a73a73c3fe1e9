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


class ProgressStore:
    """Per-user lesson progress (platformdirs user data dir, or MNISTKIT_HOME).

    One JSON file, ``progress.json`` in mnistkit's home, shared by the CLI
    and the TUI: each call reads it afresh and each change replaces it whole
    (written beside it, then renamed), so two programs never see half a file.
    A lesson is "done" once marked so; the last lesson shown or run is
    "current" unless done; every other lesson is "not started". An unreadable
    file counts as no progress and is replaced on the next change.
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
            return {"done": [], "last": None}
        if not isinstance(data, dict):
            return {"done": [], "last": None}
        done = data.get("done")
        last = data.get("last")
        return {
            "done": [x for x in done if isinstance(x, str)] if isinstance(done, list) else [],
            "last": last if isinstance(last, str) else None,
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
        self._write({"done": done, "last": last})

    def last_lesson(self) -> str | None:
        return self._read()["last"]

    def reset_all(self) -> None:
        """Forget all progress."""
        self._write({"done": [], "last": None})


class Progress:
    """The user's progress, stored by ``ProgressStore`` (shared with ``mnistkit lessons``).

    A store that cannot be read or written (a read-only home, say) must not
    stop the app: the failure is remembered in ``problem`` and the progress
    of this session is kept in memory.
    """

    def __init__(self, store: ProgressStore | None = None) -> None:
        self.problem: str | None = None
        self._memory: dict[str, str] = {}
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
