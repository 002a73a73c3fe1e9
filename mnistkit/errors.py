"""Errors a user can cause.

Each carries a message written for a person: what went wrong and what to do.
The CLI prints it as one line and exits with code 2; the TUI shows it as a
notification. Anything that is not a ``MnistkitError`` is a bug in mnistkit or
in a plugin and keeps its traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

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


def match_name(name: str, known: Iterable[str]) -> str | None:
    """The known name the user meant by ``name``: itself, else the one that differs only in case, else None.

    ``--model CNN`` trains ``cnn``; when case alone cannot tell two known names
    apart (``Net`` and ``net`` both registered), only the exact one matches.
    """
    known = list(known)
    if name in known:
        return name
    folded = [k for k in known if k.casefold() == name.casefold()]
    return folded[0] if len(folded) == 1 else None


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``"did you mean cnn?"`` (or ``"... a or b?"``) for the known names close to ``name``; "" if none is.

    The one suggestion mnistkit makes for a mistyped name of any kind (models,
    optimizers, metrics, recipes, lessons, exercises), from ``difflib``'s
    close matches, ignoring case, best first.
    """
    by_folded: dict[str, str] = {}
    for k in known:
        by_folded.setdefault(k.casefold(), k)
    close = [by_folded[m] for m in difflib.get_close_matches(name.casefold(), list(by_folded), n=3)]
    return f"did you mean {' or '.join(close)}?" if close else ""


def unknown_name(kind: str, name: str, known: Iterable[str], see: str) -> ConfigError:
    """The one line for a ``kind`` name nothing registered: the close names, then all of them, then ``see``.

    ``unknown model 'cnnn'; did you mean cnn? (known models: cnn, mlp; see `mnistkit plugins`)``
    """
    known = sorted(known)
    hint = did_you_mean(name, known)
    return ConfigError(f"unknown {kind} {name!r}{'; ' + hint if hint else ''} "
                       f"(known {kind}s: {', '.join(known) or 'none'}; see {see})")
