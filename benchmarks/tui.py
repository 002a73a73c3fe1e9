"""How quickly the TUI answers the keys a learner presses, at 80x24.

    python benchmarks/tui.py [--data-dir ../shared/data/mnist] [--repeat 6] [--json out.json]

Each figure is the time from the event (a key, or a resize) to the screen
showing its effect, read off the rendered screen, with Textual's test Pilot
(headless, so the terminal's own drawing is left out):

- ``tab key while training``: 1 and 2 switch tabs while a CNN trains on real
  MNIST in the worker (the JAX step runs in another thread; the TUI must stay
  quick meanwhile). Target: 0.1 s.
- ``] next lesson``: the next lesson's heading is drawn (the page was built
  while the learner read the last one). Target: 0.35 s.
- ``resize to 80x24``: from 100x30 back to 80x24, the narrow layout is drawn
  (the 24-column sidebar). Target: 0.5 s.

The tests check that these things happen (and that no key takes seconds); the
numbers belong here, where a slow machine does not fail the suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {"tab key while training": 0.1, "] next lesson": 0.35, "resize to 80x24": 0.5}
MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def screen_text(app) -> list[str]:
    return [strip.text for strip in app.screen._compositor.render_strips()]


async def until(condition, limit: float = 10.0) -> float:
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > limit:
            raise SystemExit(f"the screen did not change within {limit:.0f} s")
        await asyncio.sleep(0.002)
    return time.perf_counter() - start


def heading_of(app, lesson_id: str) -> str:
    lesson = app.curriculum.get(lesson_id)
    return next(line[2:].strip() for line in lesson.body.splitlines() if line.startswith("# "))


async def measure(data_dir: Path, repeat: int) -> dict[str, list[float]]:
    from textual import events
    from textual.geometry import Size
    from textual.widgets import TabbedContent

    from mnistkit.host.loading import load_registry
    from mnistkit.tui.app import MnistkitApp
    from mnistkit.tui.widgets.jit_panel import JitPanel
    from mnistkit.tui.widgets.lesson_view import LessonPage, LessonView

    app = MnistkitApp(load_registry([], []), data="idx", data_dir=str(data_dir))
    seconds: dict[str, list[float]] = {name: [] for name in TARGETS}
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.main.query_one(LessonView)
        await until(lambda: app.lesson_id is not None)
        order = [lesson.id for lesson in app.curriculum.ordered()]
        for _ in range(repeat):  # ] to a page built ahead, as while reading
            following = order[order.index(app.lesson_id) + 1]
            await until(lambda following=following: any(page.lesson is not None and page.lesson.id == following
                                                        for page in view.query(LessonPage)), limit=30)
            await pilot.pause(0.5)
            title = heading_of(app, following)
            start = time.perf_counter()
            app.post_message(events.Key("right_square_bracket", None))
            await until(lambda title=title: any(title in line[view.region.x:] for line in screen_text(app)))
            seconds["] next lesson"].append(time.perf_counter() - start)
        for _ in range(repeat):
            await pilot.resize_terminal(100, 30)
            await pilot.pause(0.5)
            start = time.perf_counter()
            app.post_message(events.Resize(Size(80, 24), Size(80, 24)))
            await until(lambda: screen_text(app)[2].find("▕") == 23 and len(screen_text(app)[2]) == 80)
            seconds["resize to 80x24"].append(time.perf_counter() - start)
            await pilot.resize_terminal(80, 24)
        await pilot.press("g")
        await until(lambda: app.main.query_one(JitPanel).step_seconds is not None, limit=300)
        tabs = app.main.query_one(TabbedContent)
        for key in "12" * repeat:
            wanted = "lesson-tab" if key == "1" else "run-tab"
            start = time.perf_counter()
            app.post_message(events.Key(key, key))
            await until(lambda wanted=wanted: tabs.active == wanted)
            seconds["tab key while training"].append(time.perf_counter() - start)
            await asyncio.sleep(0.1)
        await pilot.press("x")
        await until(lambda: not app.main.running, limit=60)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(MNIST), help="folder with the four MNIST IDX .gz files")
    parser.add_argument("--repeat", type=int, default=6)
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    if not Path(args.data_dir, "train-images-idx3-ubyte.gz").is_file():
        print(f"no MNIST files in {args.data_dir}; pass --data-dir", file=sys.stderr)
        return 2
    os.environ.setdefault("MNISTKIT_HOME", tempfile.mkdtemp(prefix="mnistkit-tui-bench-"))  # no progress touched
    seconds = asyncio.run(measure(Path(args.data_dir), args.repeat))
    rows = [{"what": name, "median_s": statistics.median(times), "max_s": max(times), "target_s": TARGETS[name],
             "meets_target": statistics.median(times) < TARGETS[name], "n": len(times)} for name, times in seconds.items()]
    print(f"{'at 80x24, event to screen':<26} {'median s':>9} {'max s':>7} {'target':>7}  met")
    for row in rows:
        print(f"{row['what']:<26} {row['median_s']:>9.3f} {row['max_s']:>7.3f} {row['target_s']:>7.2f}  "
              f"{'yes' if row['meets_target'] else 'NO'}")
    text = json.dumps({"rows": rows}, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
