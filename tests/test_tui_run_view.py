"""The run tab as a learner reads it at 80x24 and up: the digit grid in view, what the panels mean.

The runs are fed ``fixed_run``'s events, so what is on screen depends only on
the TUI; the snapshots at the end show the same screens as pictures.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from test_tui_support import fixed_run, small_curriculum, small_registry, wait_for
from textual.widgets import Label, RichLog, Static

from mnistkit.engine import events as ev
from mnistkit.report.curves import OVERFITTING_EXERCISE, OVERFITTING_LESSON
from mnistkit.tui.app import MnistkitApp
from mnistkit.tui.widgets.jit_panel import JIT_LESSON, JitPanel
from mnistkit.tui.widgets.predictions import PredictionGrid


@pytest.fixture(scope="module")
def plugin_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("run-view-plugins")


@pytest.fixture(scope="module")
def registry(plugin_dir):
    return small_registry(plugin_dir)


@pytest.fixture
def app(registry, plugin_dir) -> MnistkitApp:
    return MnistkitApp(registry, curriculum=small_curriculum(plugin_dir))


def screen_lines(app: MnistkitApp) -> list[str]:
    """The text on the terminal, line by line, as the compositor last drew it (Textual has no public call for it)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def finish_a_run(pilot, items: list[object] | None = None) -> None:
    """Show a finished run (``fixed_run``'s unless ``items``) in the run tab."""
    await pilot.pause()
    pilot.app.clear_notifications()
    pilot.app.main.begin_run("cnn + adamw, 2 epoch(s)")
    for item in fixed_run() if items is None else items:
        pilot.app.main.handle_run_item(item)
    await pilot.pause()


async def scroll_to_grid(pilot) -> PredictionGrid:
    """Scroll the grid to the top of the run tab, and wait until the layout has settled there.

    A scroll asked for before the last layout pass lands on the old positions (CI, under load,
    once caught the grid a few lines off), so scroll again until two passes agree.
    """
    grid = pilot.app.main.query_one(PredictionGrid)
    pane = pilot.app.main.query_one("#run")
    seen = None
    for _ in range(20):
        pane.scroll_to_widget(grid, animate=False, top=True)
        await pilot.pause()
        now = (grid.region, pane.scroll_offset, pane.virtual_size)
        if now == seen:
            break
        seen = now
    return grid


def test_all_25_digits_are_in_view_at_80x24_with_the_sidebar_shown(app):
    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            await finish_a_run(pilot)
            grid = await scroll_to_grid(pilot)
            pane = app.main.query_one("#run")
            assert app.main.query_one("#sidebar").display
            region = grid.region
            assert region.y + region.height <= pane.region.y + pane.region.height, "the grid is taller than the run tab"
            lines = screen_lines(app)[region.y : region.y + region.height]
            inside = [line[region.x : region.x + region.width] for line in lines]
            beyond = [line[region.x + region.width :] for line in lines]
            shown = "\n".join(inside)
            assert shown.count("✓") + shown.count("✗") == 25, shown
            assert shown.count("✗") == 2 and "(1)" in shown and "(6)" in shown, "the wrong guesses show the true digit"
            assert not any("✓" in rest or "✗" in rest for rest in beyond), "a digit is drawn outside the grid"
            assert grid.border_title.startswith("predictions after epoch 2: 2 of 25 wrong")

    asyncio.run(scenario())


@pytest.mark.parametrize(("size", "sidebar", "small"), [((80, 24), False, False), ((100, 30), True, True),
                                                        ((160, 40), True, False)])
def test_the_grid_is_five_digits_wide_large_where_they_fit_else_small(app, size, sidebar, small):
    async def scenario():
        async with app.run_test(size=size) as pilot:
            if not sidebar:
                await pilot.press("s")
            await finish_a_run(pilot)
            grid = await scroll_to_grid(pilot)
            assert grid.shape == (small, 5)
            shown = "\n".join(line[grid.region.x : grid.region.right] for line in screen_lines(app))
            assert ("⠀" in shown) == small, "the small digits are drawn in braille"
            assert ("(true 1)" in shown) == (not small)

    asyncio.run(scenario())


def test_the_grid_redraws_for_the_new_width_when_the_sidebar_goes(app):
    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            await finish_a_run(pilot)
            grid = app.main.query_one(PredictionGrid)
            assert grid.shape == (True, 5)
            await pilot.press("s")
            assert not app.main.query_one("#sidebar").display
            await wait_for(pilot, lambda: grid.shape == (False, 5), timeout=5,
                           what=f"the large digits (the grid is {grid.size.width} wide, drawn as {grid.shape})")

    asyncio.run(scenario())


def overfitting_run() -> list[object]:
    """``fixed_run`` over 4 epochs whose test loss is lowest after epoch 2 while the train loss keeps falling."""
    test_losses, test_accuracies = {1: 0.5, 2: 0.3, 3: 0.35, 4: 0.45}, {1: 0.85, 2: 0.9, 3: 0.89, 4: 0.88}
    items = []
    for item in fixed_run(epochs=4):
        if isinstance(item, ev.Progress):
            item = replace(item, accuracy=0.6 + 0.09 * (item.epoch - 1 + item.step / item.steps))
        elif isinstance(item, ev.EpochEnd):
            item = replace(item, train={"loss": 0.6 / item.epoch, "accuracy": 0.6 + 0.09 * item.epoch})
        elif isinstance(item, ev.Evaluation):
            item = replace(item, test={"loss": test_losses[item.epoch], "accuracy": test_accuracies[item.epoch]})
        items.append(item)
    return items


def advice_on_screen(app: MnistkitApp) -> str:
    advice = app.main.query_one("#run-advice")
    if not advice.display or not advice.region.height:
        return ""
    return " ".join(line[advice.region.x : advice.region.right].strip()
                    for line in screen_lines(app)[advice.region.y : advice.region.bottom])


def test_a_test_loss_rising_while_the_train_loss_falls_is_called_overfitting_under_the_charts(app):
    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            items = overfitting_run()
            evaluations = [i for i, item in enumerate(items) if isinstance(item, ev.Evaluation)]
            await finish_a_run(pilot, items[: evaluations[1] + 1])
            assert advice_on_screen(app) == "", "epochs 1 and 2 both lower the test loss"
            for item in items[evaluations[1] + 1 :]:
                app.main.handle_run_item(item)
            await pilot.pause()
            said = advice_on_screen(app)
            assert said.startswith("Epoch 3: the test loss is rising while the train loss falls: the model starts "
                                   "to overfit"), said
            assert f"(lesson {OVERFITTING_LESSON}, exercise {OVERFITTING_EXERCISE})" in said, said
            charts, advice = app.main.query_one("#run-charts").region, app.main.query_one("#run-advice").region
            assert advice.y >= charts.bottom and advice.bottom <= 23, "the line is under the charts, in view"

    asyncio.run(scenario())


def test_a_run_whose_test_loss_keeps_falling_says_nothing_of_overfitting(app):
    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            await finish_a_run(pilot)
            assert advice_on_screen(app) == ""
            app.main.begin_run("again")
            await finish_a_run(pilot, overfitting_run())
            app.main.begin_run("and again")
            await pilot.pause()
            assert advice_on_screen(app) == "", "a new run starts without the last run's advice"

    asyncio.run(scenario())


def test_the_jit_panel_says_what_x17_is_and_which_lesson_teaches_jit(app):
    async def scenario():
        async with app.run_test(size=(100, 30)) as pilot:
            items = [ev.Traced("train_step x17", 1, "first call: trace and compile") if isinstance(item, ev.Traced)
                     else item for item in fixed_run()]
            await finish_a_run(pilot, items)
            jit = app.main.query_one(JitPanel)
            app.main.query_one("#run").scroll_to_widget(jit, animate=False, top=True)
            await pilot.pause()
            shown = " ".join(line[jit.region.x : jit.region.right].strip()
                             for line in screen_lines(app)[jit.region.y : jit.region.bottom])
            assert "train_step x17 traced once" in shown
            assert "x17: 17 train steps in one compiled call (lax.scan), so Python dispatches once per 17 steps" \
                in shown, shown
            assert f"more on jit and tracing: lesson {JIT_LESSON}" in shown

    asyncio.run(scenario())


def test_the_lessons_and_the_exercise_the_run_tab_points_to_exist():
    from mnistkit.curriculum import loader
    from mnistkit.host.loading import load_registry

    curriculum = loader.load(load_registry())
    assert curriculum.get(OVERFITTING_LESSON) is not None and curriculum.get(JIT_LESSON) is not None
    assert OVERFITTING_EXERCISE in [exercise.id for exercise in curriculum.exercises.for_lesson(OVERFITTING_LESSON)]


def test_snapshot_the_run_tab_at_80x24_says_where_overfitting_starts(snap_compare, app):
    async def overfitted(pilot):
        await finish_a_run(pilot, overfitting_run())

    assert snap_compare(app, terminal_size=(80, 24), run_before=overfitted)


def test_snapshot_the_grid_at_80x24_with_the_sidebar_shown(snap_compare, app):
    async def grid_in_view(pilot):
        await finish_a_run(pilot)
        await scroll_to_grid(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=grid_in_view)


def test_the_run_log_wraps_at_the_pane_width_with_the_sidebar_shown(app):
    """A log line wider than the pane wraps inside it; none is cut off at the screen's edge."""
    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            await finish_a_run(pilot)
            log = app.main.query_one("#run-log", RichLog)
            app.main.run_pane.log_line("epoch 9: train loss 0.0123, accuracy 99.12%; test loss 0.0456, accuracy 98.76%, 1.2 s")
            await pilot.pause()
            assert app.main.query_one("#sidebar").display
            widths = [len(strip.text.rstrip()) for strip in log.lines]  # what is written, not the padding
            assert max(widths) <= log.scrollable_content_region.width, (widths, log.scrollable_content_region.width)
            text = "".join(strip.text for strip in log.lines)
            assert "accuracy 98.76%, 1.2 s" in text.replace("  ", " ")

    asyncio.run(scenario())


def test_the_speed_and_time_left_wait_for_a_second_of_training(app):
    """At an epoch's first update the engine's rate reads far too fast: the bar shows none until it is measured."""
    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.main.begin_run("cnn + adamw, 2 epoch(s)")
            run = fixed_run()
            app.main.handle_run_item(run[0])
            speed = app.main.query_one("#run-speed", Label)
            app.main.handle_run_item(ev.Progress(1, 1, 40, loss=2.0, accuracy=0.1, images_per_sec=724_279.0))
            await pilot.pause()
            assert "img/s" not in str(speed.render()) and "left" not in str(speed.render())
            await asyncio.sleep(1.1)
            app.main.handle_run_item(ev.Progress(1, 11, 40, loss=1.0, accuracy=0.5, images_per_sec=724_279.0))
            await pilot.pause()
            shown = str(speed.render())
            rate = float(shown.split("img/s")[0].split()[-1].replace(",", ""))
            assert 10 * 32 / 3 < rate < 10 * 32 / 1.1, shown  # ten steps of 32 images in a bit over a second
            assert "left" in shown

    asyncio.run(scenario())


def test_a_cancel_under_way_stays_on_the_status_line_until_the_run_ends(app):
    """x during the start-up: what follows (data, compiling) must not read as if the cancel was ignored."""
    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            pane = app.main.run_pane
            app.main.begin_run("cnn + adamw, 2 epoch(s)")
            pane.cancelling()
            run = fixed_run()
            app.main.handle_run_item(run[0])  # RunStarted: it would say "x cancels"
            await pilot.pause()
            assert "Cancelling…" in str(pane.query_one("#run-status", Static).render())
            app.main.handle_run_item(ev.Interrupted(epoch=1, step=10, history=(), steps=40))
            await pilot.pause()
            assert "Cancelled in epoch 1 after 10 steps" in str(pane.query_one("#run-status", Static).render())

    asyncio.run(scenario())
