"""The TUI driven by keys through Textual's Pilot: lessons, progress, training, cancelling, forms, errors."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import pytest
from test_tui_support import small_curriculum, small_registry, wait_for
from textual import events
from textual.widgets import Collapsible, Input, Markdown, RichLog, Static, TabbedContent
from textual.widgets._collapsible import CollapsibleTitle

from mnistkit.curriculum.progress import DONE, Progress
from mnistkit.engine import events as ev
from mnistkit.runs.config import RunConfig
from mnistkit.tui.app import ACTIONS, DARK, LIGHT, MnistkitApp
from mnistkit.tui.screens.help import KEYS, HelpScreen
from mnistkit.tui.screens.main import MainScreen
from mnistkit.tui.screens.plugins import PluginsScreen
from mnistkit.tui.screens.setup import SetupScreen
from mnistkit.tui.widgets.charts import MetricChart
from mnistkit.tui.widgets.jit_panel import JitPanel
from mnistkit.tui.widgets.lesson_view import LessonView
from mnistkit.tui.widgets.predictions import PredictionGrid
from mnistkit.tui.widgets.run_pane import RunPane
from mnistkit.tui.widgets.sidebar import LessonTree


@pytest.fixture(scope="module")
def plugin_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("tui-plugins")


@pytest.fixture(scope="module")
def registry(plugin_dir):
    return small_registry(plugin_dir)


@pytest.fixture
def make_app(registry, plugin_dir):
    """``make_app(**kwargs)``: the app over the tiny plugin and the small curriculum."""

    def make(**kwargs) -> MnistkitApp:
        kwargs.setdefault("curriculum", small_curriculum(plugin_dir))
        return MnistkitApp(kwargs.pop("registry", registry), **kwargs)

    return make


def tiny_config(data_dir, **changes) -> RunConfig:
    base = {"model": "tiny", "optimizer": "plain-sgd", "epochs": 1, "batch_size": 16, "learning_rate": 0.1, "data": "idx",
            "data_dir": str(data_dir)}
    return RunConfig(**{**base, **changes})


def text_of(widget: Static) -> str:
    return str(widget.render())


def log_text(app: MnistkitApp) -> str:
    return "\n".join(line.text for line in app.main.query_one(RichLog).lines)


def test_starts_on_the_first_lesson_and_keys_walk_the_curriculum(make_app):
    async def scenario():
        app = make_app()
        async with app.run_test(size=(100, 30)) as pilot:
            assert app.lesson_id == "welcome"
            await pilot.press("]")
            assert app.lesson_id == "model"
            await pilot.press("]", "]")
            assert app.lesson_id == "plugin-tiny", "after the curriculum come the plugins' lessons"
            await pilot.press("]")
            assert app.lesson_id == "plugin-tiny"
            await pilot.press("[", "[")
            assert app.lesson_id == "model"
            view = app.main.query_one(LessonView)
            assert view.lesson.id == "model"
            assert "stage" in text_of(view.query_one("#lesson-meta"))

    asyncio.run(scenario())


def test_sidebar_opens_the_highlighted_lesson_with_enter(make_app):
    async def scenario():
        app = make_app()
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()  # the first lesson opens and takes the focus; then the learner moves to the sidebar
            app.main.query_one(LessonTree).focus()
            await pilot.press("down", "enter")
            assert app.lesson_id == "model"

    asyncio.run(scenario())


def test_check_yourself_answers_stay_folded_until_opened(make_app):
    async def scenario():
        app = make_app()
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("]")
            await pilot.pause()
            body = app.main.query_one("#lesson-body", Markdown).source
            assert "How many logits" in body and "Ten, one per digit" not in body
            (answer,) = app.main.query_one(LessonView).query(Collapsible)
            assert answer.collapsed and answer.title == "Answer 1"
            answer.query_one(CollapsibleTitle).focus()
            await pilot.press("enter")
            assert not answer.collapsed
            assert "Ten, one per digit" in answer.query_one(Markdown).source

    asyncio.run(scenario())


def test_progress_is_saved_and_the_next_start_resumes_there(make_app):
    async def scenario():
        app = make_app()
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("]", "d", "]")
            assert app.lesson_id == "training"
        again = make_app()
        async with again.run_test(size=(100, 30)):
            assert again.lesson_id == "training", "the app should open where the user left off"
            assert again.progress.status("model") == DONE
            labels = [str(node.label) for node in again.main.query_one(LessonTree)._leaves()]
            assert "✓ 2. The model" in labels and "▶ 3. Training" in labels

    asyncio.run(scenario())


def test_progress_is_shared_with_the_lessons_command(make_app):
    from mnistkit.curriculum.progress import ProgressStore

    ProgressStore().mark("model", "current")

    async def scenario():
        app = make_app()
        async with app.run_test(size=(100, 30)) as pilot:
            assert app.lesson_id == "model"
            await pilot.press("d")
        assert ProgressStore().status("model") == "done"

    asyncio.run(scenario())


def test_training_streams_into_charts_grid_jit_panel_and_log(make_app, data_make_idx_dir):
    data_dir = data_make_idx_dir(n_train=96, n_test=30)

    async def scenario():
        app = make_app(data="idx", data_dir=str(data_dir))
        async with app.run_test(size=(100, 30)) as pilot:
            app.config = tiny_config(data_dir, epochs=2)
            await pilot.press("t")
            assert isinstance(app.screen, SetupScreen)
            await pilot.press("ctrl+s")
            assert isinstance(app.screen, MainScreen)
            pane = app.main.query_one(RunPane)
            # No check that it is running yet: with the compilation cache warm, a run this
            # small can be over before the key press returns.
            await wait_for(pilot, lambda: "Finished" in text_of(pane.query_one("#run-status")), what="the run to finish")
            assert not pane.running
            assert len(app.main.query_one("#chart-loss", MetricChart).test) == 2
            assert len(app.main.query_one("#chart-accuracy", MetricChart).train) >= 2
            grid = app.main.query_one(PredictionGrid)
            assert grid.predictions is not None and grid.predictions.epoch == 2
            assert "wrong" in grid.border_title
            jit = text_of(app.main.query_one(JitPanel))
            assert "backend cpu" in jit and "compile" in jit and " ms" in jit
            log = log_text(app)
            assert "epoch 1/2" in log and "epoch 2/2" in log and "test loss" in log

    asyncio.run(scenario())


def test_the_tutorial_cnn_trains_on_generated_data(data_make_idx_dir, plugin_dir):
    from mnistkit.host.loading import load_registry

    data_dir = data_make_idx_dir(n_train=64, n_test=20)

    async def scenario():
        app = MnistkitApp(load_registry(), curriculum=small_curriculum(plugin_dir), data="idx", data_dir=str(data_dir))
        async with app.run_test(size=(100, 30)) as pilot:
            app.config = RunConfig(model="cnn", epochs=1, data="idx", data_dir=str(data_dir))
            await pilot.press("g")
            pane = app.main.query_one(RunPane)
            await wait_for(pilot, lambda: not pane.running, timeout=120, what="the CNN run to finish")
            assert "Finished" in text_of(pane.query_one("#run-status")), text_of(pane.query_one("#run-status"))

    asyncio.run(scenario())


def test_cancel_stops_the_run_cleanly_and_it_can_start_again(make_app, data_make_idx_dir):
    data_dir = data_make_idx_dir(n_train=2048, n_test=20)

    async def scenario():
        app = make_app()
        async with app.run_test(size=(100, 30)) as pilot:
            app.config = tiny_config(data_dir, epochs=200)
            pane = app.main.query_one(RunPane)
            for attempt in range(2):
                await pilot.press("g")
                await wait_for(pilot, lambda: app.main.query_one(JitPanel).step_seconds is not None,
                               what="training to be under way")
                app.clear_notifications()
                await pilot.press("x")
                if pane.running:  # said where the learner looks, not in a toast over the charts
                    assert "Cancelling…" in text_of(pane.query_one("#run-status"))
                took = await wait_for(pilot, lambda: not pane.running, timeout=20, what="the cancel to finish")
                assert took < 5, f"cancelling took {took:.1f} s"
                assert not app._notifications, [str(n.message) for n in app._notifications]
                status = text_of(pane.query_one("#run-status"))
                assert "Cancelled in epoch" in status or "Cancelled at the start of epoch" in status, status
                # It offers u to go on from the checkpoint, g to train again (as pressed above), t for new settings.
                assert "Press u to resume it, g to train again with the same settings, or t to change them" in status

    asyncio.run(scenario())
    # Like Ctrl-C in `mnistkit run`: each cancelled run left a folder with its history and a checkpoint.
    runs = sorted(Path(os.environ["MNISTKIT_RUNS_DIR"]).iterdir())
    assert len(runs) == 2
    for run in runs:
        assert json.loads((run / "metrics.json").read_text())["status"] == "interrupted"
        assert any((run / "checkpoints").iterdir())


def test_keys_switch_tabs_while_training(make_app, data_make_idx_dir):
    """1 and 2 switch tabs while the worker trains (benchmarks/tui.py times it: 0.1 s is the target)."""
    data_dir = data_make_idx_dir(n_train=2048, n_test=20)

    async def scenario():
        app = make_app()
        async with app.run_test(size=(100, 30)) as pilot:
            app.config = tiny_config(data_dir, epochs=200)
            await pilot.press("g")
            await wait_for(pilot, lambda: app.main.query_one(JitPanel).step_seconds is not None,
                           what="training to be under way")
            tabs = app.main.query_one(TabbedContent)
            for key in "1212121212":
                start = time.perf_counter()
                app.post_message(events.Key(key, key))
                wanted = "lesson-tab" if key == "1" else "run-tab"
                while tabs.active != wanted:
                    assert time.perf_counter() - start < 5, f"{key} did not switch to {wanted} in 5 s while training"
                    await asyncio.sleep(0.001)
                await asyncio.sleep(0.1)
            assert app.main.running, "the run should still be going"
            await pilot.press("x")
            await wait_for(pilot, lambda: not app.main.running, timeout=20, what="the cancel")

    asyncio.run(scenario())


def test_bad_form_values_get_a_message_and_nothing_starts(make_app):
    async def scenario():
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("t")
            form = app.screen
            cases = [
                ("#epochs", "0", "epochs"),
                ("#learning_rate", "fast", "learning rate"),
                ("#batch_size", "-3", "batch"),
                ("#model_options", "depth=3", "no option 'depth'"),
                ("#model_options", "hidden=many", "must be a whole number"),
            ]
            for selector, text, message in cases:
                field = form.query_one(selector, Input)
                original = field.value
                field.focus()
                await pilot.pause()
                await pilot.press("ctrl+shift+a", *text)
                await pilot.press("ctrl+s")
                assert isinstance(app.screen, SetupScreen), f"{selector}={text!r} should not start a run"
                error = text_of(form.query_one("#form-error"))
                assert message in error, f"{selector}={text!r}: {error!r}"
                field.value = original
            await pilot.press("escape")
            assert isinstance(app.screen, MainScreen)
            assert not app.main.running

    asyncio.run(scenario())


def test_missing_data_ends_the_run_with_a_message_not_a_traceback(make_app, tmp_path):
    async def scenario():
        app = make_app()
        async with app.run_test(size=(100, 30)) as pilot:
            app.config = tiny_config(tmp_path / "nowhere")
            await pilot.press("g")
            pane = app.main.query_one(RunPane)
            await wait_for(pilot, lambda: not pane.running, what="the run to fail")
            status = text_of(pane.query_one("#run-status"))
            assert "Run failed" in status and "nowhere" in status
            assert any("nowhere" in str(n.message) for n in app._notifications)

    asyncio.run(scenario())


def test_a_diverging_run_reports_the_nan_loss(make_app, data_make_idx_dir):
    data_dir = data_make_idx_dir(n_train=256, n_test=20)

    async def scenario():
        app = make_app()
        async with app.run_test(size=(100, 30)) as pilot:
            app.config = tiny_config(data_dir, learning_rate=1e30, epochs=3)
            await pilot.press("g")
            pane = app.main.query_one(RunPane)
            await wait_for(pilot, lambda: not pane.running, what="the run to fail")
            status = text_of(pane.query_one("#run-status"))
            assert "Run failed" in status and "nan" in status.lower()

    asyncio.run(scenario())


def test_choosing_another_model_in_the_form_trains_it(make_app, registry, data_make_idx_dir):
    data_dir = data_make_idx_dir(n_train=64, n_test=20)

    async def scenario():
        app = make_app(data="idx", data_dir=str(data_dir))
        async with app.run_test(size=(100, 30)) as pilot:
            app.config = tiny_config(data_dir, model="cnn-that-is-gone")
            await pilot.press("t")
            form = app.screen
            assert form.query_one("#model").value == "tiny", "an unknown model falls back to one that exists"
            assert "tiny" in form.query_one("#setup-lesson-body", Markdown).source
            await pilot.press("ctrl+s")
            await wait_for(pilot, lambda: not app.main.running, what="the run")
            assert app.config.model == "tiny"
            assert "Finished" in text_of(app.main.query_one("#run-status"))

    asyncio.run(scenario())


def test_the_form_offers_the_model_a_plugin_lesson_teaches(make_app):
    async def scenario():
        app = make_app()
        async with app.run_test(size=(100, 30)) as pilot:
            app.config = RunConfig(model="cnn", optimizer="adamw", model_options={"features": 8})
            app.open_lesson("plugin-tiny")
            await pilot.press("t")
            form = app.screen
            assert form.query_one("#model").value == "tiny"
            assert form.query_one("#optimizer").value == "plain-sgd"
            assert form.query_one("#learning_rate", Input).value == "0.1", "the optimizer's own learning rate"
            assert form.query_one("#model_options", Input).value == "hidden=16", "cnn's options do not carry over"

    asyncio.run(scenario())


def test_plugin_browser_lists_broken_plugins_and_why(make_app, tmp_path):
    registry = small_registry(tmp_path / "plugins", broken=True)

    async def scenario():
        app = make_app(registry=registry)
        async with app.run_test(size=(100, 30)) as pilot:
            assert any("nowhere" in str(n.message) for n in app._notifications), "a broken plugin is announced"
            await pilot.press("p")
            assert isinstance(app.screen, PluginsScreen)
            problems = text_of(app.screen.query_one("#problems"))
            assert "broken" in problems and "nowhere" in problems
            sources = app.screen.query_one("#sources")
            assert [str(sources.get_row_at(i)[0]) for i in range(sources.row_count)] == ["tiny", "broken"]
            assert str(sources.get_row_at(1)[3]) == "no"
            await pilot.press("escape")
            assert isinstance(app.screen, MainScreen)

    asyncio.run(scenario())


def test_help_screen_lists_every_key_of_the_main_screen(make_app):
    listed = {key for keys, _ in KEYS for key in keys.split()}
    for binding in MainScreen.BINDINGS:
        key = {"right_square_bracket": "]", "left_square_bracket": "["}.get(binding.key, binding.key)
        assert key in listed, f"the help screen does not mention {key!r} ({binding.action})"

    async def scenario():
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            assert isinstance(app.screen, MainScreen)

    asyncio.run(scenario())


def test_every_action_is_in_the_command_palette(make_app):
    async def scenario():
        app = make_app()
        async with app.run_test(size=(100, 30)) as pilot:
            titles = {command.title for command in app.get_system_commands(app.screen)}
            assert {title for title, *_ in ACTIONS} <= titles
            await pilot.press("ctrl+p")
            await pilot.press(*"toggle the sidebar")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await pilot.pause()
            assert not app.main.query_one(LessonTree).display

    asyncio.run(scenario())


def test_lessons_open_from_the_command_palette(make_app):
    async def scenario():
        app = make_app()
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("ctrl+p")
            await pilot.press(*"lesson: training")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await pilot.pause()
            assert app.lesson_id == "training"

    asyncio.run(scenario())


def test_theme_key_switches_between_light_and_dark(make_app):
    async def scenario():
        app = make_app()
        async with app.run_test(size=(100, 30)) as pilot:
            assert app.theme == DARK
            await pilot.press("ctrl+t")
            assert app.theme == LIGHT
            await pilot.press("ctrl+t")
            assert app.theme == DARK

    asyncio.run(scenario())


def test_sidebar_key_hides_and_shows_the_lessons(make_app):
    async def scenario():
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            tree = app.main.query_one(LessonTree)
            await pilot.press("s")
            assert not tree.display
            await pilot.press("s")
            assert tree.display

    asyncio.run(scenario())


def test_stage_key_explains_when_a_lesson_has_no_stage(make_app):
    async def scenario():
        app = make_app()
        async with app.run_test(size=(100, 30)) as pilot:
            assert app.lesson_id == "welcome"
            await pilot.press("r")
            assert any("no stage" in str(n.message) for n in app._notifications)
            assert not app.main.running

    asyncio.run(scenario())


def test_running_a_lesson_stage_shows_its_output_in_the_run_pane(make_app, data_make_idx_dir):
    data_dir = data_make_idx_dir(n_train=64, n_test=20)

    async def scenario():
        app = make_app()
        async with app.run_test(size=(100, 30)) as pilot:
            app.config = tiny_config(data_dir)
            await pilot.press("]", "r")
            pane = app.main.query_one(RunPane)
            await wait_for(pilot, lambda: not pane.running, what="the model stage")
            assert "Stage model done" in text_of(pane.query_one("#run-status"))
            shown = " ".join(text_of(widget) for widget in pane.query(".stage-output"))
            assert "Model 'tiny'" in shown and "parameters" in shown
            assert not pane.query_one("#run-charts").display, "a stage that does not train hides the charts"

    asyncio.run(scenario())


def test_a_training_stage_can_be_cancelled(make_app, data_make_idx_dir):
    data_dir = data_make_idx_dir(n_train=2048, n_test=20)

    async def scenario():
        app = make_app()
        async with app.run_test(size=(100, 30)) as pilot:
            app.config = tiny_config(data_dir, epochs=200)
            app.open_lesson("training")
            await pilot.press("r")
            pane = app.main.query_one(RunPane)
            await wait_for(pilot, lambda: app.main.query_one(JitPanel).step_seconds is not None,
                           what="the train stage to be training")
            assert pane.query_one("#run-charts").display
            await pilot.press("x")
            await wait_for(pilot, lambda: not pane.running, timeout=20, what="the cancel")
            status = text_of(pane.query_one("#run-status"))
            assert ("Cancelled in epoch" in status or "Cancelled at the start of epoch" in status) and "run the stage again" in status

    asyncio.run(scenario())


def test_every_shipped_lesson_opens(plugin_dir):
    from mnistkit.host.loading import load_registry

    async def scenario():
        app = MnistkitApp(load_registry())
        async with app.run_test(size=(100, 30)) as pilot:
            assert not app.curriculum.problems, app.curriculum.problems
            opened = []
            for lesson in app.curriculum.ordered():
                app.open_lesson(lesson.id)
                await pilot.pause()
                opened.append(app.main.query_one(LessonView).lesson.id)
            assert opened == [lesson.id for lesson in app.curriculum.ordered()] and opened

    asyncio.run(scenario())


def test_progress_falls_back_to_memory_when_the_store_fails():
    class Unwritable:
        def status(self, lesson_id):
            return "not started"

        def mark(self, lesson_id, status):
            raise OSError("read-only file system")

        def last_lesson(self):
            return None

    progress = Progress(Unwritable())
    progress.mark("model", DONE)
    assert progress.status("model") == DONE
    assert progress.last_lesson() == "model"
    assert "read-only" in progress.problem


def test_run_pane_counts_the_finished_run(make_app):
    from test_tui_support import fixed_run

    async def scenario():
        app = make_app()
        async with app.run_test(size=(100, 30)) as pilot:
            app.main.begin_run("cnn + adamw, 2 epoch(s)")
            for item in fixed_run():
                app.main.handle_run_item(item)
            await pilot.pause()
            assert "Finished 2 epoch(s)" in text_of(app.main.query_one("#run-status"))
            assert app.main.query_one(PredictionGrid).border_title.startswith("predictions after epoch 2: 2 of 25 wrong")
            assert isinstance(fixed_run()[-1], ev.Finished)

    asyncio.run(scenario())


def test_the_idle_run_tab_is_still_until_a_run_starts(make_app):
    """"Nothing is running." with a still, empty bar, not the animated one that means "working"."""
    from textual.widgets import ProgressBar

    async def scenario():
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("2")
            await pilot.pause()
            pane = app.main.query_one(RunPane)
            assert "Nothing is running" in text_of(pane.query_one("#run-status"))
            bar = pane.query_one(ProgressBar)
            assert bar.total is not None and bar.progress == 0

    asyncio.run(scenario())


def test_the_tab_labels_put_their_key_first(make_app):
    """ "Lesson 1  Run 2" read as "lesson 1" whatever lesson was open; the keys now come first, in brackets."""
    from textual.widgets import Tab

    async def scenario():
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            labels = [tab.label.plain for tab in app.main.query(Tab)]
            assert labels == ["[1] Lesson", "[2] Run"]
            await pilot.press("2")
            assert app.main.query_one(TabbedContent).active == "run-tab"

    asyncio.run(scenario())


def test_a_run_from_the_form_opens_the_run_tab_at_the_top_and_says_its_end_only_there(make_app, data_make_idx_dir):
    """The progress bar and the charts are in view when a run starts; the end is said once, in the status line."""
    data_dir = data_make_idx_dir(n_train=96, n_test=30)

    async def scenario():
        app = make_app(data="idx", data_dir=str(data_dir))
        async with app.run_test(size=(80, 24)) as pilot:
            app.config = tiny_config(data_dir, epochs=2)
            pane = app.main.query_one(RunPane)
            await pilot.press("2")
            pane.scroll_end(animate=False)  # as a learner who read the last run's log would leave it
            await pilot.pause()
            await pilot.press("t")
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert app.main.query_one(TabbedContent).active == "run-tab"
            assert pane.scroll_y == 0, "the run tab opened scrolled down"
            await wait_for(pilot, lambda: "Finished" in text_of(pane.query_one("#run-status")), what="the run to finish")
            await pilot.pause()
            assert pane.scroll_y == 0
            assert not any("finished" in str(n.message).lower() for n in app._notifications), \
                "the status line says it already: no notification over the grid"

    asyncio.run(scenario())


def test_the_end_of_a_run_is_notified_when_the_run_tab_is_not_shown(make_app, data_make_idx_dir):
    data_dir = data_make_idx_dir(n_train=2048, n_test=20)

    async def scenario():
        app = make_app(data="idx", data_dir=str(data_dir))
        async with app.run_test(size=(80, 24)) as pilot:
            app.config = tiny_config(data_dir, epochs=200)
            await pilot.press("g")
            pane = app.main.query_one(RunPane)
            await wait_for(pilot, lambda: app.main.query_one(JitPanel).step_seconds is not None,
                           what="training to be under way")
            await pilot.press("1", "x")  # back to the lesson, and cancel from there
            await wait_for(pilot, lambda: not pane.running, timeout=20, what="the cancel")
            await pilot.pause()
            assert any("Run cancelled" in str(n.message) for n in app._notifications)

    asyncio.run(scenario())
