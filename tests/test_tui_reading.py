"""Reading in the TUI at 80x24: where the keys go, what shows where the focus is, code that fits, quick keys.

The lessons here are long enough to scroll at 80x24: the shipped ones, or one
written below with a code line wider than the pane.
"""

from __future__ import annotations

import asyncio
import json
import time
from functools import partial

import pytest
from test_tui_support import fixed_run, small_registry, wait_for
from textual import events
from textual.color import Color
from textual.geometry import Region, Size
from textual.widgets import Label

from mnistkit.curriculum.lessons import lessons_dir, parse_lesson
from mnistkit.curriculum.loader import Curriculum
from mnistkit.tui.app import DARK, LIGHT, MnistkitApp
from mnistkit.tui.widgets.lesson_view import PAGES_KEPT, LessonPage, LessonView
from mnistkit.tui.widgets.run_pane import RunPane
from mnistkit.tui.widgets.sidebar import LessonTree

SHIPPED = ("stack", "data", "pipeline", "model", "forward")
"""Shipped lessons, in their order, each several screens long at 80x24."""


def shipped_curriculum() -> Curriculum:
    lessons = tuple(parse_lesson((lessons_dir() / f"{name}.md").read_text(encoding="utf-8"), lessons_dir() / f"{name}.md")
                    for name in SHIPPED)
    return Curriculum(lessons)


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    return small_registry(tmp_path_factory.mktemp("reading-plugins"))


@pytest.fixture
def app(registry, data_isolated_env) -> MnistkitApp:
    """The app over the shipped lessons, with mnistkit's home (and so the progress) in tmp_path."""
    return MnistkitApp(registry, curriculum=shipped_curriculum())


def stands_out(color: Color, app: MnistkitApp) -> bool:
    """Whether ``color`` is the theme's colour for focus (to rounding), well apart from the screen's background."""
    focus, background = Color.parse(app.theme_variables["border"]), app.screen.background_colors[1]
    return (max(abs(a - b) for a, b in zip(color.rgb, focus.rgb, strict=True)) <= 2
            and abs(color.brightness - background.brightness) > 0.25)


def screen_text(app: MnistkitApp) -> list[str]:
    """The screen as a user sees it, one string a line."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def test_an_opened_lesson_has_the_focus_so_page_down_scrolls_it(app):
    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("]")
            await pilot.pause()
            view = app.main.query_one(LessonView)
            assert app.focused is view, f"the lesson's text should have the focus, not {app.focused}"
            assert view.scroll_y == 0
            await pilot.press("pagedown")
            await pilot.pause()
            assert view.scroll_y > 0, "Page Down should scroll the lesson without a Tab first"
            scrolled = view.scroll_y
            await pilot.press("down")
            await pilot.pause()
            assert view.scroll_y > scrolled, "the down arrow should scroll it too"

    asyncio.run(scenario())


def test_a_lesson_opened_from_the_sidebar_takes_the_focus(app):
    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            app.main.query_one(LessonTree).focus()
            await pilot.press("down", "enter")
            await pilot.pause()
            assert app.lesson_id == "data"
            assert app.focused is app.main.query_one(LessonView)

    asyncio.run(scenario())


def test_the_run_tab_gives_its_text_the_focus_and_1_gives_it_back_to_the_lesson(app):
    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            app.main.begin_run("cnn + adamw, 2 epoch(s)")
            for item in fixed_run():
                app.main.handle_run_item(item)
            await pilot.pause()
            pane = app.main.query_one(RunPane)
            assert app.focused is pane
            await pilot.press("pagedown")
            await pilot.pause()
            assert pane.scroll_y > 0, "Page Down should scroll the run tab at once"
            await pilot.press("1")
            await pilot.pause()
            assert app.focused is app.main.query_one(LessonView)
            await pilot.press("2")
            await pilot.pause()
            assert app.focused is pane

    asyncio.run(scenario())


def test_switching_tabs_moves_the_focus_without_rebuilding_the_key_bar(app):
    """Textual rebuilds its footer on every move of the focus; the keys shown stay the same, so this one is kept."""
    from textual.widgets._footer import FooterKey

    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            keys = list(app.main.query(FooterKey))
            await pilot.press("2", "1", "2")
            await pilot.pause()
            assert app.focused is app.main.query_one(RunPane)
            assert list(app.main.query(FooterKey)) == keys and keys

    asyncio.run(scenario())


def test_hiding_the_focused_sidebar_gives_the_focus_to_the_text(app):
    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            app.main.query_one(LessonTree).focus()
            await pilot.press("s")
            await pilot.pause()
            assert app.focused is app.main.query_one(LessonView)

    asyncio.run(scenario())


@pytest.mark.parametrize("theme", [DARK, LIGHT])
def test_the_focused_part_of_the_screen_is_marked(app, theme):
    """A bar left of the focused text pane, the focused sidebar's edge and the focused tab bar's active tab, in the focus colour."""
    from textual.widgets import Tabs

    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            app.theme = theme
            await pilot.press("]")
            await pilot.pause()
            view, sidebar = app.main.query_one(LessonView), app.main.query_one(LessonTree)
            bar_column = view.region.x
            edge, color = view.styles.border_left
            assert edge == "outer" and stands_out(color, app)
            assert all(line[bar_column] == "▌" for line in screen_text(app)[view.region.y:view.region.bottom]), \
                "the focused lesson should have a bar down its left"
            focused_sidebar_edge = None
            for widget in (sidebar, app.main.query_one(Tabs)):
                widget.focus()
                await pilot.pause()
                assert view.styles.border_left[0] == "blank"
                assert all(line[bar_column] == " " for line in screen_text(app)[view.region.y:view.region.bottom])
                if widget is sidebar:
                    focused_sidebar_edge = sidebar.styles.border_right
                    assert stands_out(focused_sidebar_edge[1], app)
            assert sidebar.styles.border_right != focused_sidebar_edge, "the sidebar's edge should lose the focus colour"
            tabs = app.main.query_one(Tabs)
            active = tabs.active_tab
            assert active is not None
            focused_look = active.rich_style
            view.focus()
            await pilot.pause()
            assert active.rich_style != focused_look, "the active tab should look different when the tab bar has the focus"

    asyncio.run(scenario())


def fence_text(fence) -> str:
    """What a code block shows, its rows joined, runs of spaces as one (a wrapped line reads on in the next row)."""
    label = fence.query_one(Label)
    rows = label.render_lines(Region(0, 0, *label.outer_size))
    return " ".join(" ".join(row.text.split()) for row in rows if row.text.strip())


def test_a_code_line_wider_than_the_pane_wraps_and_keeps_its_result(app):
    """At 80x24 with the sidebar, the stack lesson's `print(x.at[0].set(10.0))  # prints: ...` is read to its end."""
    from textual.widgets._markdown import MarkdownFence

    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            view = app.main.query_one(LessonView)
            assert view.lesson.id == "stack"
            fences = list(view.query(MarkdownFence))
            (fence,) = [f for f in fences if "x.at[0].set(10.0)" in f.code]
            line = next(line for line in fence.code.splitlines() if "x.at[0].set(10.0)" in line)
            assert "# prints:" in line and len(line) > fence.size.width, "the line should be wider than the pane"
            view.scroll_to_widget(fence, animate=False, top=True)
            await pilot.pause()
            x, right = fence.region.x, fence.region.right
            shown = " ".join(" ".join(row[x:right].split()) for row in screen_text(app)[fence.region.y:fence.region.bottom])
            assert " ".join(line.split()) in shown, f"{line!r} is cut on screen: {shown!r}"
            for each in view.query(LessonPage).first().query(MarkdownFence):
                for code_line in each.code.splitlines():
                    assert " ".join(code_line.split()) in fence_text(each), f"{code_line!r} is cut"

    asyncio.run(scenario())


def lesson_title_drawn(app: MnistkitApp, lesson_id: str) -> bool:
    """Whether the lesson pane shows the lesson's first heading."""
    lesson = app.curriculum.get(lesson_id)
    assert lesson is not None
    title = next(line[2:].strip() for line in lesson.body.splitlines() if line.startswith("# "))
    x = app.main.query_one(LessonView).region.x
    return any(title in line[x:] for line in screen_text(app))


async def key_to_screen(app: MnistkitApp, key: str, drawn, limit: float = 5.0) -> float:
    """Seconds from a key event to ``drawn()`` holding of the screen (Pilot's own waiting left out)."""
    start = time.perf_counter()
    app.post_message(events.Key(key, None))
    while not drawn():
        assert time.perf_counter() - start < limit, f"{key} had no effect in {limit} s"
        await asyncio.sleep(0.002)
    return time.perf_counter() - start


def pages_of(view: LessonView, lesson_id: str) -> list[LessonPage]:
    return [page for page in view.query(LessonPage) if page.lesson is not None and page.lesson.id == lesson_id]


def test_the_next_lesson_is_built_while_reading_so_next_is_quick(app):
    """] only swaps in the page built while the learner read the last one, in about the time of other keys."""

    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            view = app.main.query_one(LessonView)
            for following in SHIPPED[1:4]:
                await wait_for(pilot, partial(pages_of, view, following), what=f"the page of {following} to be built ahead")
                await pilot.pause(0.5)
                (built,) = pages_of(view, following)
                assert not built.display, "the page built ahead should be out of sight"
                await key_to_screen(app, "right_square_bracket", partial(lesson_title_drawn, app, following))
                assert app.lesson_id == following and built.display, "] should show the page built ahead"
                assert view.query(LessonPage).first() is built, "the page shown comes first"
            assert len(view.query(LessonPage)) <= PAGES_KEPT + 1

    asyncio.run(scenario())  # how quickly: benchmarks/tui.py (a slow CI machine should not fail the suite)


def test_a_resize_back_to_80x24_settles_at_once(app, monkeypatch):
    """The breakpoint classes come before the layout: the lesson is never laid out beside a 100-column sidebar."""
    widths: list[int] = []
    monkeypatch.setattr(LessonView, "on_resize", lambda view, event: widths.append(event.size.width), raising=False)

    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.resize_terminal(100, 30)
            await pilot.pause(0.3)
            sidebar, view = app.main.query_one(LessonTree), app.main.query_one(LessonView)
            assert {"-medium", "-tall"} <= app.main.classes and sidebar.outer_size.width == 30
            widths.clear()
            start = time.perf_counter()
            app.post_message(events.Resize(Size(80, 24), Size(80, 24)))
            while not (screen_text(app)[2].find("▕") == 23 and len(screen_text(app)[2]) == 80):
                assert time.perf_counter() - start < 5, "the 80x24 layout did not show in 5 s"
                await asyncio.sleep(0.002)
            await pilot.pause(0.2)
            assert {"-narrow", "-short"} <= app.main.classes and not {"-medium", "-tall"} & app.main.classes
            assert sidebar.outer_size.width == 24 and view.outer_size.width == 56
            assert 50 not in widths, "the lesson was laid out with the old size's 30-column sidebar"

    asyncio.run(scenario())  # how quickly: benchmarks/tui.py


def test_the_sidebar_lists_the_lessons_mnistkit_lessons_lists_with_plugin_titles_that_fit(data_isolated_env, capsys):
    """One loader for both: the same lessons in the same order; a plugin lesson's title loses its "Model plugin:"."""
    from mnistkit.cli import main
    from mnistkit.host.loading import load_registry

    assert main(["lessons", "--json"]) == 0
    listed = [lesson["id"] for lesson in json.loads(capsys.readouterr().out)]
    app = MnistkitApp(load_registry())

    async def scenario():
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            tree = app.main.query_one(LessonTree)
            leaves, stack = [], list(reversed(tree.root.children))
            while stack:
                node = stack.pop()
                if node.data is not None:
                    leaves.append((node.data, str(node.label)))
                stack.extend(reversed(node.children))
            assert [lesson_id for lesson_id, _ in leaves] == listed
            titles = dict(leaves)
            assert "speedrun, 99% in under one epoch" in titles["plugin-speedrun"]
            assert not any("plugin:" in label for label in titles.values()), titles

    asyncio.run(scenario())
