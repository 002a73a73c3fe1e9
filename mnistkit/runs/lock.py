"""One writer per run folder: ``RunLock`` refuses a second run, resume or TUI run of a folder in use.

The lock is an ``flock`` on the run folder itself, held for as long as the
run trains. The operating system drops it when the process ends, however it
ends (``kill -9`` included), so a lock left behind never blocks a later
resume. Taking it writes nothing: a resume that is refused afterwards leaves
the folder as it was. Once the run starts writing, ``announce`` names the
process in ``RUN_DIR/.lock``, for the message a second user reads.
``mnistkit evaluate`` and ``mnistkit predict`` only read, and take no lock.
Where ``fcntl`` does not exist (Windows), there is no lock.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Self

from mnistkit.errors import ConfigError, OutputError

LOCK_FILE = ".lock"


class RunLock:
    """``acquire`` takes the folder's lock or raises ``ConfigError`` naming its holder; ``release`` lets go."""

    def __init__(self, run_dir: Path):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> Self:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            return self
        try:
            fd = os.open(self.run_dir, os.O_RDONLY)
        except OSError as err:
            raise OutputError(f"cannot open the run folder {self.run_dir}: {err.strerror or err}") from err
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ConfigError(f"run folder {self.run_dir} is in use by {self.holder()}; wait for it to finish, "
                              "or stop it (Ctrl-C) and resume then") from None
        self._fd = fd
        return self

    def announce(self, what: str) -> None:
        """Name this process as the folder's user (``what`` it does), for whoever is refused next."""
        from mnistkit.atomic import write_atomic

        if self._fd is None:
            return
        said = {"pid": os.getpid(), "what": what, "command": " ".join(sys.argv)}
        try:
            write_atomic(self.path, json.dumps(said).encode())
        except OSError as err:
            raise OutputError(f"cannot write in the run folder {self.run_dir}: {err.strerror or err}; a run writes "
                              "its checkpoints there, so make it writable, or copy the run somewhere writable") from err

    def holder(self) -> str:
        """The process that holds the lock, as its file names it (when that process is still alive)."""
        try:
            said = json.loads(self.path.read_text())
            pid = int(said["pid"])
            os.kill(pid, 0)
        except (OSError, ValueError, KeyError, TypeError):
            return "another process"
        return f"process {pid} ({said.get('what', 'a run')})"

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the file drops the flock

    def __enter__(self) -> Self:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
