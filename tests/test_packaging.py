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


def metadata(wheel: zipfile.ZipFile) -> str:
    (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    return wheel.read(name).decode()


def test_wheel_carries_the_license_the_notice_and_py_typed(wheel):
    names = set(wheel.namelist())
    assert "mnistkit/py.typed" in names
    (license_file,) = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
    assert "Apache License" in wheel.read(license_file).decode()
    (notice,) = [n for n in names if n.endswith(".dist-info/licenses/NOTICE")]
    assert "CC BY-SA 3.0" in wheel.read(notice).decode() and "LeCun" in wheel.read(notice).decode()


def test_wheel_metadata_takes_its_version_from_the_package_and_has_classifiers(wheel):
    from mnistkit import __version__

    text = metadata(wheel)
    assert f"\nVersion: {__version__}\n" in text
    assert "License-Expression: Apache-2.0" in text
    for classifier in ("Programming Language :: Python :: 3.11", "Intended Audience :: Education",
                       "Topic :: Scientific/Engineering :: Artificial Intelligence", "Typing :: Typed"):
        assert f"Classifier: {classifier}\n" in text
    assert "Project-URL: Source, " in text
    assert 'Provides-Extra: cuda13' in text and 'Provides-Extra: tpu' in text
    assert "version =" not in (ROOT / "pyproject.toml").read_text().split("[project.optional-dependencies]")[0]


def test_the_build_asks_for_a_setuptools_that_reads_the_license_expression():
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["build-system"]["requires"] == ["setuptools>=77"]
    assert "setuptools>=77" in pyproject["project"]["optional-dependencies"]["test"]


def test_plugin_check_from_an_installed_wheel_runs_quietly_and_only_the_checks(wheel, tmp_path):
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), wheel.filename],
                   check=True, capture_output=True, timeout=300)
    work = tmp_path / "plugin"
    (work / "tests").mkdir(parents=True)
    (work / "tests" / "test_unrelated.py").write_text("def test_unrelated():\n    assert False\n")
    (work / "lesson.md").write_text(
        "---\nid: quiet-lesson\ntitle: Quiet\norder: 993\nminutes: 1\nprerequisites: []\n---\n\n# Quiet\n\n"
        + "This lesson has enough words in its body to count as a body for the contract checks run here. " * 2 + "\n")
    (work / "steady.py").write_text(
        "from mnistkit.hookspecs import hookimpl\nfrom mnistkit.specs import MetricReport, MetricSpec\n\n\n"
        "@hookimpl\ndef register_metrics(register):\n"
        "    register(MetricSpec('steady', 'lesson.md', 'Always a half.', "
        "on_evaluation=lambda outputs: MetricReport({'steady': 0.5})))\n")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(site), "PYTHONDONTWRITEBYTECODE": "1"}
    for command in (["-m", "mnistkit", "plugin", "check", "steady.py"],
                    ["-m", "pytest", "-q", "-p", "no:cacheprovider", "--mnistkit-plugin", "steady.py"]):
        result = subprocess.run([sys.executable, *command], cwd=work, env=env, capture_output=True, text=True, timeout=300)
        output = result.stdout + result.stderr
        assert result.returncode == 0, output
        assert str(site / "mnistkit") in subprocess.run(
            [sys.executable, "-c", "import mnistkit; print(mnistkit.__file__)"], cwd=work, env=env, capture_output=True,
            text=True).stdout
        assert "passed" in output and "PytestAssertRewriteWarning" not in output and "warning" not in output.lower()
        assert "test_unrelated" not in output


def pins(path: Path) -> dict[str, str]:
    lines = [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    assert all("==" in line and " @ " not in line for line in lines), [line for line in lines if "==" not in line]
    return {line.split("==")[0].lower().replace("_", "-"): line.split("==")[1] for line in lines}


def test_the_constraints_pin_every_dependency_and_the_readme_names_the_tested_versions():
    import re
    import tomllib

    pinned = pins(ROOT / "constraints" / "py3.11.txt")
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    requirements = [*pyproject["project"]["dependencies"], *pyproject["project"]["optional-dependencies"]["test"]]
    for requirement in requirements:
        if "sys_platform != 'linux'" in requirement:
            continue  # the non-Linux TensorFlow build
        name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower().replace("_", "-")
        assert name in pinned, f"{name} is a dependency but constraints/py3.11.txt does not pin it"
    readme = (ROOT / "README.md").read_text()
    tested = readme.split("**Tested versions.**")[1].split("\n\n")[0]
    for name, version in re.findall(r"([a-z][a-z-]*) (\d+\.\d+\.\d+)", " ".join(tested.split())):
        assert pinned.get(name) == version, (name, version, pinned.get(name))


def test_wheel_ships_every_exercise_with_its_checker_solution_and_mistakes(wheel):
    """A user who installed with pip (not from a clone) gets the same exercises the suite proves."""
    lessons = ROOT / "lessons"
    shipped = {path.relative_to(lessons).as_posix() for path in (lessons / "exercises").rglob("*")
               if path.is_file() and "__pycache__" not in path.parts}
    names = set(wheel.namelist())
    assert len(shipped) > 13 * 4
    missing = sorted(name for name in shipped if f"mnistkit_lessons/{name}" not in names)
    assert not missing, missing
