"""Keeping tensorstore's noise off the terminal: the tracebacks its callbacks print after a failed save."""

from __future__ import annotations

import re
import sys
import threading


def without_closed_loop_tracebacks() -> None:
    """Wrap ``sys.stderr`` once in ``WithoutClosedLoopTracebacks`` (called when orbax is first used)."""
    if not isinstance(sys.stderr, WithoutClosedLoopTracebacks):
        sys.stderr = WithoutClosedLoopTracebacks(sys.stderr)


class WithoutClosedLoopTracebacks:
    """``sys.stderr`` minus the "Event loop is closed" tracebacks tensorstore's callbacks print after a failed save.

    When a write fails (a full disk), every array's pending callback tries
    to reach orbax's event loop, which is gone by then, and prints the same
    traceback from its own thread: 22 of them on a 3 MB disk, before
    mnistkit's one line and after it. Installed once, when orbax is first
    used. It drops exactly the lines of that traceback, which may come
    interleaved from several threads; any other text passes through.
    """

    _LINES = re.compile(
        r'(  File ".*asyncio.base_events\.py", line \d+, in (call_soon_threadsafe|_check_closed)'
        r"|    self\._check_closed\(\)|    raise RuntimeError\('Event loop is closed'\)"
        r"|RuntimeError: Event loop is closed)\n"
    )
    _HEADER = "Traceback (most recent call last):\n"

    def __init__(self, stream):
        self.stream = stream
        self.pending = ""
        self.header = False  # a traceback header waits to see whether the next line is one of ours
        self.lock = threading.Lock()

    def write(self, text: str) -> int:
        with self.lock:
            self.pending += text
            while "\n" in self.pending:
                line, self.pending = self.pending.split("\n", 1)
                self._line(line + "\n")
        return len(text)

    def _line(self, line: str) -> None:
        if self._LINES.fullmatch(line):
            self.header = False
            return
        if self.header:
            self.stream.write(self._HEADER)
            self.header = False
        if line == self._HEADER:
            self.header = True
        else:
            self.stream.write(line)

    def flush(self) -> None:
        with self.lock:
            if self.header:
                self.stream.write(self._HEADER)
                self.header = False
            if self.pending:
                self.stream.write(self.pending)
                self.pending = ""
        self.stream.flush()

    def __getattr__(self, name: str):
        return getattr(self.stream, name)
