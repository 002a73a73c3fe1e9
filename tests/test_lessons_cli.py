"""`mnistkit lessons` and `mnistkit lesson show/run/reset` as a learner meets them."""

import os
import subprocess
import sys

import pytest

from mnistkit.cli import main
from mnistkit.curriculum.lessons import load_curriculum
from mnistkit.curriculum.loader import load
from mnistkit.curriculum.progress import ProgressStore
from mnistkit.host.loading import load_registry


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")


def out(capsys) -> str:
    return capsys.readouterr().out


def test_lessons_lists_the_curriculum_with_progress(capsys):
    ProgressStore().mark("data", "done")
    ProgressStore().mark("stack", "done")  # its stage ran, but its exercise has not passed
    ProgressStore().mark_exercise("data-counts", "passed")
    ProgressStore().mark("pipeline", "current")
    assert main(["lessons"]) == 0
    text = out(capsys)
    for lesson in load_curriculum():
        assert lesson.id in text
    assert "✓ done" in text and "▶ current" in text and "Plugin lessons" in text
    tables, legend = text.split("status: ")
    assert tables.count("✓ done") == 1 and "✓ passed" in tables and "· 0/3" in tables  # data; pipeline's three exercises
    assert legend.startswith("· not started   ▶ current (started, not done)   ✓ done"), "the marks are explained"
    assert "Next: mnistkit lesson show pipeline" in text


def test_show_renders_the_lesson_and_hides_the_answers(capsys):
    assert main(["lesson", "show", "pipeline"]) == 0
    text = out(capsys)
    assert "The input pipeline" in text and "drop_remainder" in text
    assert "answer hidden" in text and "casting first gives" not in text
    assert "<!--" not in text and "mnistkit lesson run pipeline" in text
    assert ProgressStore().status("pipeline") == "current"


def test_show_with_answers_reveals_them(capsys):
    assert main(["lesson", "show", "pipeline", "--answers"]) == 0
    assert "casting first gives" in out(capsys)


def test_a_lesson_id_in_another_case_opens_that_lesson(capsys):
    assert main(["lesson", "show", "Pipeline"]) == 0
    assert "The input pipeline" in out(capsys)


def test_an_unknown_lesson_is_one_line_and_exit_2(capsys):
    assert main(["lesson", "show", "quantum"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no lesson 'quantum'; the lessons are: stack, data" in err[0]


def test_run_shows_the_stage_result_and_the_lesson_waits_for_its_exercise(capsys):
    assert main(["lesson", "run", "data", "--data", "sample"]) == 0
    text = out(capsys)
    assert "(6000, 28, 28)" in text and "labelled" in text
    assert "The lesson is done when its exercise passes: mnistkit exercise start data-counts" in text
    assert load(load_registry()).status("data", ProgressStore()) == "current"
    ProgressStore().mark_exercise("data-counts", "passed")
    assert load(load_registry()).status("data", ProgressStore()) == "done"


def test_run_of_a_plugin_lesson_uses_the_plugins_model(capsys):
    assert main(["lesson", "run", "plugin-mlp", "--data", "sample"]) == 0
    assert "Model 'mlp'" in out(capsys)


def test_the_last_lesson_ends_with_a_trained_model_and_its_grid(capsys):
    assert main(["lesson", "run", "predict", "--data", "sample", "--epochs", "1"]) == 0
    text = out(capsys)
    assert "First the 'train' stage" in text and "epoch 1/1" in text
    assert "✓" in text and "predictions.png" in text
    from mnistkit.environment import home_dir

    assert (home_dir() / "lessons" / "predictions.png").is_file()
    assert (home_dir() / "lessons" / "train-cache.npz").is_file()

    assert main(["lesson", "reset", "predict"]) == 0
    assert "reset to not started" in out(capsys)
    assert ProgressStore().status("predict") == "not started"
    assert main(["lesson", "reset", "train"]) == 0
    assert not (home_dir() / "lessons" / "train-cache.json").exists()


def test_lesson_commands_appear_in_help_and_help_stays_light():
    code = ("import sys; from mnistkit.cli import build_parser; text = build_parser().format_help(); "
            "print('lessons' in text, 'lesson' in text, [m for m in ('jax', 'rich', 'numpy') if m in sys.modules])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ.copy())
    assert result.stdout.strip() == "True True []"
