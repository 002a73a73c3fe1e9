"""Exercises: the format, the checker process (isolation, time limit), progress, and a proof of every exercise."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from mnistkit.curriculum import checking, workspace
from mnistkit.curriculum.exercises import parse_exercise
from mnistkit.curriculum.loader import load
from mnistkit.curriculum.progress import ATTEMPTED, DONE, NOT_STARTED, PASSED, ProgressStore
from mnistkit.errors import ConfigError
from mnistkit.host.loading import load_registry

CLASSIC_MISTAKES = {
    # the original tutorial's slips, each caught with a message that names it
    ("train-step-jit", "second-forward"): "second forward pass",
    ("train-step-jit", "global-model"): "reads a global",
    ("predict-pred-step", "global-model"): "reads a global",
    ("pipeline-test", "drop-remainder"): "drops",
    ("pipeline-epochs", "repeat-then-shuffle"): "shuffle before repeat",
}


@pytest.fixture(scope="module")
def curriculum():
    return load(load_registry())


def make_exercise(root: Path, check: str, *, name: str = "toy", timeout: float = 60, hints: int = 2) -> Path:
    """A small exercise folder with ``check`` as its check.py (no TensorFlow: quick to check)."""
    folder = root / name
    (folder / "mistakes").mkdir(parents=True)
    listed = "\n".join(f"{n}. hint number {n}" for n in range(1, hints + 1))
    (folder / "exercise.md").write_text(textwrap.dedent(f"""\
        ---
        id: {name}
        lesson: stack
        title: Double it
        timeout: {timeout}
        starter_fails_with: "not doubled"
        ---
        Write `double(x)`.

        ## Hints
        """) + listed + "\n", encoding="utf-8")
    (folder / "starter.py").write_text("def double(x):\n    return x  # TODO\n", encoding="utf-8")
    (folder / "solution.py").write_text("def double(x):\n    return 2 * x\n", encoding="utf-8")
    (folder / "check.py").write_text(textwrap.dedent(check), encoding="utf-8")
    return folder


DOUBLE_CHECK = """\
    from mnistkit.curriculum.checks import Failed, function

    def check(learner):
        double = function(learner, "double")
        if double(3) != 6 or double(-1) != -2:
            raise Failed("double(3) should be 6: the value is not doubled.")
        return "double doubles."
"""


def test_every_core_lesson_has_an_exercise_and_there_are_at_least_13(curriculum):
    assert len(curriculum.exercises) >= 13
    missing = [lesson.id for lesson in curriculum.core if not curriculum.exercises.for_lesson(lesson.id)]
    assert not missing, f"core lessons without an exercise: {missing}"
    assert not curriculum.problems
    for exercise in curriculum.exercises:
        assert 1 <= len(exercise.hints) <= 3 and exercise.task.strip()
        assert "TODO" in exercise.starter(), f"{exercise.id}: the starter names no TODO"


def test_the_classic_mistakes_have_wrong_solutions_that_name_them(curriculum):
    for (exercise_id, mistake), words in CLASSIC_MISTAKES.items():
        exercise = curriculum.exercises.get(exercise_id)
        assert mistake in exercise.mistakes, f"{exercise_id} has no mistakes/{mistake}.py"
        assert words in exercise.mistakes[mistake].lower()


def test_every_exercise_is_proven(curriculum):
    """Each starter fails with its intended message, each solution passes, each mistake fails naming itself."""
    from mnistkit.curriculum.proving import prove

    proofs = prove(curriculum.exercises)
    failing = [proof.describe() for proof in proofs if not proof.holds]
    assert not failing, "\n".join(failing)
    assert {proof.case for proof in proofs} >= {"starter", "solution"}


def test_a_check_reports_pass_and_fail_in_a_few_seconds(tmp_path):
    exercise = parse_exercise(make_exercise(tmp_path, DOUBLE_CHECK))
    started = time.perf_counter()
    starter, solution = checking.check_many([(exercise, exercise.starter_path), (exercise, exercise.solution_path)])
    assert (starter.passed, solution.passed) == (False, True)
    assert starter.message == "double(3) should be 6: the value is not doubled."
    assert solution.message == "double doubles."
    assert time.perf_counter() - started < 60


def test_learner_code_that_raises_or_goes_online_fails_with_a_clear_message(tmp_path):
    exercise = parse_exercise(make_exercise(tmp_path, DOUBLE_CHECK))
    cases = {
        "def double(x):\n    return 1 / 0\n": "your code raised ZeroDivisionError: division by zero (line 2: `return 1 / 0`)",
        "def double(x) return x\n": "line 1: Python cannot read your file",
        "import socket\ndef double(x):\n    socket.create_connection(('example.org', 80))\n": "tried to use the network",
        "def double(x):\n    raise NotImplementedError('write double')\n": "not written yet at line 2: write double",
        "import sys\nsys.exit(0)\n": "your file fails as it is imported",
    }
    files = []
    for number, code in enumerate(cases):
        files.append(tmp_path / f"learner{number}.py")
        files[-1].write_text(code, encoding="utf-8")
    results = checking.check_many([(exercise, file) for file in files])
    for result, words in zip(results, cases.values(), strict=True):
        assert not result.passed
        assert words in result.message


def test_not_even_a_raw_socket_or_a_child_process_reaches_the_network(tmp_path):
    """The patched sockets stop accidents; on Linux the check also runs with no network to reach at all."""
    probe = "import sys; from mnistkit.curriculum.check_runner import leave_the_network; sys.exit(0 if leave_the_network() else 1)"
    if subprocess.run([sys.executable, "-c", probe], check=False).returncode != 0:
        pytest.skip("this system lets no process make a network namespace of its own")
    exercise = parse_exercise(make_exercise(tmp_path, DOUBLE_CHECK))
    with socket.create_server(("127.0.0.1", 0)) as server:  # something to reach, on this machine
        port = server.getsockname()[1]
        raw = (f"import _socket\nreached = _socket.socket().connect_ex(('127.0.0.1', {port})) == 0\n"
               "def double(x):\n    return 2 * x if not reached else 'online'\n")
        child = (f"import subprocess, sys\ncode = 'import socket; socket.create_connection((\"127.0.0.1\", {port}), 2)'\n"
                 "reached = subprocess.run([sys.executable, '-c', code]).returncode == 0\n"
                 "def double(x):\n    return 2 * x if not reached else 'online'\n")
        files = []
        for name, code in (("raw", raw), ("child", child)):
            files.append(tmp_path / f"{name}.py")
            files[-1].write_text(code, encoding="utf-8")
        results = checking.check_many([(exercise, file) for file in files])
    assert [result.passed for result in results] == [True, True], [result.message for result in results]


@pytest.mark.parametrize(("code", "words"), [
    ("def double(x):\n    while True:\n        pass\n", "was still running after 3 s, the time limit, and was stopped"),
    ("import os\ndef double(x):\n    os._exit(3)\n", "stopped with exit code 3 before it could report"),
])
def test_learner_code_that_hangs_or_ends_the_process_is_stopped_with_a_clear_message(tmp_path, code, words):
    exercise = parse_exercise(make_exercise(tmp_path, DOUBLE_CHECK, timeout=3))
    learner = tmp_path / "toy.py"
    learner.write_text(code, encoding="utf-8")
    started = time.perf_counter()
    result = checking.check(exercise, learner)
    assert not result.passed
    assert words in result.message
    assert time.perf_counter() - started < 45  # a hang is stopped at its limit, not waited out


def test_the_time_limit_comes_from_the_environment_and_bad_values_are_refused(tmp_path, monkeypatch):
    exercise = parse_exercise(make_exercise(tmp_path, DOUBLE_CHECK))
    assert checking.time_limit(exercise) == 60
    monkeypatch.setenv(checking.TIMEOUT_VARIABLE, "5")
    assert checking.time_limit(exercise) == 5
    assert checking.time_limit(exercise, 2.5) == 2.5
    monkeypatch.setenv(checking.TIMEOUT_VARIABLE, "soon")
    with pytest.raises(ConfigError, match="MNISTKIT_CHECK_TIMEOUT='soon'"):
        checking.time_limit(exercise)


def test_a_cancelled_check_stops_its_process_at_once(tmp_path):
    exercise = parse_exercise(make_exercise(tmp_path, DOUBLE_CHECK))
    learner = tmp_path / "toy.py"
    learner.write_text("import time\ndef double(x):\n    time.sleep(300)\n", encoding="utf-8")
    cancel = threading.Event()
    threading.Timer(8, cancel.set).start()
    started = time.perf_counter()
    result = checking.check(exercise, learner, cancel=cancel)
    assert not result.passed and "cancelled" in result.message
    assert time.perf_counter() - started < 30


@pytest.mark.parametrize(("change", "words"), [
    (lambda f: (f / "check.py").unlink(), "check.py is missing"),
    (lambda f: (f / "exercise.md").write_text("---\nid: toy\n---\n", encoding="utf-8"), "needs `lesson:`"),
    (lambda f: (f / "exercise.md").write_text((f / "exercise.md").read_text().replace("## Hints", "## Notes"), encoding="utf-8"),
     "`## Hints`"),
    (lambda f: (f / "exercise.md").write_text((f / "exercise.md").read_text().replace("title:", "mistakes: {nope: x}\ntitle:"),
                                               encoding="utf-8"), "mistakes/nope.py"),
])
def test_a_broken_exercise_folder_is_named_with_what_to_fix(tmp_path, change, words):
    folder = make_exercise(tmp_path, DOUBLE_CHECK)
    change(folder)
    with pytest.raises(ConfigError, match=str(folder).replace(".", r"\.")) as err:
        parse_exercise(folder)
    assert words in str(err.value)


def test_four_hints_are_too_many(tmp_path):
    with pytest.raises(ConfigError, match="one to three numbered hints, not 4"):
        parse_exercise(make_exercise(tmp_path, DOUBLE_CHECK, hints=4))


def test_the_workspace_never_overwrites_edits_unless_reset(tmp_path):
    exercise = parse_exercise(make_exercise(tmp_path, DOUBLE_CHECK))
    path, action = workspace.start(exercise, tmp_path / "work")
    assert action == workspace.CREATED and path.read_text() == exercise.starter()
    path.write_text("def double(x):\n    return x + x\n")
    assert workspace.start(exercise, tmp_path / "work") == (path, workspace.KEPT)
    assert "x + x" in path.read_text()
    assert workspace.start(exercise, tmp_path / "work", reset=True) == (path, workspace.RESET)
    assert path.read_text() == exercise.starter()
    assert "x + x" in workspace.backup_file(path).read_text()
    workspace.start(exercise, tmp_path / "work", reset=True)  # a second reset must not back up the starter over the edits
    assert "x + x" in workspace.backup_file(path).read_text()


def test_a_lesson_with_an_exercise_is_done_only_when_it_passes(tmp_path, curriculum):
    store = ProgressStore(tmp_path / "progress.json")
    lesson = curriculum.core[2]
    exercises = curriculum.exercises.for_lesson(lesson.id)
    assert exercises
    store.mark(lesson.id, DONE)  # its stage ran
    assert curriculum.status(lesson.id, store) != DONE
    for exercise in exercises[:-1]:
        store.mark_exercise(exercise.id, PASSED)
    store.mark_exercise(exercises[-1].id, ATTEMPTED)
    assert curriculum.status(lesson.id, store) != DONE
    store.mark_exercise(exercises[-1].id, PASSED)
    store.mark_exercise(exercises[-1].id, ATTEMPTED)  # a failed check after a pass does not undo it
    assert curriculum.status(lesson.id, store) == DONE
    store.mark_exercise(exercises[-1].id, NOT_STARTED)  # a reset does
    assert curriculum.status(lesson.id, store) != DONE
    assert store.show_hint(exercises[0].id, 2) == 1 and store.show_hint(exercises[0].id, 2) == 2
    assert store.show_hint(exercises[0].id, 2) == 2
