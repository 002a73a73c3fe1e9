"""The learner's own editor for an exercise file: ``$EDITOR``, else nano or vi when one is installed.

The exercise view hands the terminal to it (``App.suspend``) and reads the
file back when it exits.
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass

FALLBACKS = ("nano", "vi")
"""Tried in this order when ``$EDITOR`` is unset; nano first, as it shows its own keys."""


@dataclass(frozen=True)
class EditorChoice:
    command: list[str] | None  # the program and its arguments, before the file's path; None when none was found
    note: str  # what to tell the learner ("" when $EDITOR was used as it is)


def choose_editor(environ: Mapping[str, str] | None = None,
                  which: Callable[[str], str | None] = shutil.which) -> EditorChoice:
    """The editor to open a file with: ``$EDITOR`` (split as a shell would, so ``code --wait`` works), else a fallback.

    An unset (or blank) ``$EDITOR`` falls back to the first of ``FALLBACKS``
    on PATH, with a note saying so; with none found, ``command`` is None and
    the note says what to do. A ``$EDITOR`` that cannot be split (an unclosed
    quote) is used as one program name.
    """
    environ = os.environ if environ is None else environ
    setting = environ.get("EDITOR", "").strip()
    if setting:
        try:
            return EditorChoice(shlex.split(setting), "")
        except ValueError:
            return EditorChoice([setting], "")
    for name in FALLBACKS:
        if which(name):
            return EditorChoice([name], f"$EDITOR is not set, so this opened {name}; "
                                        f"set EDITOR (export EDITOR=nano, say) to choose your editor.")
    return EditorChoice(None, "$EDITOR is not set and neither nano nor vi is installed: set EDITOR to your editor's "
                              "command (export EDITOR=..., then start mnistkit tui again), or edit the file here.")
