"""``mnistkit exercises`` and ``mnistkit exercise ...``, as a learner meets them (the exact shapes scripts rely on)."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mnistkit.cli import main
from mnistkit.curriculum.loader import load
from mnistkit.host.loading import load_registry

FIRST = "stack-update"


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # whole messages on one line each, to compare them


@pytest.fixture(scope="module")
def exercise():
    return load(load_registry()).exercises.get(FIRST)


def test_exercises_json_lists_every_exercise_with_its_status(capsys):
    assert main(["exercises", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) >= 13
    assert all({"id", "lesson", "status"} <= set(item) for item in listed)
    assert {item["status"] for item in listed} == {"not started"}
    assert FIRST in [item["id"] for item in listed]


def test_start_writes_the_starter_and_prints_its_path_last_and_keeps_edits(tmp_path, capsys, exercise):
    assert main(["exercise", "start", FIRST, "--dir", str(tmp_path)]) == 0
    path = Path(capsys.readouterr().out.strip().splitlines()[-1].split()[-1])
    assert path == tmp_path / "stack_update.py" and path.read_text() == exercise.starter()
    path.write_text("# my edits\n")
    assert main(["exercise", "start", FIRST, "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "keeps your edits" in out and path.read_text() == "# my edits\n"
    assert main(["exercise", "start", FIRST, "--dir", str(tmp_path), "--reset"]) == 0
    out = capsys.readouterr().out
    assert "Replacing your file with the starter" in out and path.read_text() == exercise.starter()
    assert (tmp_path / "stack_update.py.bak").read_text() == "# my edits\n"


def test_check_exits_1_on_the_starter_and_0_on_the_solution_and_the_lesson_follows(tmp_path, capsys, exercise):
    main(["exercise", "start", FIRST, "--dir", str(tmp_path)])
    capsys.readouterr()
    assert main(["exercise", "check", FIRST, "--dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "Not yet" in out and exercise.starter_fails_with in out
    assert main(["exercises", "--json"]) == 0
    status = {item["id"]: item["status"] for item in json.loads(capsys.readouterr().out)}
    assert status[FIRST] == "attempted"
    (tmp_path / "stack_update.py").write_text(exercise.solution())
    assert main(["exercise", "check", FIRST, "--dir", str(tmp_path)]) == 0
    assert "Passed" in capsys.readouterr().out
    assert main(["lessons", "--json"]) == 0
    stack = next(item for item in json.loads(capsys.readouterr().out) if item["id"] == "stack")
    assert stack["exercises"] == [{"id": FIRST, "status": "passed"}]
    assert stack["status"] == "done"  # a lesson with an exercise is done once it passes


@pytest.mark.parametrize("argv", [
    ["exercise", "check", "stack-updat"],
    ["exercise", "hint", "nope"],
    ["exercise", "solution", "nope"],
])
def test_usage_errors_are_one_line_and_exit_2(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no exercise" in err


def test_check_before_start_says_how_to_start(tmp_path, capsys):
    assert main(["exercise", "check", FIRST, "--dir", str(tmp_path)]) == 2
    assert f"mnistkit exercise start {FIRST}" in capsys.readouterr().err


def test_hints_come_one_at_a_time(capsys, exercise):
    for number in range(1, len(exercise.hints) + 1):
        assert main(["exercise", "hint", FIRST]) == 0
        assert f"Hint {number} of {len(exercise.hints)}: {exercise.hints[number - 1]}" in capsys.readouterr().out
    assert main(["exercise", "hint", FIRST]) == 0
    assert "Every hint is shown already" in capsys.readouterr().out


def test_solution_prints_only_the_code_when_piped(exercise):
    done = subprocess.run([sys.executable, "-m", "mnistkit", "exercise", "solution", FIRST], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout == exercise.solution()


def test_reset_puts_the_starter_back_and_forgets_progress(tmp_path, capsys, exercise):
    path = tmp_path / "stack_update.py"
    path.write_text("# mine\n")
    main(["exercise", "hint", FIRST])
    assert main(["exercise", "reset", FIRST, "--dir", str(tmp_path)]) == 0
    assert "is reset" in capsys.readouterr().out
    assert path.read_text() == exercise.starter() and (tmp_path / "stack_update.py.bak").read_text() == "# mine\n"
    main(["exercises", "--json"])
    item = next(item for item in json.loads(capsys.readouterr().out) if item["id"] == FIRST)
    assert item["status"] == "not started" and item["hints_shown"] == 0


def _reader(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)


def _wait_for(lines: queue.Queue, words: str, seen: list[str], limit: float = 120) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            seen.append(lines.get(timeout=1))
        except queue.Empty:
            continue
        if words in seen[-1]:
            return
    raise AssertionError(f"never saw {words!r}; the screen was:\n{''.join(seen)}")


def test_watch_checks_again_on_every_save_and_answers_keys(tmp_path, exercise):
    child = subprocess.Popen([sys.executable, "-m", "mnistkit", "exercise", "watch", FIRST, "--dir", str(tmp_path)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             env=dict(os.environ, COLUMNS="200"))
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=_reader, args=(child.stdout, lines), daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        _wait_for(lines, "Not yet", seen)  # the starter, checked at once
        assert exercise.starter_fails_with in seen[-1]
        (tmp_path / "stack_update.py").write_text(exercise.solution())  # a save
        _wait_for(lines, "Passed", seen)
        _wait_for(lines, "goes on to", seen)  # it asks; it does not move on by itself
        assert child.stdin is not None
        child.stdin.write("h")
        child.stdin.flush()
        _wait_for(lines, "Hint 1 of", seen)
        child.stdin.write("s")
        child.stdin.flush()
        _wait_for(lines, "Show the reference solution?", seen)
        child.stdin.write("x")  # anything but y: nothing is shown
        child.stdin.flush()
        _wait_for(lines, "No; still watching", seen)
        child.stdin.write("r")
        child.stdin.flush()
        _wait_for(lines, "Replace your file with the starter", seen)
        child.stdin.write("y")
        child.stdin.flush()
        _wait_for(lines, "holds the starter again", seen)
        after_reset = len(seen)
        _wait_for(lines, "Not yet", seen)  # the starter is checked again at once
        assert not any("Saved." in line for line in seen[after_reset:]), "a reset is not the learner's save"
        (tmp_path / "stack_update.py").unlink()
        _wait_for(lines, "is gone; r writes the starter again", seen)
        child.stdin.write("q")
        child.stdin.flush()
        assert child.wait(timeout=30) == 0
    finally:
        child.kill()
    reader.join(timeout=10)
    while not lines.empty():
        seen.append(lines.get())
    assert "Stopped watching. Your file and your progress are saved." in "".join(seen)


def test_a_mistyped_exercise_id_gets_a_suggestion_and_case_does_not_matter(capsys):
    assert main(["exercise", "hint", "stak-update"]) == 2
    assert "no exercise 'stak-update'; did you mean stack-update?" in capsys.readouterr().err
    assert main(["exercise", "hint", "Stack-Update"]) == 0
    assert "Hint 1 of" in capsys.readouterr().out


def test_a_lesson_id_given_for_an_exercise_names_the_lessons_exercises(capsys):
    assert main(["exercise", "start", "stack"]) == 2
    assert "'stack' is a lesson; its exercise is stack-update" in capsys.readouterr().err


def test_the_exercises_table_says_what_its_marks_mean(capsys):
    assert main(["exercises"]) == 0
    assert "· not started   ✎ attempted   ✓ passed" in capsys.readouterr().out
