"""The process an exercise check runs in: ``python -m mnistkit.curriculum.check_runner CASES RESULTS``.

``CASES`` is a JSON file holding a list of ``{"check": PATH, "learner": PATH}``;
each learner file is imported as a module of its own and handed to its
checker's ``check``. ``RESULTS`` receives a list of
``{"passed": bool, "message": str, "seconds": float}``: ``[]`` once JAX and
Flax are imported (the first case's clock starts then), and again after each
case, so a time limit hit in case 3 keeps cases 1 and 2. The network is switched
off first (on Linux, where allowed, a network namespace with no interface
up; everywhere, sockets that refuse to connect), so learner code cannot
reach it. ``mnistkit.curriculum.checking`` starts this process, with a time
limit, and reads the results.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import sys
import time
import traceback
import types
from pathlib import Path
from typing import Any

from mnistkit.curriculum.checks import Failed

NO_NETWORK = "the network is off while an exercise is checked"


def main(argv: list[str]) -> int:
    cases_file, results_file = Path(argv[0]), Path(argv[1])
    switch_off_network()
    cases = json.loads(cases_file.read_text(encoding="utf-8"))
    warm_up()
    results: list[dict[str, Any]] = []
    _write(results_file, results)  # the clock of the first case starts now
    for index, case in enumerate(cases):
        started = time.perf_counter()
        passed, message = run_case(Path(case["check"]), Path(case["learner"]), index)
        results.append({"passed": passed, "message": message, "seconds": round(time.perf_counter() - started, 3)})
        _write(results_file, results)
    return 0


def _write(path: Path, results: list[dict[str, Any]]) -> None:
    """Replace the results file whole, so the process watching it never reads half of it."""
    sys.stdout.flush()
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(results), encoding="utf-8")
    os.replace(partial, path)


def warm_up() -> None:
    """Import what nearly every check uses, so the time limit measures the learner's code, not start-up."""
    import jax  # noqa: F401
    import numpy  # noqa: F401
    from flax import nnx  # noqa: F401


def run_case(check_file: Path, learner_file: Path, index: int = 0) -> tuple[bool, str]:
    """``(passed, message)`` for one learner file: the checker's words, or what the learner's code raised."""
    try:
        checker = _import(check_file, f"_mnistkit_check_{index}")
    except Exception as err:  # noqa: BLE001 - a broken checker is the exercise author's to fix
        return False, f"the exercise's checker cannot be loaded ({type(err).__name__}: {err}); this is a bug in the exercise"
    try:
        learner = _import(learner_file, f"_learner_{index}_{learner_file.stem}")
    except SyntaxError as err:
        return False, f"line {err.lineno}: Python cannot read your file ({err.msg}); fix that line first."
    except Failed as err:
        return False, str(err)
    except BaseException as err:  # noqa: BLE001 - learner code may raise anything, SystemExit included
        return False, "your file fails as it is imported: " + _blame(err, learner_file)
    try:
        message = checker.check(learner)
    except Failed as err:
        return False, str(err)
    except BaseException as err:  # noqa: BLE001
        return False, _blame(err, learner_file)
    return True, str(message or "passed")


def _import(path: Path, name: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _blame(err: BaseException, learner_file: Path) -> str:
    """One or two sentences: what was raised, and at which line of the learner's file."""
    frames = [frame for frame in traceback.extract_tb(err.__traceback__) if Path(frame.filename) == learner_file]
    what = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
    if isinstance(err, NotImplementedError):
        where = f" at line {frames[-1].lineno}" if frames else ""
        return f"not written yet{where}: {err or 'a TODO is left'}. Replace the TODO with your code."
    if isinstance(err, OSError) and NO_NETWORK in str(err):
        return f"your code tried to use the network ({NO_NETWORK}); use the data the exercise hands you."
    if frames:
        return f"your code raised {what} (line {frames[-1].lineno}: `{(frames[-1].line or '').strip()}`)."
    return f"calling your code raised {what}."


def switch_off_network() -> None:
    """Make every socket refuse to connect, resolve or send: learner code runs offline.

    On Linux, where the system allows it, the process first moves into a
    network namespace of its own, where no interface is up, so not even a raw
    ``_socket`` or a child process gets out (Unix sockets on the filesystem are
    not part of it); where namespaces are refused (some containers, AppArmor's
    restriction on Ubuntu), the patched sockets still stop every ordinary use.
    """
    leave_the_network()

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise OSError(NO_NETWORK)

    for name in ("connect", "connect_ex", "sendto"):
        setattr(socket.socket, name, refuse)
    socket.create_connection = refuse
    socket.getaddrinfo = refuse


def leave_the_network() -> bool:
    """Move this (still single-threaded) process into a new, empty network namespace; False where Linux refuses."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    clone_newuser, clone_newnet = 0x10000000, 0x40000000
    try:
        unshare = ctypes.CDLL(None).unshare
    except (OSError, AttributeError):
        return False
    if os.geteuid() == 0 and unshare(clone_newnet) == 0:
        return True
    uid, gid = os.geteuid(), os.getegid()
    if unshare(clone_newuser | clone_newnet) != 0:  # refused: user namespaces off, a seccomp filter, threads
        return False
    # Keep our own user and group ids inside the new user namespace (files are ours either way; this
    # only keeps getuid() honest). Each write on its own: an older kernel has no setgroups file.
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        try:
            Path("/proc/self", name).write_text(text)
        except OSError:
            pass
    return True


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

