"""The TUI's first ten minutes, resuming a cancelled run and comparing with an earlier one, through Pilot."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import pytest
from test_tui_support import small_curriculum, small_registry, wait_for
from textual.widgets import OptionList, Static

from mnistkit.engine import events as ev
from mnistkit.report.story import what_happened
from mnistkit.runs.config import RunConfig
from mnistkit.tui import training
from mnistkit.tui.app import MnistkitApp
from mnistkit.tui.first_steps import CHANGE, COMPARE, READ, TRAIN, FirstSteps
from mnistkit.tui.screens import welcome
from mnistkit.tui.screens.runs import RunPicker
from mnistkit.tui.screens.welcome import RunStoryScreen, WelcomeScreen
from mnistkit.tui.widgets.charts import MetricChart
from mnistkit.tui.widgets.jit_panel import JitPanel
from mnistkit.tui.widgets.run_pane import RunPane

HISTORY = ({"train_loss": 0.9, "test_loss": 0.41, "test_accuracy": 0.88},
           {"train_loss": 0.3, "test_loss": 0.2, "test_accuracy": 0.95})


@pytest.fixture(scope="module")
def plugin_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("first-steps-plugins")


@pytest.fixture(scope="module")
def registry(plugin_dir):
    return small_registry(plugin_dir)


@pytest.fixture
def make_app(registry, plugin_dir, data_isolated_env):
    def make(**kwargs) -> MnistkitApp:
        return MnistkitApp(registry, curriculum=small_curriculum(plugin_dir), **kwargs)

    return make


def tiny_config(data_dir, **changes) -> RunConfig:
    base = {"model": "tiny", "optimizer": "plain-sgd", "epochs": 2, "batch_size": 16, "learning_rate": 0.1,
            "data": "idx", "data_dir": str(data_dir)}
    return RunConfig(**{**base, **changes})


def text_of(widget: Static) -> str:
    return str(widget.render())


def screen_text(app: MnistkitApp) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


# --- the plain parts: the story of a run, and the steps' state ------------------------------------------------


def test_the_story_of_a_run_tells_its_own_numbers():
    story = what_happened({"model": "cnn", "optimizer": "adamw", "learning_rate": 0.005, "batch_size": 32}, HISTORY,
                          num_train=2000, num_test=400, steps_per_epoch=62, seconds=11.6)
    assert "**cnn** with the **adamw** optimizer (learning rate 0.005) for 2 epoch(s) in 12 s" in story
    assert "2,000 training images, 32 at a time: 62 steps" in story
    assert "0.410 after epoch 1, 0.200 after epoch 2" in story  # the test loss
    assert "88.0% after epoch 1, 95.0% after epoch 2" in story
    assert "about 20 of the 400 test digits are wrong" in story
    assert "ended at 0.300" in story  # the last train loss
    assert "The two staying close" in story and "overfitting" not in story
    overfit = what_happened({"model": "cnn"}, (*HISTORY, {"train_loss": 0.05, "test_loss": 0.3, "test_accuracy": 0.9}),
                            num_train=2000, num_test=400, steps_per_epoch=62, seconds=20)
    assert "which is overfitting" in overfit and "95.0%" not in overfit.split("accuracy chart")[1].split(",")[1]


def test_the_steps_follow_only_their_own_finished_runs(tmp_path):
    steps = FirstSteps()
    assert steps.next_step() == TRAIN
    assert steps.ready(READ) == steps.ready(CHANGE) == "Train first: press 1, and let the run finish."
    started = ev.RunStarted({"model": "tiny", "learning_rate": 0.1}, "cpu", ("cpu",), "idx", 64, 20, 4)
    steps.begin(None)  # a run the learner started with g or t does not count
    for item in (started, ev.Finished(HISTORY, 3.0)):
        steps.see(item)
    assert steps.first is None
    steps.begin(TRAIN)
    for item in (started, training.RunFolder(tmp_path, False), ev.Interrupted(1, 2, 4)):
        steps.see(item)
    assert steps.first is None and steps.started is None, "a cancelled run is not a finished first step"
    steps.begin(TRAIN)
    for item in (started, training.RunFolder(tmp_path, False), ev.Finished(HISTORY, 3.0)):
        steps.see(item)
    assert steps.first is not None and steps.first.path == tmp_path and steps.first.num_train == 64
    assert steps.next_step() == READ and steps.ready(COMPARE) == "Change the learning rate first: press 3."
    changed = steps.smaller_rate(RunConfig(model="tiny", learning_rate=0.005))
    assert changed.learning_rate == 0.0005 and steps.changed is changed
    assert steps.ready(COMPARE) == ""


# --- through the keys --------------------------------------------------------------------------------------------


def test_the_first_ten_minutes_train_read_change_and_compare(make_app, data_make_idx_dir, monkeypatch):
    """A learner with no progress: Enter four times (with a read in between) ends with the two runs compared."""
    data_dir = data_make_idx_dir(n_train=256, n_test=40)
    monkeypatch.setattr(welcome, "lesson_config", lambda data: tiny_config(data_dir))

    async def scenario():
        app = make_app(welcome=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await wait_for(pilot, lambda: isinstance(app.screen, WelcomeScreen), what="the welcome screen")
            shown = screen_text(app)
            assert "your first ten minutes" in shown and "▶ 1  Train a small CNN" in shown
            for line in screen_text(app).splitlines():
                assert "Train again, the first run" not in line or "grey" in line, "a step's text is cut"
            await pilot.press("2")
            assert "Train first: press 1" in screen_text(app), "step 2 before step 1 says what to do"
            await pilot.press("enter")  # step 1
            pane = app.main.query_one(RunPane)
            await wait_for(pilot, lambda: app.first_steps.first is not None, what="the first run to finish")
            assert "Press w for the next of your first steps" in text_of(pane.query_one("#run-status"))
            first_accuracy = app.first_steps.first.history[-1]["test_accuracy"]

            await pilot.press("w")
            await wait_for(pilot, lambda: isinstance(app.screen, WelcomeScreen), what="the steps again")
            assert "✓ 1" in screen_text(app) and "▶ 2" in screen_text(app)
            await pilot.press("enter")  # step 2: what happened
            await wait_for(pilot, lambda: isinstance(app.screen, RunStoryScreen), what="the story")
            assert f"{first_accuracy:.1%} after epoch 2" in app.screen.markdown
            assert "What just happened" in screen_text(app)
            await pilot.press("escape")
            await wait_for(pilot, lambda: isinstance(app.screen, WelcomeScreen), what="the steps after the story")
            await pilot.press("enter")  # step 3
            assert app.config.learning_rate == pytest.approx(0.01), "the learning rate is ten times smaller"
            assert "Set: learning rate 0.01" in screen_text(app)
            await pilot.press("enter")  # step 4
            await wait_for(pilot, lambda: app.first_steps.second is not None, what="the second run to finish")
            assert pane.compared is not None and pane.compared.history == app.first_steps.first.history
            line = text_of(pane.query_one("#run-compare"))
            assert "learning rate 0.1 → 0.01" in line and f"test accuracy {first_accuracy:.1%} after 2" in line
            assert all(chart.earlier for chart in pane.query(MetricChart)), "the first run is drawn in grey"
            assert "Press c to compare with another run, g to train again" in text_of(pane.query_one("#run-status"))
            await pilot.press("w")
            await wait_for(pilot, lambda: isinstance(app.screen, WelcomeScreen), what="the steps")
            assert "All four done" in screen_text(app)
            assert screen_text(app).count("✓") == 4

    asyncio.run(scenario())


def test_u_resumes_the_cancelled_run_from_its_checkpoint_to_its_last_epoch(make_app, data_make_idx_dir, monkeypatch):
    data_dir = data_make_idx_dir(n_train=4096, n_test=20)  # 256 steps an epoch, 12 epochs: x lands in the run even on a busy CI
    from mnistkit.runs.extras import Pictures

    close = Pictures.close

    def slow_close(self, quiet=False):  # a busy machine: the cancelled run's folder closes after its last event is shown
        time.sleep(1.5)
        close(self, quiet)

    monkeypatch.setattr(Pictures, "close", slow_close)

    async def scenario():
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            pane = app.main.query_one(RunPane)
            app.config = tiny_config(data_dir, epochs=12)
            await pilot.press("u")
            assert any("No run to resume" in n.message for n in app._notifications), "nothing to resume is said"
            await pilot.press("g")
            await wait_for(pilot, lambda: app.main.query_one(JitPanel).step_seconds is not None, what="training")
            await pilot.press("x")
            await wait_for(pilot, lambda: not pane.running, timeout=20, what="the cancel")
            status = text_of(pane.query_one("#run-status"))
            assert "Press u to resume it, g to train again" in status, status
            cancelled = pane.folder.path
            await pilot.press("u")
            await wait_for(pilot, lambda: not pane.running and "resuming" not in text_of(pane.query_one("#run-status")),
                           timeout=180, what="the resumed run to end")
            assert "Finished" in text_of(pane.query_one("#run-status")), text_of(pane.query_one("#run-status"))
            assert pane.folder.path == cancelled
            assert "resumed in epoch" in "\n".join(line.text for line in pane.query_one("RichLog").lines)
            return cancelled

    cancelled = asyncio.run(scenario())
    metrics = json.loads((cancelled / "metrics.json").read_text())
    assert metrics["status"] == "completed" and len(metrics["history"]) == 12
    assert len(list(Path(os.environ["MNISTKIT_RUNS_DIR"]).iterdir())) == 1, "resuming made no new folder"


def test_u_offers_a_list_when_no_run_was_just_cancelled(make_app, data_make_idx_dir):
    data_dir = data_make_idx_dir(n_train=1024, n_test=20)

    async def cancel_one():
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            app.config = tiny_config(data_dir, epochs=50)
            await pilot.press("g")
            await wait_for(pilot, lambda: app.main.query_one(JitPanel).step_seconds is not None, what="training")
            await pilot.press("x")
            await wait_for(pilot, lambda: not app.main.running, timeout=20, what="the cancel")

    async def resume_it():
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("u")
            await wait_for(pilot, lambda: isinstance(app.screen, RunPicker), what="the list of runs")
            options = app.screen.query_one(OptionList)
            assert options.option_count == 1
            assert "Resume a run" in screen_text(app)
            await pilot.press("enter")
            pane = app.main.query_one(RunPane)
            await wait_for(pilot, lambda: pane.running, what="the resumed run")
            await wait_for(pilot, lambda: "resumed in epoch" in "\n".join(line.text for line in pane.query_one(
                "RichLog").lines), what="the resumed line in the log")
            await pilot.press("x")
            await wait_for(pilot, lambda: not pane.running, timeout=20, what="the cancel")

    asyncio.run(cancel_one())
    asyncio.run(resume_it())


def test_c_compares_with_an_earlier_run_and_can_stop(make_app, data_make_idx_dir):
    data_dir = data_make_idx_dir(n_train=128, n_test=20)

    async def scenario():
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            pane = app.main.query_one(RunPane)
            await pilot.press("c")
            assert any("No earlier run" in n.message for n in app._notifications)
            for rate in (0.1, 0.05):
                app.config = tiny_config(data_dir, learning_rate=rate)
                started = app._run_id
                await pilot.press("g")  # a run this small may end before the first look: wait for its end alone
                await wait_for(pilot, lambda started=started: app._run_id > started and not pane.running, timeout=60, what="the run")
            await pilot.press("c")
            await wait_for(pilot, lambda: isinstance(app.screen, RunPicker), what="the list of runs")
            assert app.screen.query_one(OptionList).option_count == 1, "the run shown is not offered"
            await pilot.press("enter")
            await wait_for(pilot, lambda: pane.compared is not None, what="the comparison")
            line = text_of(pane.query_one("#run-compare"))
            assert "learning rate 0.1 → 0.05" in line, line
            assert all(chart.earlier for chart in pane.query(MetricChart))
            await pilot.press("c")
            await wait_for(pilot, lambda: isinstance(app.screen, RunPicker), what="the list again")
            assert "Stop comparing" in screen_text(app)
            await pilot.press("enter")  # the first option
            await wait_for(pilot, lambda: pane.compared is None, what="the comparison to go")
            assert text_of(pane.query_one("#run-compare")) == ""
            assert not any(chart.earlier for chart in pane.query(MetricChart))

    asyncio.run(scenario())


def test_mnistkit_tui_opens_the_first_steps_only_for_a_learner_with_no_progress(data_isolated_env, monkeypatch):
    from mnistkit.cli import main
    from mnistkit.cli import tui as tui_command
    from mnistkit.curriculum.progress import CURRENT, Progress

    opened: list[bool] = []
    monkeypatch.setattr(tui_command, "_is_terminal", lambda stream: True)
    monkeypatch.setattr(MnistkitApp, "run", lambda app: opened.append(app.welcome))
    assert main(["tui"]) == 0
    Progress().mark("data", CURRENT)  # as opening a lesson does
    assert main(["tui"]) == 0
    assert opened == [True, False]
