"""The command line's conveniences: shell completion, ``--version``, ``--json`` listings, the compilation cache's folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mnistkit import environment
from mnistkit.cli import main

COMMANDS = ("run", "data", "plugins", "plugin", "predict", "evaluate", "tui", "lessons", "lesson", "board", "completion")


@pytest.mark.parametrize("shell", ["bash", "zsh", "tcsh"])
def test_completion_prints_a_script_naming_every_command(shell, capsys):
    assert main(["completion", shell]) == 0
    script = capsys.readouterr().out
    assert "mnistkit" in script
    for name in COMMANDS:
        assert name in script, f"the {shell} script does not complete {name!r}"
    if shell != "tcsh":  # shtab's tcsh script completes commands only
        assert "--learning-rate" in script and "--json" in script


def test_the_bash_completion_script_registers_itself_when_sourced(tmp_path):
    script = tmp_path / "mnistkit.bash"
    script.write_text(subprocess.run([sys.executable, "-m", "mnistkit", "completion", "bash"], capture_output=True,
                                     text=True, check=True).stdout)
    done = subprocess.run(["bash", "-c", f"source {script} && complete -p mnistkit"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "mnistkit" in done.stdout


def test_completion_for_an_unknown_shell_is_one_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["completion", "cmd.exe"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "invalid choice: 'cmd.exe'" in err[0]


def test_version_names_each_package_and_python_without_importing_jax():
    code = ("import sys\nfrom mnistkit.cli import main\ntry:\n    main(['--version'])\nexcept SystemExit as done:\n"
            "    code = done.code\nprint('heavy:', [m for m in ('jax', 'jaxlib', 'flax', 'optax') if m in sys.modules], code)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out[-1] == "heavy: [] 0"
    names = [line.split(" ", 1)[0] for line in out[:-1]]
    assert names == ["mnistkit", "jax", "jaxlib", "flax", "optax", "Python"]
    assert out[0].startswith("mnistkit 0.") and out[-2] == f"Python {'.'.join(map(str, sys.version_info[:3]))}"


def test_version_says_not_installed_for_a_missing_package(monkeypatch, capsys):
    from importlib import metadata

    real = metadata.version

    def without_optax(name):
        if name == "optax":
            raise metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(metadata, "version", without_optax)
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out.splitlines()
    assert "optax not installed" in out and out[1] == f"jax {real('jax')}"


def test_lessons_json_lists_every_lesson_with_its_progress(capsys):
    from mnistkit.curriculum.progress import ProgressStore

    ProgressStore().mark("stack", "done")
    ProgressStore().mark_exercise("stack-update", "passed")  # a lesson with an exercise is done once it passes
    ProgressStore().mark("data", "current")
    assert main(["lessons", "--json"]) == 0
    lessons = json.loads(capsys.readouterr().out)
    by_id = {lesson["id"]: lesson for lesson in lessons}
    assert {"id", "title", "order", "minutes", "status", "source", "plugin"} <= set(lessons[0])
    assert lessons[0]["id"] == "stack" and lessons[0]["source"] == "curriculum" and lessons[0]["plugin"] is None
    assert by_id["stack"]["status"] == "done" and by_id["data"]["status"] == "current"
    assert by_id["stack"]["exercises"] == [{"id": "stack-update", "status": "passed"}]
    assert {lesson["status"] for lesson in lessons} <= {"done", "current", "not started"}
    plugin_lessons = [lesson for lesson in lessons if lesson["source"] == "plugin"]
    assert plugin_lessons and all(lesson["plugin"] for lesson in plugin_lessons)
    assert lessons.index(plugin_lessons[0]) > max(i for i, lesson in enumerate(lessons) if lesson["source"] == "curriculum")


def test_lessons_without_json_still_prints_the_tables(capsys):
    assert main(["lessons"]) == 0
    assert "The curriculum" in capsys.readouterr().out


def test_data_status_json_describes_each_source(capsys, data_isolated_env, data_make_idx_dir):
    assert main(["data", "status", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["source"] for row in rows] == ["idx", "mnist", "sample"]
    sample = rows[2]
    assert sample["available"] and sample["auto"] and (sample["train"], sample["test"]) == (6000, 1000)
    assert not rows[0]["available"] and rows[0]["where"] is None


def test_data_status_json_follows_the_data_dir_variable(capsys, data_isolated_env, data_make_idx_dir, monkeypatch):
    monkeypatch.setenv("MNISTKIT_DATA_DIR", str(data_make_idx_dir(n_train=30, n_test=10)))
    assert main(["data", "status", "--json"]) == 0
    idx_row = json.loads(capsys.readouterr().out)[0]
    assert idx_row["available"] and idx_row["auto"] and (idx_row["train"], idx_row["test"]) == (30, 10)


def test_data_status_without_json_is_unchanged(capsys, data_isolated_env):
    assert main(["data", "status"]) == 0
    out = capsys.readouterr().out
    assert "sample: available  (used by --data auto)" in out and "images: 6,000 train, 1,000 test" in out


def test_the_cache_folder_is_the_user_cache_folder_not_the_data_folder(monkeypatch):
    import platformdirs

    monkeypatch.delenv("MNISTKIT_HOME")
    assert environment.cache_dir() == Path(platformdirs.user_cache_dir("mnistkit"))
    assert environment.cache_dir() != environment.home_dir()


def test_mnistkit_home_still_moves_the_cache_folder(monkeypatch, tmp_path):
    from mnistkit.engine.cache import compilation_cache_dir

    monkeypatch.setenv("MNISTKIT_HOME", str(tmp_path / "home"))
    assert compilation_cache_dir() == tmp_path / "home" / "cache" / "jax"


@pytest.mark.parametrize(("variables", "expected"), [
    ({}, "{cache}/jax"),
    ({"JAX_COMPILATION_CACHE_DIR": "{tmp}/given"}, "{tmp}/given"),
    ({"MNISTKIT_JAX_CACHE": "0"}, "None"),
])
def test_the_compilation_cache_goes_to_the_cache_folder_unless_told_otherwise(variables, expected, tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("JAX_COMPILATION_CACHE_DIR", "MNISTKIT_JAX_CACHE")}
    env.update({key: value.format(tmp=tmp_path) for key, value in variables.items()}, MNISTKIT_HOME=str(tmp_path / "home"))
    code = ("import jax; from mnistkit.engine.cache import enable_compilation_cache; enable_compilation_cache(); "
            "print(jax.config.jax_compilation_cache_dir)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.strip() == expected.format(tmp=tmp_path, cache=tmp_path / "home" / "cache")


def test_the_command_flushes_runs_the_exit_handlers_and_keeps_the_exit_code(tmp_path):
    """`mnistkit` ends its process at once after main (no interpreter teardown), but nothing is lost on the way."""
    code = ("import atexit, sys\n"
            "atexit.register(lambda: print('exit handler ran', flush=True))\n"
            "sys.argv = ['mnistkit', *sys.argv[1:]]\n"
            "from mnistkit.cli import command\n"
            "print('before', end='')  # unflushed on purpose\n"
            "command()\n"
            "print('never reached')\n")
    ok = subprocess.run([sys.executable, "-c", code, "lessons", "--json"], capture_output=True, text=True, cwd=tmp_path,
                        timeout=120)
    assert ok.returncode == 0 and ok.stdout.startswith("before[")
    assert ok.stdout.rstrip().endswith("exit handler ran") and "never reached" not in ok.stdout
    bad = subprocess.run([sys.executable, "-c", code, "lesson", "show", "quantum"], capture_output=True, text=True,
                         cwd=tmp_path, timeout=120)
    assert bad.returncode == 2 and "no lesson 'quantum'" in bad.stderr and "exit handler ran" in bad.stdout
