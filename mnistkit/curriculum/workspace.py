"""The learner's workspace: one file per exercise, started from its starter, never overwritten unasked.

The workspace is ``exercises/`` in mnistkit's home (``MNISTKIT_HOME``, else
the user data folder), or a folder the learner names (``--dir``). The
exercise ``pipeline-scale`` is ``pipeline_scale.py`` there. The CLI, the
watch mode and the TUI all go through ``start`` and ``reset``.
"""

from __future__ import annotations

import os
from pathlib import Path

from mnistkit.curriculum.exercises import Exercise
from mnistkit.errors import ConfigError, OutputError

CREATED, KEPT, RESET = "created", "kept", "reset"


def folder(directory: str | os.PathLike | None = None) -> Path:
    """The workspace folder: ``directory``, else ``exercises`` in mnistkit's home."""
    if directory is not None:
        path = Path(directory).expanduser()
        if path.exists() and not path.is_dir():
            raise ConfigError(f"--dir {directory} is a file, not a folder; name a folder for your exercise files")
        return path
    from mnistkit.environment import home_dir

    return home_dir() / "exercises"


def learner_file(exercise: Exercise, directory: str | os.PathLike | None = None) -> Path:
    return folder(directory) / exercise.file_name


def backup_file(path: Path) -> Path:
    return path.with_name(path.name + ".bak")


def start(exercise: Exercise, directory: str | os.PathLike | None = None, *, reset: bool = False) -> tuple[Path, str]:
    """Make sure the learner's file exists: ``(path, CREATED | KEPT | RESET)``.

    An existing file is kept as it is (it holds the learner's edits) unless
    ``reset``: then it is copied to ``NAME.py.bak`` and replaced by the starter.
    A file that already is the starter is not copied, so a second reset keeps
    the ``.bak`` of the first (the learner's last edits).
    """
    path = learner_file(exercise, directory)
    if path.exists() and not reset:
        return path, KEPT
    action = RESET if path.exists() else CREATED
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        from mnistkit.atomic import write_atomic

        if action == RESET and path.read_bytes() != exercise.starter().encode():
            write_atomic(backup_file(path), path.read_bytes())
        write_atomic(path, exercise.starter().encode())
    except OSError as err:
        raise OutputError(f"cannot write {path}: {err.strerror or err}; choose another folder with --dir") from err
    return path, action
