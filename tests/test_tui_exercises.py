"""The exercise view driven by keys through Pilot: the file, saving, the check, hints, the solution, reset, leaving.

One test runs the real checker twice (the starter fails, the reference
solution passes); the others never start it, or replace it with a stand-in
that waits for the cancel event, to see that leaving and quitting stop it.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from test_tui_support import pipeline_curriculum, small_curriculum, small_curriculum_with_exercises, small_registry, wait_for
from textual.widgets import Markdown, Static, TextArea

from mnistkit.curriculum import checking
from mnistkit.curriculum.progress import ATTEMPTED, DONE, NOT_STARTED, PASSED
from mnistkit.tui.app import MnistkitApp
from mnistkit.tui.external_editor import choose_editor
from mnistkit.tui.screens.confirm import ConfirmScreen
from mnistkit.tui.screens.exercise import ExerciseScreen
from mnistkit.tui.screens.help import EXERCISE_KEYS
from mnistkit.tui.screens.main import MainScreen
from mnistkit.tui.screens.solution import SolutionScreen
from mnistkit.tui.widgets.lesson_view import LessonView
from mnistkit.tui.widgets.sidebar import LessonTree

CHECK_TIMEOUT = 240.0
"""Seconds a real check may take in the tests: it starts Python, TensorFlow and JAX in a child process on a busy machine."""


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    return small_registry(tmp_path_factory.mktemp("exercise-plugins"))


@pytest.fixture
def pipeline_app(registry, data_isolated_env) -> MnistkitApp:
    """The app over the real pipeline lesson and its exercise pipeline-scale, with mnistkit's home in tmp_path."""
    return MnistkitApp(registry, curriculum=pipeline_curriculum())


def learner_file(env):
    return env.home / "exercises" / "pipeline_scale.py"


def editor(app: MnistkitApp) -> TextArea:
    return app.screen.query_one("#exercise-editor", TextArea)


def result(app: MnistkitApp) -> Static:
    return app.screen.query_one("#exercise-result", Static)


def sidebar_label(app: MnistkitApp, lesson_id: str) -> str:
    tree = app.main.query_one(LessonTree)
    stack = list(tree.root.children)
    while stack:
        node = stack.pop()
        if node.data == lesson_id:
            return str(node.label)
        stack.extend(node.children)
    raise AssertionError(f"no leaf for {lesson_id}")


def test_e_opens_the_lessons_exercise_with_the_starter_in_a_new_file(pipeline_app, data_isolated_env):
    exercise = pipeline_app.curriculum.exercises.get("pipeline-scale")

    async def scenario():
        async with pipeline_app.run_test(size=(80, 24)) as pilot:
            assert pipeline_app.lesson_id == "pipeline"
            assert "○" in sidebar_label(pipeline_app, "pipeline"), "an exercise not started yet has its mark"
            await pilot.press("e")
            assert isinstance(pipeline_app.screen, ExerciseScreen)
            assert editor(pipeline_app).text == exercise.starter()
            assert editor(pipeline_app).has_focus
            assert "Not checked yet" in str(result(pipeline_app).render())
            assert pipeline_app.screen.query_one("#exercise-body", Markdown).source == exercise.task

    asyncio.run(scenario())
    assert learner_file(data_isolated_env).read_text() == exercise.starter()


def test_ctrl_s_saves_what_is_typed_and_leaving_saves_the_rest(pipeline_app, data_isolated_env):
    async def scenario():
        async with pipeline_app.run_test(size=(80, 24)) as pilot:
            await pilot.press("e", "#", "space", "m", "i", "n", "e", "enter")
            assert "modified" in str(editor(pipeline_app).border_title)
            await pilot.press("ctrl+s")
            assert learner_file(data_isolated_env).read_text().startswith("# mine\n")
            assert "saved" in str(editor(pipeline_app).border_title)
            await pilot.press("x")
            await pilot.press("escape", "escape")  # the first leaves the editor, the second the view
            assert isinstance(pipeline_app.screen, MainScreen)

    asyncio.run(scenario())
    assert learner_file(data_isolated_env).read_text().startswith("# mine\nx")


def test_a_check_shows_checking_then_the_starter_fails_in_red_and_the_solution_passes_in_green(pipeline_app):
    exercise = pipeline_app.curriculum.exercises.get("pipeline-scale")
    progress = pipeline_app.progress

    async def scenario():
        async with pipeline_app.run_test(size=(80, 24)) as pilot:
            await pilot.press("e", "ctrl+r")
            assert "Checking…" in str(result(pipeline_app).render())
            await wait_for(pilot, lambda: result(pipeline_app).has_class("-failed"), CHECK_TIMEOUT, "the starter's check")
            assert exercise.starter_fails_with in str(result(pipeline_app).render())
            assert progress.exercise_status(exercise.id) == ATTEMPTED
            assert "◐" in sidebar_label(pipeline_app, "pipeline")

            editor(pipeline_app).load_text(exercise.solution())
            await pilot.press("ctrl+r")
            await wait_for(pilot, lambda: result(pipeline_app).has_class("-passed"), CHECK_TIMEOUT, "the solution's check")
            shown = str(result(pipeline_app).render())
            assert "Passed" in shown
            # The lesson it completes is said under the result, not in a toast over it.
            await wait_for(pilot, lambda: "Lesson done." in str(result(pipeline_app).render()), 5, "the lesson's line")
            assert not any("lesson is done" in str(n.message) for n in pipeline_app._notifications)
            assert progress.exercise_status(exercise.id) == PASSED
            assert pipeline_app.curriculum.status("pipeline", progress) == DONE
            label = sidebar_label(pipeline_app, "pipeline")
            assert "●" in label and "✓" in label, label
            await pilot.press("escape", "escape")
            meta = str(pipeline_app.main.query_one(LessonView).query_one("#lesson-meta", Static).render())
            assert "1 of 1 passed" in meta and "done" in meta

    asyncio.run(scenario())


def test_hints_come_one_at_a_time_and_are_remembered(pipeline_app):
    exercise = pipeline_app.curriculum.exercises.get("pipeline-scale")

    def hints_shown() -> list[str]:
        return [hint.source for hint in pipeline_app.screen.query(".exercise-hint").results(Markdown)]

    async def scenario():
        async with pipeline_app.run_test(size=(80, 24)) as pilot:
            await pilot.press("e", "ctrl+g")
            assert hints_shown() == [f"**Hint 1 of 3:** {exercise.hints[0]}"]
            await pilot.press("escape", "h")  # h once the editor is left
            assert [hint.split(":**")[0] for hint in hints_shown()] == ["**Hint 1 of 3", "**Hint 2 of 3"]
            assert pipeline_app.progress.hints_shown(exercise.id) == 2
            await pilot.press("escape", "e")
            await pilot.pause()
            assert len(hints_shown()) == 2, "hints already shown are shown again"

    asyncio.run(scenario())


def test_the_solution_is_shown_only_after_a_yes(pipeline_app):
    exercise = pipeline_app.curriculum.exercises.get("pipeline-scale")

    async def scenario():
        async with pipeline_app.run_test(size=(80, 24)) as pilot:
            await pilot.press("e", "ctrl+l")
            assert isinstance(pipeline_app.screen, ConfirmScreen)
            await pilot.press("n")
            assert isinstance(pipeline_app.screen, ExerciseScreen)
            assert not any(isinstance(screen, SolutionScreen) for screen in pipeline_app.screen_stack)
            await pilot.press("ctrl+l", "y")
            assert isinstance(pipeline_app.screen, SolutionScreen)
            assert pipeline_app.screen.query_one("#solution-code", TextArea).text == exercise.solution()
            await pilot.press("escape")
            assert isinstance(pipeline_app.screen, ExerciseScreen)
            assert editor(pipeline_app).text == exercise.starter(), "the learner's file is untouched"
            await pilot.press("ctrl+l")
            assert isinstance(pipeline_app.screen, SolutionScreen), "once confirmed, it opens without asking"

    asyncio.run(scenario())


def test_reset_puts_the_starter_back_after_a_yes_and_keeps_a_backup(pipeline_app, data_isolated_env):
    exercise = pipeline_app.curriculum.exercises.get("pipeline-scale")
    path = learner_file(data_isolated_env)

    async def scenario():
        async with pipeline_app.run_test(size=(80, 24)) as pilot:
            await pilot.press("e", "#", "ctrl+s", "escape", "R")
            assert isinstance(pipeline_app.screen, ConfirmScreen)
            await pilot.press("n")
            assert path.read_text() == "#" + exercise.starter()
            await pilot.press("R", "y")
            assert editor(pipeline_app).text == exercise.starter()
            assert pipeline_app.progress.exercise_status(exercise.id) == NOT_STARTED

    asyncio.run(scenario())
    assert path.read_text() == exercise.starter()
    assert path.with_name("pipeline_scale.py.bak").read_text() == "#" + exercise.starter()


def test_leaving_the_view_or_quitting_during_a_check_cancels_it(pipeline_app, monkeypatch):
    cancels: list[threading.Event] = []

    def waits_for_cancel(exercise, path, timeout=None, cancel=None):
        cancels.append(cancel)
        cancelled = cancel.wait(30)
        return checking.CheckResult(False, "cancelled" if cancelled else "never cancelled", 0.0)

    monkeypatch.setattr(checking, "check", waits_for_cancel)

    async def scenario():
        async with pipeline_app.run_test(size=(80, 24)) as pilot:
            await pilot.press("e", "ctrl+r")
            await wait_for(pilot, lambda: len(cancels) == 1, 10, "the check to start")
            await pilot.press("escape", "escape")
            assert isinstance(pipeline_app.screen, MainScreen)
            await wait_for(pilot, lambda: cancels[0].is_set(), 5, "leaving to cancel the check")
            await pilot.press("e", "ctrl+r")
            await wait_for(pilot, lambda: len(cancels) == 2, 10, "the second check to start")
            pipeline_app.exit()
        return time.monotonic()

    start = time.monotonic()
    ended = asyncio.run(scenario())
    assert cancels[1].is_set(), "quitting cancels the check in flight"
    assert ended - start < 25, "the app did not wait for the check"


def test_a_lesson_with_two_exercises_opens_the_first_not_passed_and_n_goes_to_the_next(registry, tmp_path):
    app = MnistkitApp(registry, curriculum=small_curriculum_with_exercises(tmp_path))
    app.progress.mark_exercise("model-one", PASSED)

    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("]")
            assert app.lesson_id == "model"
            assert "◐" in sidebar_label(app, "model"), "one of two passed"
            assert "  3. Training" in sidebar_label(app, "training"), "lessons without exercises keep the column"
            await pilot.press("e")
            assert app.screen.exercise.id == "model-two"
            await pilot.press("ctrl+n")
            assert app.screen.exercise.id == "model-one", "after the last comes the first again"
            assert "exercise 1 of 2" in app.screen.sub_title

    asyncio.run(scenario())


def test_e_on_a_lesson_without_exercises_says_so(registry, tmp_path):
    app = MnistkitApp(registry, curriculum=small_curriculum(tmp_path))

    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("e")
            assert isinstance(app.screen, MainScreen)
            assert any("no exercise" in str(n.message) for n in app._notifications)

    asyncio.run(scenario())


def test_the_exercise_keys_are_in_the_command_palette(pipeline_app):
    async def scenario():
        async with pipeline_app.run_test(size=(80, 24)) as pilot:
            await pilot.press("e")
            titles = {command.title for command in pipeline_app.get_system_commands(pipeline_app.screen)}
            assert {"Check the exercise", "Show a hint", "Show the solution", "Reset the exercise to its starter"} <= titles
            assert "Next exercise" not in titles, "a lesson's only exercise has no next one"

    asyncio.run(scenario())


def test_ctrl_o_without_an_editor_says_how_to_set_one(pipeline_app, monkeypatch, tmp_path):
    monkeypatch.delenv("EDITOR", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))

    async def scenario():
        async with pipeline_app.run_test(size=(80, 24)) as pilot:
            await pilot.press("e", "ctrl+o")
            assert any("$EDITOR is not set" in str(n.message) for n in pipeline_app._notifications)

    asyncio.run(scenario())


def test_the_editor_is_editor_else_nano_or_vi_when_installed():
    assert choose_editor({"EDITOR": "code --wait"}).command == ["code", "--wait"]
    assert choose_editor({"EDITOR": "vim"}).note == ""
    fallback = choose_editor({}, which=lambda name: "/usr/bin/vi" if name == "vi" else None)
    assert fallback.command == ["vi"] and "$EDITOR is not set" in fallback.note
    nothing = choose_editor({"EDITOR": "  "}, which=lambda name: None)
    assert nothing.command is None and "set EDITOR" in nothing.note


def test_the_help_screen_lists_every_key_of_the_exercise_view():
    listed = {key for keys, _ in EXERCISE_KEYS for key in keys.split()} | {"escape"}
    for binding in ExerciseScreen.BINDINGS:
        assert binding.key in listed, f"the help screen does not mention {binding.key!r} ({binding.action})"
