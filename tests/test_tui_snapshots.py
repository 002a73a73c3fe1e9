"""How the TUI's main screens look, at 80x24 and 100x30, compared with stored snapshots.

Run ``pytest tests/test_tui_snapshots.py --snapshot-update`` after an intended
change of looks, then look at the report before committing the new files.
The app is built over the tiny test plugin and a small curriculum so the
pictures change only when the TUI does; runs are fed fixed events.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tui_support import fixed_run, small_curriculum, small_curriculum_with_exercises, small_registry

from mnistkit.curriculum.lessons import parse_lesson
from mnistkit.curriculum.loader import Curriculum
from mnistkit.runs.catalog import PastRun
from mnistkit.tui.app import LIGHT, MnistkitApp
from mnistkit.tui.screens.runs import RunPicker

SIZES = [(80, 24), (100, 30)]

WIDE_CODE = """\
---
id: immutable
title: Immutable arrays
order: 1
minutes: 2
---

# Immutable arrays

```python
import jax.numpy as jnp

x = jnp.arange(4.0)
print(x.at[0].set(10.0))  # prints: [10.  1.  2.  3.]
print(jnp.stack([x, x]).reshape(-1).sum())  # prints: 12.0, both rows added up
```
"""
"""A lesson whose code is wider than the lesson pane at 80x24."""


@pytest.fixture
def app(tmp_path) -> MnistkitApp:
    registry = small_registry(tmp_path, broken=True)
    return MnistkitApp(registry, curriculum=small_curriculum(tmp_path))


async def _settle(pilot) -> None:
    """Wait for the first screen to be composed and clear start-up notifications (the broken plugin's)."""
    await pilot.pause()
    pilot.app.clear_notifications()


async def _run_tab_drawn(pilot) -> None:
    """Wait until the run tab is laid out on screen: a busy machine switches tabs some frames late."""
    pane = pilot.app.main.query_one("#run")
    for _ in range(100):
        await pilot.pause()
        if pane.region.width > 0:
            break
    await pilot.wait_for_scheduled_animations()


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_lesson_screen(snap_compare, app, size):
    async def open_lesson_with_answers(pilot):
        await _settle(pilot)
        await pilot.press("]")

    assert snap_compare(app, terminal_size=size, run_before=open_lesson_with_answers)


def test_lesson_screen_in_the_light_theme(snap_compare, app):
    async def light(pilot):
        await _settle(pilot)
        app.theme = LIGHT

    assert snap_compare(app, terminal_size=(100, 30), run_before=light)


def test_the_focused_sidebar_is_marked_in_the_light_theme(snap_compare, app):
    async def back_to_the_sidebar(pilot):
        await _settle(pilot)
        app.theme = LIGHT
        await pilot.press("]", "shift+tab", "shift+tab")  # from the lesson's text, past the tab bar, to the sidebar

    assert snap_compare(app, terminal_size=(80, 24), run_before=back_to_the_sidebar)


def test_a_wide_code_line_wraps_at_80x24(snap_compare, tmp_path):
    lesson = parse_lesson(WIDE_CODE, tmp_path / "immutable.md")
    app = MnistkitApp(small_registry(tmp_path), curriculum=Curriculum((lesson,)))
    assert snap_compare(app, terminal_size=(80, 24), run_before=_settle)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_run_pane_after_a_run(snap_compare, app, size):
    async def finished_run(pilot):
        await _settle(pilot)
        app.main.begin_run("cnn + adamw, 2 epoch(s)")
        for item in fixed_run():
            app.main.handle_run_item(item)
        await _run_tab_drawn(pilot)

    assert snap_compare(app, terminal_size=size, run_before=finished_run)


def test_run_pane_with_the_sidebar_hidden_shows_the_grid(snap_compare, app):
    async def finished_run(pilot):
        await _settle(pilot)
        app.main.begin_run("cnn + adamw, 2 epoch(s)")
        for item in fixed_run():
            app.main.handle_run_item(item)
        await _run_tab_drawn(pilot)
        await pilot.press("s")
        app.main.query_one("#run").scroll_to_widget(app.main.query_one("#run-grid"), animate=False, top=True)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 30), run_before=finished_run)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_training_form(snap_compare, app, size):
    async def form(pilot):
        await _settle(pilot)
        await pilot.press("t")

    assert snap_compare(app, terminal_size=size, run_before=form)


def test_training_form_with_a_bad_value(snap_compare, app):
    async def bad_epochs(pilot):
        await _settle(pilot)
        await pilot.press("t")
        app.screen.query_one("#epochs").focus()
        await pilot.press("ctrl+shift+a", "0", "ctrl+s")

    assert snap_compare(app, terminal_size=(80, 24), run_before=bad_epochs)


def test_plugin_browser(snap_compare, app):
    async def plugins(pilot):
        await _settle(pilot)
        await pilot.press("p")

    assert snap_compare(app, terminal_size=(100, 30), run_before=plugins)


def test_help_screen(snap_compare, app):
    async def help_screen(pilot):
        await _settle(pilot)
        await pilot.press("question_mark")

    assert snap_compare(app, terminal_size=(80, 24), run_before=help_screen)


def _exercise_app(tmp_path, monkeypatch) -> MnistkitApp:
    """The app over a curriculum with exercises, its home under a HOME of its own."""
    monkeypatch.setenv("HOME", str(tmp_path))  # the file's path reads ~/home/exercises/model_one.py on every machine
    monkeypatch.setenv("MNISTKIT_HOME", str(tmp_path / "home"))
    return MnistkitApp(small_registry(tmp_path), curriculum=small_curriculum_with_exercises(tmp_path))


def test_exercise_view(snap_compare, tmp_path, monkeypatch):
    app = _exercise_app(tmp_path, monkeypatch)

    async def first_exercise_with_a_hint(pilot):
        await _settle(pilot)
        await pilot.press("]", "e", "ctrl+g")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=first_exercise_with_a_hint)


EARLIER = PastRun(Path("runs/20261201-090000-cnn"), {"model": "cnn", "optimizer": "adamw", "learning_rate": 0.05,
                                                      "batch_size": 32, "epochs": 2, "seed": 0}, "completed", "",
                  ({"test_loss": 0.9, "test_accuracy": 0.62}, {"test_loss": 0.7, "test_accuracy": 0.71}))
"""A made-up earlier run, its learning rate ten times the fixed run's."""


def test_welcome_screen_of_the_first_ten_minutes(snap_compare, tmp_path):
    app = MnistkitApp(small_registry(tmp_path), curriculum=small_curriculum(tmp_path), welcome=True)

    assert snap_compare(app, terminal_size=(80, 24), run_before=_settle)


def test_run_pane_compared_with_an_earlier_run(snap_compare, app):
    async def compared(pilot):
        await _settle(pilot)
        app.main.begin_run("cnn + adamw, 2 epoch(s)")
        app.main.run_pane.compare_with(EARLIER)
        for item in fixed_run():
            app.main.handle_run_item(item)
        await _run_tab_drawn(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=compared)


def test_run_picker(snap_compare, app):
    async def picker(pilot):
        await _settle(pilot)
        interrupted = PastRun(Path("runs/20261201-093000-mlp"), {"model": "mlp", "optimizer": "sgd", "learning_rate": 0.1,
                                                                 "epochs": 5}, "interrupted", "", EARLIER.history[:1])
        app.push_screen(RunPicker("Compare with an earlier run", [interrupted, EARLIER], "Its test curves are drawn in grey.",
                                  stop="Stop comparing"))
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=picker)


def test_the_story_of_a_first_run(snap_compare, tmp_path):
    """Step 2 of the first ten minutes: what the run's charts, grid and jit panel said, in its own numbers."""
    from mnistkit.report.story import what_happened
    from mnistkit.tui.screens.welcome import RunStoryScreen

    app = MnistkitApp(small_registry(tmp_path), curriculum=small_curriculum(tmp_path))
    history = ({"train_loss": 0.9, "test_loss": 0.41, "test_accuracy": 0.88},
               {"train_loss": 0.3, "test_loss": 0.2, "test_accuracy": 0.95})
    story = what_happened({"model": "cnn", "optimizer": "adamw", "learning_rate": 0.005, "batch_size": 32, "epochs": 2}, history,
                          num_train=6000, num_test=1000, steps_per_epoch=187, seconds=12.0)

    async def story_shown(pilot):
        await _settle(pilot)
        await app.push_screen(RunStoryScreen(story))
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=story_shown)


def test_the_solution_asks_first(snap_compare, tmp_path, monkeypatch):
    """ctrl+l in the exercise view: a yes/no question before the reference solution is shown."""
    app = _exercise_app(tmp_path, monkeypatch)

    async def asked(pilot):
        await _settle(pilot)
        await pilot.press("]", "e", "ctrl+l")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=asked)
