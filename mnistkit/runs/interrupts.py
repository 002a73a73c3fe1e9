"""Ctrl-C and SIGTERM during training: stop cleanly first, at once the second time."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, Self


class StopRequest:
    """While active, the first SIGINT or SIGTERM only sets ``requested``.

    The training loop polls ``requested()`` between steps, saves and stops.
    A second signal raises ``KeyboardInterrupt``, or, with ``exit_at_once``
    (the ``mnistkit`` command itself), calls ``on_second`` (say what is kept)
    and ends the process with exit code 130: a ``KeyboardInterrupt`` could
    land inside a library's callback and print a traceback. Nothing is
    corrupted either way, because every file mnistkit writes (checkpoints,
    metrics, pictures) is written to a temporary name and renamed into place.
    Outside the main thread (e.g. a TUI worker) signals are left alone and
    ``request()`` is the way to stop.
    """

    def __init__(self, on_first: Callable[[], None] = lambda: None, on_second: Callable[[], None] = lambda: None,
                 *, exit_at_once: bool = False):
        self._event = threading.Event()
        self._on_first = on_first
        self._on_second = on_second
        self._exit_at_once = exit_at_once
        self._previous: dict[int, Callable[[int, FrameType | None], Any] | int | signal.Handlers | None] = {}

    def requested(self) -> bool:
        return self._event.is_set()

    def request(self) -> None:
        self._event.set()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._event.is_set():
            if not self._exit_at_once:
                raise KeyboardInterrupt
            try:
                self._on_second()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(130)
        self._event.set()
        self._on_first()

    def __enter__(self) -> Self:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        # Once a stop was requested the command is on its way out (saving,
        # printing how to resume): a further signal must still end it at once
        # rather than land as a KeyboardInterrupt in whatever runs then.
        if not (self._exit_at_once and self._event.is_set()):
            for sig, handler in self._previous.items():
                signal.signal(sig, handler)
        self._previous.clear()
