"""Errors a user can cause.

Each carries a message written for a person: what went wrong and what to do.
The CLI prints it as one line and exits with code 2; the TUI shows it as a
notification. Anything that is not a ``MnistkitError`` is a bug in mnistkit or
in a plugin and keeps its traceback.
"""

from __future__ import annotations

EXIT_FAILED = 1
"""Training ran and failed (a loss that is not finite)."""
EXIT_USAGE = 2
"""A user's mistake: one line on stderr, nothing written."""
EXIT_INTERRUPTED = 130
"""Stopped by Ctrl-C or a signal, what finished kept."""


class MnistkitError(Exception):
    """A problem the user can fix; ``str(err)`` is the whole message."""


class DataError(MnistkitError):
    """Data is missing, unreadable, corrupt or inconsistent."""


class ConfigError(MnistkitError):
    """An option value is out of range or names something that does not exist."""


class PluginError(MnistkitError):
    """A plugin failed to load, registered something invalid, or raised."""


class OutputError(MnistkitError):
    """The output location cannot be created or written."""


class TrainingError(MnistkitError):
    """Training could not go on (a loss that is not finite, say); the message says what was kept."""
