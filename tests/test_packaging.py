"""The wheel a user installs carries the host, the builtin plugins and the lessons."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(out), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    (path,) = out.glob("mnistkit-*.whl")
    return zipfile.ZipFile(path)


def test_wheel_ships_builtin_plugins_under_a_distinct_name(wheel):
    names = wheel.namelist()
    assert "mnistkit_plugins/models.py" in names
    assert not any(name.startswith("plugins/") for name in names)


def test_wheel_ships_lessons_and_the_attributed_sample(wheel):
    names = set(wheel.namelist())
    assert "mnistkit_lessons/cnn.md" in names
    assert {f"mnistkit/sample/{n}" for n in ("train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "README.md")} <= names
    readme = wheel.read("mnistkit/sample/README.md").decode()
    assert "CC BY-SA 3.0" in readme and "LeCun" in readme


def test_wheel_registers_the_command_and_builtin_plugin_entry_points(wheel):
    (entry_points,) = [n for n in wheel.namelist() if n.endswith("entry_points.txt")]
    text = wheel.read(entry_points).decode()
    assert "mnistkit = mnistkit.cli:command" in text
    assert "[mnistkit]" in text and "mnistkit_plugins.models" in text


def test_wheel_ships_the_tui_styles_and_the_contract_checks_pytest_plugin(wheel):
    names = set(wheel.namelist())
    assert "mnistkit/tui/mnistkit.tcss" in names
    assert "mnistkit/testing/__init__.py" in names
    (entry_points,) = [n for n in wheel.namelist() if n.endswith("entry_points.txt")]
    assert "[pytest11]" in wheel.read(entry_points).decode()
