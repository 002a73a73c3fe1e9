"""The Makefile as the README promises it: `make run` installs mnistkit, `make test` the test tools too.

Read from `make -n` (what make would do, doing nothing) on a virtual environment in a
temporary folder, so nothing is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def planned(target: str, venv: Path) -> list[str]:
    """The commands ``make TARGET`` would run with ``VENV=venv``."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}  # as typed, even under CI's make
    result = subprocess.run(["make", "-n", "--no-print-directory", f"VENV={venv}", target], cwd=ROOT, capture_output=True,
                            text=True, check=True, env=env)
    return result.stdout.splitlines()


def pip_installs(commands: list[str]) -> list[str]:
    return [c for c in commands if "pip install" in c and "--upgrade pip" not in c]


def test_make_run_installs_mnistkit_without_the_test_tools(tmp_path):
    commands = planned("run", tmp_path / "venv")

    (install,) = pip_installs(commands)
    assert "install --quiet -e . " in f"{install} " and "[test]" not in install
    assert commands[-1].endswith("/bin/mnistkit run --model cnn")


def test_make_test_installs_the_test_tools_and_the_example_plugin(tmp_path):
    commands = planned("test", tmp_path / "venv")

    installs = pip_installs(commands)
    assert any("-e '.[test]'" in c for c in installs)
    assert any("examples/mnistkit-plugin-example" in c for c in installs)
    assert commands[-1].endswith("/bin/python -m pytest -n auto --maxprocesses 4 --dist loadfile")


def test_after_make_test_make_run_installs_nothing_more(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    later = time.time() + 60  # newer than every file the stamps depend on
    for path in (venv / "bin/python", venv / ".installed", venv / ".installed-run"):
        path.touch()
        os.utime(path, (later, later))
    assert pip_installs(planned("test", venv)) == []

    assert pip_installs(planned("run", venv)) == []


def test_after_make_run_make_test_still_installs_the_test_tools(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    later = time.time() + 60
    for path in (venv / "bin/python", venv / ".installed-run"):
        path.touch()
        os.utime(path, (later, later))

    assert any("[test]" in c for c in pip_installs(planned("test", venv)))


def test_mnistkit_run_needs_none_of_the_test_tools(tmp_path):
    """What `make run` installs is enough: a short run works with the test extra's packages unimportable."""
    test_tools = ("pytest", "hypothesis", "syrupy", "pytest_textual_snapshot", "importlinter", "mypy", "setuptools", "xdist")
    code = (
        "import sys\n"
        f"for name in {test_tools!r}: sys.modules[name] = None\n"
        "from mnistkit.cli import main\n"
        "sys.exit(main(['run', '--data', 'sample', '--model', 'mlp', '--epochs', '0.05', '--out', 'runs']))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr
    assert "Run saved in" in result.stdout
