"""The training form (``t``) as a learner reads it at 80x24: what has the focus, what the help says, what a run takes.

Over the builtin plugins and the shipped lessons, so the metrics, the option
strings and the lessons are the real ones. The form is pushed with a callback
of the test's own, so submitting it returns the chosen ``RunConfig`` instead
of starting a run.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from test_tui_support import fixed_run
from textual.color import Color
from textual.widgets import Input, Markdown, ProgressBar, Select

from mnistkit.engine import events as ev
from mnistkit.runs.config import RunConfig
from mnistkit.tui.app import DARK, LIGHT, MnistkitApp
from mnistkit.tui.screens.form_help import tables_as_lists
from mnistkit.tui.screens.setup import BUTTON_HELP, SetupScreen
from mnistkit.tui.widgets.checklist import CheckList


@pytest.fixture(scope="module")
def registry():
    from mnistkit.host.loading import load_registry

    return load_registry()


@pytest.fixture
def app(registry) -> MnistkitApp:
    return MnistkitApp(registry, data="sample")


def screen_lines(app: MnistkitApp) -> list[str]:
    """The text on the terminal, line by line, as the compositor last drew it (Textual has no public call for it)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def cell_style(app: MnistkitApp, x: int, y: int):
    """The rich style of the character at (x, y) on the terminal."""
    strip = app.screen._compositor.render_strips()[y]
    column = 0
    for segment in strip:
        if column <= x < column + len(segment.text):
            return segment.style
        column += len(segment.text)
    raise AssertionError(f"nothing drawn at ({x}, {y})")


async def open_form(pilot, config: RunConfig | None = None) -> tuple[SetupScreen, list]:
    """Push the form over ``config`` (the app's by default); the list receives what it returns."""
    app = pilot.app
    await pilot.pause()
    app.clear_notifications()
    chosen: list = []
    form = SetupScreen(app.registry, app.curriculum, config or app.config)
    await app.push_screen(form, chosen.append)
    await pilot.pause()
    return form, chosen


def help_text(form: SetupScreen) -> str:
    return form.query_one("#setup-lesson-body", Markdown).source


async def focus(pilot, form: SetupScreen, selector: str) -> None:
    """Focus ``selector`` and wait until the form has taken it in (a busy machine delivers the focus event late)."""
    form.query_one(selector).focus()
    name = selector.lstrip("#")
    for _ in range(50):
        await pilot.pause()
        if form.field == name or (name in BUTTON_HELP and help_text(form) == BUTTON_HELP[name]):
            break


@pytest.mark.parametrize("theme", [DARK, LIGHT])
def test_the_focused_field_has_an_accent_bar_and_a_bold_label_in_both_themes(app, theme):
    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            app.theme = theme
            form, _ = await open_form(pilot)
            for selector, label in (("#epochs", "Epochs"), ("#batch_size", "Batch"), ("#dtype", "Dtype")):
                await focus(pilot, form, selector)
                lines = screen_lines(app)
                (y,) = [y for y, line in enumerate(lines) if f"▊{label}" in line.replace("▊ ", "▊")]
                x = lines[y].index("▊")
                accent = Color.parse(app.current_theme.accent).rgb
                bar = cell_style(app, x, y).color.triplet
                assert max(abs(a - b) for a, b in zip(bar, accent)) <= 4, f"{label}'s bar is {bar.hex}, not the accent"
                assert cell_style(app, lines[y].index(label, x), y).bold, f"{label} is not bold"
                assert sum("▊" in line for line in lines) == 1, "one field is marked at a time"

    asyncio.run(scenario())


def test_the_help_beside_the_form_follows_the_focused_field(app):
    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            form, _ = await open_form(pilot, replace(app.config, model="cnn", optimizer="adamw"))
            assert "model `cnn`" in help_text(form), "the model has the focus first"
            await focus(pilot, form, "#metrics")
            assert "metric `" in help_text(form)
            cases = [("#epochs", "A fraction trains part of the last pass", "Training and evaluation, epoch by epoch"),
                     ("#batch_size", "Images per train step", "The input pipeline"),
                     ("#learning_rate", "How far each step moves the weights", "The optimizer and its state"),
                     ("#seed", "the same seed, the same run", "Seeds and reproducibility"),
                     ("#dtype", "bfloat16 halves the memory traffic", "the loss stay float32"),
                     ("#data_dir", "four MNIST .gz files", "Loading MNIST"),
                     ("#optimizer_options", "Optimizer options", "optimizer `adamw`"),
                     ("#model_options", "Model options", "model `cnn`")]
            for selector, says, lesson in cases:
                await focus(pilot, form, selector)
                text = help_text(form)
                assert says in text and lesson in text, f"{selector}: {text[:200]!r}"
                assert "metric `" not in text, f"{selector}: the help still describes a metric"
            for _ in range(50):  # the panel's Markdown draws itself after the update; a busy machine takes a while
                shown = "\n".join(line[50:] for line in screen_lines(app))
                if "Model options" in shown:
                    break
                await pilot.pause(0.1)
            assert "Model options" in shown, "the help panel on screen shows the focused field's"

    asyncio.run(scenario())


def test_metric_boxes_read_ticked_and_unticked_in_plain_text(app):
    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            form, chosen = await open_form(pilot, replace(app.config, metrics=("ece",)))
            shown = "\n".join(screen_lines(app))
            assert "[x] ece" in shown and "[ ] top2" in shown and "[ ] confusion" in shown
            assert "▐X▌" not in shown
            metrics = form.query_one("#metrics", CheckList)
            await focus(pilot, form, "#metrics")
            metrics.highlighted = next(i for i in range(metrics.option_count)
                                       if metrics.get_option_at_index(i).value == "top2")
            await pilot.press("space")
            await pilot.pause()
            assert "[x] top2" in "\n".join(screen_lines(app))
            await pilot.press("ctrl+s")
            assert chosen and set(chosen[0].metrics) == {"ece", "top2"}

    asyncio.run(scenario())


def test_option_values_lesson_tables_and_the_train_button_fit_at_80x24(app):
    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            form, chosen = await open_form(pilot, replace(app.config, model="cnn", optimizer="adamw"))
            shown = "\n".join(screen_lines(app))
            assert "features=32 hidden=256 conv=auto" in shown
            assert "b1=0.9 b2=0.999 weight_decay=0.0001" in shown
            assert "|" not in help_text(form) and "**conv 3x3, 32 filters, ReLU**: output shape" in help_text(form)
            for selector in ("#model", "#data_dir"):  # the top and the bottom of the form
                await focus(pilot, form, selector)
                train = form.query_one("#train")
                assert train.region.bottom <= 23 and "Train" in screen_lines(app)[train.region.y], selector
            await pilot.click("#train")
            assert chosen and chosen[0].model == "cnn"

    asyncio.run(scenario())


def test_epochs_take_fractions_and_the_dtype_is_chosen_as_the_cli_checks_them(app, registry):
    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            form, chosen = await open_form(pilot, replace(app.config, epochs=2))
            assert form.query_one("#epochs", Input).value == "2"
            epochs = form.query_one("#epochs", Input)
            epochs.value = "0.75"
            form.query_one("#dtype", Select).value = "bfloat16"
            form.query_one("#engine", Select).value = "tutorial"
            await pilot.press("ctrl+s")
            error = str(form.query_one("#form-error").render())
            assert not chosen and "engine tutorial computes in float32 only" in error, error
            form.query_one("#dtype", Select).value = "float32"
            await pilot.press("ctrl+s")
            error = str(form.query_one("#form-error").render())
            assert not chosen and "engine tutorial trains whole epochs only; give epochs 1" in error, error
            form.query_one("#engine", Select).value = "fast"
            form.query_one("#dtype", Select).value = "bfloat16"
            epochs.value = "0"
            await pilot.pause()
            assert "epochs: must be a positive number" in str(form.query_one("#form-error").render())
            epochs.value = "0.75"
            await pilot.press("ctrl+s")
            assert chosen and chosen[0].epochs == 0.75 and chosen[0].dtype == "bfloat16"
        again = MnistkitApp(registry, data="sample")
        async with again.run_test(size=(80, 24)) as pilot:
            form, chosen = await open_form(pilot, replace(again.config, epochs=0.75))
            assert form.query_one("#epochs", Input).value == "0.75"
            form.query_one("#epochs", Input).value = "3"
            await pilot.press("ctrl+s")
            assert chosen[0].epochs == 3 and isinstance(chosen[0].epochs, int), "whole epochs as the CLI gives them"

    asyncio.run(scenario())


def test_a_run_of_part_of_an_epoch_shows_its_fraction_and_its_real_length(app):
    """The speedrun's 0.75 epochs: 30 of the 40 steps of an epoch, one epoch on the bar, the charts up to 0.75."""
    started, *_ = fixed_run()
    assert isinstance(started, ev.RunStarted)
    items = [replace(started, config={**started.config, "epochs": 0.75}),
             ev.Compiled(1.0),
             *(ev.Progress(1, step, 30, loss=0.5, accuracy=0.9, images_per_sec=2400.0) for step in (10, 20, 30)),
             ev.EpochEnd(1, {"loss": 0.5, "accuracy": 0.9}, 1.0),
             ev.Evaluation(1, {"loss": 0.4, "accuracy": 0.92}, 0.1),
             ev.Finished(({"epoch": 1},), 2.0)]

    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.main.begin_run("cnn + adamw, 0.75 epoch(s)")
            app.main.handle_run_item(items[0])
            await pilot.pause()
            assert "0.75 epoch(s)" in str(app.main.query_one("#run-status").render())
            for item in items[1:-1]:
                app.main.handle_run_item(item)
            await pilot.pause()
            bar = app.main.query_one(ProgressBar)
            assert (bar.progress, bar.total) == (30, 30)
            assert "1/1" in str(app.main.query_one("#run-speed").render())
            chart = app.main.query_one("#chart-loss")
            assert chart.test == [(0.75, 0.4)] and chart.train[-1][0] == 0.75 and chart.epochs == 0.75
            app.main.handle_run_item(items[-1])
            await pilot.pause()
            assert "Finished 0.75 epoch(s)" in str(app.main.query_one("#run-status").render())

    asyncio.run(scenario())


def test_tables_as_lists_writes_each_row_as_an_item_and_leaves_code_alone():
    text = "Layers:\n\n| layer | output shape |\n| --- | ---: |\n| input | (B, 28, 28, 1) |\n| dense 10 | (B, 10) |\n\n" \
           "```text\n| not | a table |\n```\n"
    assert tables_as_lists(text).splitlines() == [
        "Layers:", "", "- **input**: output shape (B, 28, 28, 1)", "- **dense 10**: output shape (B, 10)", "",
        "```text", "| not | a table |", "```"]


def test_snapshot_the_form_at_80x24_with_a_field_in_the_middle_focused(snap_compare, app):
    async def learning_rate(pilot):
        form, _ = await open_form(pilot, replace(app.config, model="cnn", optimizer="adamw", metrics=("ece",)))
        await focus(pilot, form, "#learning_rate")

    assert snap_compare(app, terminal_size=(80, 24), run_before=learning_rate)


def test_snapshot_the_form_at_80x24_in_the_light_theme(snap_compare, app):
    async def seed_in_the_light(pilot):
        app.theme = LIGHT
        form, _ = await open_form(pilot, replace(app.config, model="cnn", optimizer="adamw", metrics=("ece",)))
        await focus(pilot, form, "#seed")

    assert snap_compare(app, terminal_size=(80, 24), run_before=seed_in_the_light)


def test_tab_goes_through_the_fields_then_train_back_and_the_help_with_no_invisible_stop(app):
    """Every Tab lands on something marked: a field's label, a button, or the help panel's bar."""
    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            form, _ = await open_form(pilot)
            await focus(pilot, form, "#data_dir")
            order = []
            for _ in range(4):
                await pilot.press("tab")
                order.append(app.focused.id if app.focused is not None else None)
            assert order == ["train", "back", "setup-lesson", "model"], order
            await focus(pilot, form, "#train")
            assert "**Train** starts a run" in help_text(form), "the help says what the focused button does"
            await focus(pilot, form, "#back")
            assert "forgets what you changed" in help_text(form)

    asyncio.run(scenario())
