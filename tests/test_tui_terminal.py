"""``mnistkit tui`` and the terminal: none is one line and exit 2; SIGTERM and SIGHUP give it back as it was."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time

import pytest

ALT_SCREEN_ON, ALT_SCREEN_OFF = b"\x1b[?1049h", b"\x1b[?1049l"


@pytest.fixture
def env(tmp_path):
    return dict(os.environ, TERM="xterm-256color", MNISTKIT_HOME=str(tmp_path / "home"), MNISTKIT_OFFLINE="1")


@pytest.mark.parametrize("stdin", [subprocess.DEVNULL, None])
def test_without_a_terminal_the_tui_says_so_in_one_line_and_exits_2_at_once(stdin, env, tmp_path):
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "mnistkit", "tui"], stdin=stdin or subprocess.PIPE,
                          capture_output=True, env=env, cwd=tmp_path, timeout=60)
    assert done.returncode == 2 and done.stdout == b""
    (line,) = done.stderr.decode().strip().splitlines()
    assert line.startswith("mnistkit: error: mnistkit tui needs a terminal, but its stdin and stdout are not one")
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(("make", "complaint"), [(None, "does not exist or is not a directory"),
                                                 ("empty", "has no train-images-idx3-ubyte.gz")])
def test_a_bad_data_folder_is_one_line_before_the_app_starts(make, complaint, env, tmp_path):
    folder = tmp_path / "data"
    if make:
        folder.mkdir()
    done = subprocess.run([sys.executable, "-m", "mnistkit", "tui", "--data-dir", str(folder)],
                          capture_output=True, env=env, cwd=tmp_path, timeout=60)
    assert done.returncode == 2 and done.stdout == b""
    (line,) = done.stderr.decode().strip().splitlines()
    assert line.startswith(f"mnistkit: error: data directory {folder} (from --data-dir) ") and complaint in line


def read(fd: int, until: bytes | None, seconds: float) -> bytes:
    seen, deadline = b"", time.monotonic() + seconds
    while time.monotonic() < deadline and not (until and until in seen):
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the other end closed: the app has exited
                break
            if not chunk:
                break
            seen += chunk
    return seen


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_ends_the_tui_cleanly_and_gives_the_terminal_back(signum, env, tmp_path):
    import fcntl
    import pty
    import struct
    import termios

    fd, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    app = subprocess.Popen([sys.executable, "-m", "mnistkit", "tui", "--data", "sample"], stdin=terminal,
                           stdout=terminal, stderr=terminal, env=env, cwd=tmp_path, start_new_session=True)
    os.close(terminal)
    try:
        started = read(fd, ALT_SCREEN_ON, 120)
        assert ALT_SCREEN_ON in started, "the app never took the screen"
        # The loading note is erased before the app starts, so it is not left on the terminal after quitting.
        assert b"Loading plugins...\r\x1b[K" in started.split(ALT_SCREEN_ON)[0]
        read(fd, None, 1.0)
        app.send_signal(signum)
        rest = read(fd, None, 30)
        code = app.wait(timeout=30)
    finally:
        app.kill()
        os.close(fd)
    assert ALT_SCREEN_OFF in rest
    assert code == 0
