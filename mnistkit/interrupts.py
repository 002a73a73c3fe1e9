"""Ctrl-C and SIGTERM during training: stop cleanly first, at once the second time."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable


class StopRequest:
    """While active, the first SIGINT or SIGTERM only sets ``requested``.

    The training loop polls ``requested()`` between steps, saves and stops.
    A second signal raises ``KeyboardInterrupt`` at once. Outside the main
    thread (e.g. a TUI worker) signals are left alone and ``request()`` is the
    way to stop.
    """

    def __init__(self, on_first: Callable[[], None] = lambda: None):
        self._event = threading.Event()
        self._on_first = on_first
        self._previous: dict[int, object] = {}

    def requested(self) -> bool:
        return self._event.is_set()

    def request(self) -> None:
        self._event.set()

    def _handle(self, signum, frame) -> None:
        if self._event.is_set():
            raise KeyboardInterrupt
        self._event.set()
        self._on_first()

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()
