"""The run tab as a learner reads it at 80x24 and up: the digit grid in view, what the panels mean.

The runs are fed ``fixed_run``'s events, so what is on screen depends only on
the TUI; the snapshots at the end show the same screens as pictures.
"""

from __future__ import annotations

import asyncio

import pytest
from test_tui_support import fixed_run, small_curriculum, small_registry, wait_for

from mnistkit.tui.app import MnistkitApp
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
    grid = pilot.app.main.query_one(PredictionGrid)
    pilot.app.main.query_one("#run").scroll_to_widget(grid, animate=False, top=True)
    await pilot.pause()
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


def test_snapshot_the_grid_at_80x24_with_the_sidebar_shown(snap_compare, app):
    async def grid_in_view(pilot):
        await finish_a_run(pilot)
        await scroll_to_grid(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=grid_in_view)
