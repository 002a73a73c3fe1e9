"""Check a learner's exercise file in a process of its own, with a time limit.

``check(exercise, path)`` is what ``mnistkit exercise check``, the watch mode
and the TUI call. The learner's code runs in a child process
(``python -m mnistkit.curriculum.check_runner``) with the network off, on the
CPU, and is stopped, with everything it started, at the time limit (the
exercise's ``timeout``, 60 s unless it says otherwise, or
``MNISTKIT_CHECK_TIMEOUT``). A hang, a crash or ``os._exit`` in learner code
becomes a failed ``CheckResult`` with a message, never an exception here.
``check_many`` checks several files in one process (the test suite's proofs of
every exercise).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mnistkit.curriculum.exercises import Exercise
from mnistkit.errors import ConfigError

TIMEOUT_VARIABLE = "MNISTKIT_CHECK_TIMEOUT"
START_ALLOWANCE = 90.0
"""Seconds the checker process may take to start Python and import JAX and Flax, before the first case's clock starts."""


@dataclass(frozen=True)
class CheckResult:
    passed: bool
    message: str  # one or two sentences for the learner
    seconds: float
    timed_out: bool = False
    output: str = ""  # what the learner's code printed (the last lines)


def time_limit(exercise: Exercise, given: float | None = None) -> float:
    """The check's time limit in seconds: ``given``, else ``MNISTKIT_CHECK_TIMEOUT``, else the exercise's own."""
    if given is not None:
        return given
    text = os.environ.get(TIMEOUT_VARIABLE, "").strip()
    if not text:
        return exercise.timeout
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not seconds > 0:
        raise ConfigError(f"{TIMEOUT_VARIABLE}={text!r} is not a number of seconds above 0; unset it or set, say, 60")
    return seconds


def check(exercise: Exercise, path: Path, timeout: float | None = None, cancel: threading.Event | None = None) -> CheckResult:
    """Check the learner's file ``path`` against ``exercise``'s checker.

    ``cancel``, once set (from another thread: the TUI quitting, the watch
    mode seeing a new save), stops the checker process at once; the result
    then says the check was cancelled.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path} does not exist; write it with `mnistkit exercise start {exercise.id}`")
    return check_many([(exercise, path)], timeout=time_limit(exercise, timeout), cancel=cancel)[0]


def check_many(cases: Sequence[tuple[Exercise, Path]], timeout: float | None = None,
               cancel: threading.Event | None = None) -> list[CheckResult]:
    """Check each ``(exercise, file)`` in one child process; ``timeout`` is for each case (default: each exercise's)."""
    limits = [time_limit(exercise, timeout) for exercise, _ in cases]
    with tempfile.TemporaryDirectory(prefix="mnistkit-check-") as scratch:
        cases_file, results_file = Path(scratch) / "cases.json", Path(scratch) / "results.json"
        cases_file.write_text(json.dumps([{"check": str(exercise.check_path.resolve()), "learner": str(Path(file).resolve())}
                                          for exercise, file in cases]), encoding="utf-8")
        started = time.perf_counter()
        output, timed_out, code = _run_child(cases_file, results_file, Path(scratch), limits, cancel or threading.Event())
        elapsed = time.perf_counter() - started
        try:
            done = json.loads(results_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            done = []
    results = [CheckResult(bool(r["passed"]), str(r["message"]), float(r["seconds"]), output=output) for r in done]
    if len(results) < len(cases):
        exercise = cases[len(results)][0]
        if cancel is not None and cancel.is_set():
            message = "the check was cancelled before it finished."
        elif timed_out:
            message = (f"your code was still running after {_seconds(limits[len(results)])}, the time limit, and was "
                       f"stopped. Look for a loop that never ends (or train on less data); --timeout SECONDS or {TIMEOUT_VARIABLE} "
                       f"raises the limit.")
        else:
            message = (f"the check of {exercise.id} stopped with exit code {code} before it could report: your code "
                       f"ended the process (os._exit, sys.exit in a thread, or a crash). The last lines it printed are "
                       f"shown with the result.")
        results.append(CheckResult(False, message, elapsed, timed_out=timed_out, output=output))
        results += [CheckResult(False, "not checked: an earlier file in the same batch stopped the checker.", 0.0)
                    for _ in cases[len(results):]]
    return results


def _run_child(cases_file: Path, results_file: Path, cwd: Path, limits: list[float],
               cancel: threading.Event) -> tuple[str, bool, int]:
    """Run the checker process; stop it (and its children) when a case overruns its limit. ``(output, timed_out, code)``."""
    env = dict(os.environ, JAX_PLATFORMS=os.environ.get("MNISTKIT_CHECK_PLATFORMS", "cpu"), TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONUNBUFFERED="1", PYTHONDONTWRITEBYTECODE="1")
    for proxy in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        env.pop(proxy, None)
    log = cwd / "output.txt"
    with open(log, "wb") as sink:
        child = subprocess.Popen([sys.executable, "-m", "mnistkit.curriculum.check_runner", str(cases_file), str(results_file)],
                                 cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=sink, stderr=subprocess.STDOUT,
                                 start_new_session=True)
        timed_out = False
        case_started, reported = time.monotonic(), -1  # -1: still starting up
        while child.poll() is None:
            now = time.monotonic()
            count = _count(results_file)
            if count is not None and count != reported:
                reported, case_started = count, now
            limit = START_ALLOWANCE if reported < 0 else limits[min(reported, len(limits) - 1)]
            if cancel.is_set():
                _stop(child)
                break
            if now - case_started > limit:
                timed_out = True
                _stop(child)
                break
            time.sleep(0.05)
    output = log.read_text(encoding="utf-8", errors="replace")
    return _last_lines(output), timed_out, child.returncode if child.returncode is not None else -1


def _count(results_file: Path) -> int | None:
    """Cases reported so far: -1 before the checker has started (no file yet), None when unreadable this time."""
    try:
        return len(json.loads(results_file.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return -1
    except (OSError, ValueError):
        return None


def _stop(child: subprocess.Popen) -> None:
    """End the child and every process it started (its session), at once."""
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        child.kill()
    child.wait()


_NATIVE_NOISE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog|[IWE]\d{4} \d\d:\d\d:\d\d|"
                           r"To enable the following instructions|oneDNN custom operations)")
"""Lines TensorFlow's and XLA's native loggers print at start-up: not the learner's output."""


def _last_lines(text: str, lines: int = 12) -> str:
    """The last lines the learner's code printed, without the native libraries' start-up noise."""
    kept = [line for line in text.rstrip().splitlines() if not _NATIVE_NOISE.match(line)]
    return "\n".join(kept[-lines:])


def _seconds(value: float) -> str:
    return f"{value:g} s"
