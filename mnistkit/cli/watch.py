"""``mnistkit exercise watch``: check the learner's file now and after every save, driven by single keys.

Keys: ``h`` next hint; ``s`` the solution and ``r`` a reset, each after a
``y``; ``n`` the next exercise (after a ``y`` while this one has not passed);
``q`` (or Ctrl-C) quits. It never moves on by itself: after a pass it says
which key goes on. The check runs in a thread (the checker itself is a child
process), so keys answer while it runs, and a new save cancels a check that
is still running and starts another. Keys are read one at a time from a
terminal (cbreak mode, restored on exit) or, for scripts and tests, from a
pipe.
"""

from __future__ import annotations

import os
import select
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from rich.markup import escape

from mnistkit.cli.exercise_view import show_task
from mnistkit.errors import EXIT_INTERRUPTED

if TYPE_CHECKING:
    from rich.console import Console

    from mnistkit.curriculum.checking import CheckResult
    from mnistkit.curriculum.exercises import Exercise, ExerciseSet

POLL_SECONDS = 0.2
KEYS = "[bold]h[/] hint · [bold]s[/] solution · [bold]r[/] reset · [bold]n[/] next exercise · [bold]q[/] quit"


class _Check:
    """One check running in a thread; ``result`` is set when it ends."""

    def __init__(self, exercise: Exercise, path: Path, timeout: float | None):
        from mnistkit.curriculum.checking import check

        self.cancel = threading.Event()
        self.result: CheckResult | None = None
        self.error: Exception | None = None

        def work() -> None:
            try:
                self.result = check(exercise, path, timeout, cancel=self.cancel)
            except Exception as err:  # noqa: BLE001 - shown as a line, the watch goes on
                self.error = err

        self.thread = threading.Thread(target=work, name="mnistkit-check", daemon=True)
        self.thread.start()

    @property
    def done(self) -> bool:
        return not self.thread.is_alive()

    def stop(self) -> None:
        self.cancel.set()
        self.thread.join(timeout=10)


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


@contextmanager
def _keys():
    """A function returning the next key pressed within ``POLL_SECONDS`` (or ""), from a terminal or a pipe."""
    fd = sys.stdin.fileno() if sys.stdin is not None and not sys.stdin.closed else None
    saved = None
    if fd is not None and os.isatty(fd):
        import termios
        import tty

        saved = termios.tcgetattr(fd)
        tty.setcbreak(fd)
    closed = fd is None

    def read() -> str:
        nonlocal closed
        if closed:
            threading.Event().wait(POLL_SECONDS)
            return ""
        ready, _, _ = select.select([fd], [], [], POLL_SECONDS)
        if not ready:
            return ""
        data = os.read(fd, 1)
        if not data:  # the pipe was closed: keep watching, without keys
            closed = True
            return ""
        return data.decode(errors="replace").lower()

    try:
        yield read
    finally:
        if saved is not None:
            import termios

            termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def watch(console: Console, exercises: ExerciseSet, exercise_id: str | None, directory: str | None,
          timeout: float | None) -> int:
    from mnistkit.curriculum.progress import PASSED, ProgressStore

    store = ProgressStore()
    if exercise_id is None:
        exercise = next((e for e in exercises if store.exercise_status(e.id) != PASSED), None)
        if exercise is None:
            console.print("[green]Every exercise has passed.[/] Pick one to do again: `mnistkit exercise watch ID`.")
            return 0
    else:
        exercise = exercises.get(exercise_id)
    code = 0
    try:
        with _keys() as key:
            while exercise is not None:
                exercise = _watch_one(console, exercises, exercise, directory, timeout, store, key)
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    console.print("Stopped watching. Your file and your progress are saved.")
    return code


def _watch_one(console, exercises, exercise, directory, timeout, store, key):
    """Watch one exercise until ``q`` (None) or ``n`` (the next exercise); a check still running is stopped."""
    from mnistkit.curriculum import workspace

    path, action = workspace.start(exercise, directory)
    show_task(console, exercise)
    console.print(("Wrote the starter to " if action == workspace.CREATED else "Your file: ") + str(path),
                  markup=False, soft_wrap=True)
    console.print(f"Edit it in your editor; every save is checked. {KEYS}")
    state = _State(console, exercises, exercise, directory, timeout, store, path)
    try:
        return state.run(key)
    finally:
        if state.check is not None:
            state.check.stop()


class _State:
    """What the watch of one exercise holds: the file's last signature, the running check, a pending question."""

    def __init__(self, console, exercises, exercise, directory, timeout, store, path: Path):
        self.console, self.exercises, self.exercise = console, exercises, exercise
        self.directory, self.timeout, self.store, self.path = directory, timeout, store, path
        self.seen = _signature(path)
        self.check: _Check | None = _start(console, exercise, path, timeout)
        self.asking: str | None = None

    def run(self, key):
        """Poll the check, the file and the keys; return None to quit or the exercise to go on to."""
        while True:
            if self.check is not None and self.check.done:
                _report(self.console, self.exercises, self.exercise, self.check, self.store)
                self.check = None
            now = _signature(self.path)
            if now is None and self.seen is not None:
                self.console.print(f"{escape(str(self.path))} is gone; [bold]r[/] writes the starter again.", soft_wrap=True)
            elif now != self.seen and now is not None:
                self.console.print("[dim]Saved.[/]")
                self.recheck()
            self.seen = now
            pressed = key()
            if not pressed or pressed.isspace():
                continue
            outcome = self.answer(pressed) if self.asking is not None else self.press(pressed)
            if outcome != "stay":
                return outcome

    def recheck(self) -> None:
        """Stop the check under way, if any, and check the file as it is now."""
        self.seen = _signature(self.path)
        if self.check is not None:
            self.check.stop()
        self.check = _start(self.console, self.exercise, self.path, self.timeout)

    def answer(self, pressed: str):
        from mnistkit.curriculum import workspace
        from mnistkit.curriculum.progress import NOT_STARTED

        asking, self.asking = self.asking, None
        if pressed != "y":
            self.console.print("[dim]No; still watching.[/]")
            return "stay"
        if asking == "solution":
            from rich.syntax import Syntax

            self.console.print(Syntax(self.exercise.solution(), "python", theme="ansi_dark", line_numbers=True, word_wrap=True))
        elif asking == "reset":
            self.path, action = workspace.start(self.exercise, self.directory, reset=True)
            self.store.mark_exercise(self.exercise.id, NOT_STARTED)
            kept = "" if action == workspace.CREATED else f"; your version is kept as {workspace.backup_file(self.path)}"
            self.console.print(f"Your file holds the starter again{kept}.", markup=False, soft_wrap=True)
            self.recheck()
        elif asking == "next":
            return self.exercises.following(self.exercise.id)
        return "stay"

    def press(self, pressed: str):
        from mnistkit.curriculum.progress import PASSED

        console, exercise = self.console, self.exercise
        if pressed == "q":
            return None
        if pressed == "h":
            _hint(console, exercise, self.store)
        elif pressed == "s":
            self.asking = "solution"
            tip = "" if self.store.exercise_status(exercise.id) == PASSED else " Trying a little longer teaches more."
            console.print(f"Show the reference solution?{tip} [bold]y[/]/n")
        elif pressed == "r":
            self.asking = "reset"
            console.print("Replace your file with the starter (your version is kept as .bak)? [bold]y[/]/n")
        elif pressed == "n":
            following = self.exercises.following(exercise.id)
            if following is None:
                console.print("This is the last exercise. [bold]q[/] quits.")
            elif self.store.exercise_status(exercise.id) == PASSED:
                return following
            else:
                self.asking = "next"
                console.print(f"{exercise.id} has not passed yet. Go on to {following.id} anyway? [bold]y[/]/n")
        else:
            console.print(f"[dim]Keys: {KEYS}[/]")
        return "stay"


def _start(console, exercise, path, timeout) -> _Check:
    console.print(f"Checking {exercise.id} ...", highlight=False)
    return _Check(exercise, path, timeout)


def _report(console, exercises, exercise, check: _Check, store) -> None:
    from rich.markup import escape

    if check.cancel.is_set():
        return
    if check.error is not None or check.result is None:
        console.print(f"[red]The check could not run: {escape(str(check.error))}[/]", soft_wrap=True)
        return
    from mnistkit.curriculum.progress import record_check

    result = check.result
    record_check(store, exercise, result.passed)
    if result.passed:
        console.print(f"[bold green]✓ Passed:[/] [green]{escape(result.message)}[/]")
        following = exercises.following(exercise.id)
        onward = f"[bold]n[/] goes on to {following.id}; " if following is not None else "That was the last exercise; "
        console.print(f"{onward}[bold]q[/] quits.")
    else:
        console.print(f"[bold red]✗ Not yet:[/] [red]{escape(result.message)}[/]")
        if result.output.strip():
            console.print("[dim]Your code printed (last lines):[/]")
            console.print(result.output, markup=False, highlight=False, soft_wrap=True)
        console.print("[dim]Save to check again; h shows a hint.[/]")


def _hint(console, exercise, store) -> None:
    from rich.markup import escape

    shown = store.hints_shown(exercise.id)
    if shown >= len(exercise.hints):
        console.print("No more hints; [bold]s[/] shows the solution.")
        return
    number = store.show_hint(exercise.id, len(exercise.hints))
    console.print(f"[bold]Hint {number} of {len(exercise.hints)}:[/] {escape(exercise.hints[number - 1])}")
