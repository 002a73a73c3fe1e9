"""``mnistkit tui``: the terminal UI, over the same plugins and curriculum as the other commands."""

from __future__ import annotations

import argparse
import sys

from mnistkit.cli import common


def add_to(commands) -> None:
    tui = commands.add_parser("tui", help="open the terminal UI: lessons, live training, plugins",
                              description="Walk the lessons and train models with live charts, digits and jit timings. Press ? inside for the keys.")
    tui.add_argument("--data", choices=("auto", "idx", "mnist", "sample"), default="auto",
                     help="data source for training (default: auto; changeable in the app)")
    tui.add_argument("--data-dir", default=None, help="folder with the four MNIST IDX .gz files (also MNISTKIT_DATA_DIR)")
    tui.add_argument("--out", default=None, help="folder for run directories (default: ./runs, or MNISTKIT_RUNS_DIR)")
    common.add_plugin_options(tui)
    tui.set_defaults(handler=cmd_tui)


def cmd_tui(args: argparse.Namespace) -> int:
    from mnistkit.errors import ConfigError
    from mnistkit.host.loading import load_registry

    if args.data_dir is not None and args.data != "sample":
        from mnistkit.data.sources import check_idx_dir

        check_idx_dir(args.data_dir, origin="--data-dir")  # said now, in one line, not at the first training
    missing = [name for name, stream in (("stdin", sys.stdin), ("stdout", sys.stdout)) if not _is_terminal(stream)]
    if missing:
        raise ConfigError(f"mnistkit tui needs a terminal, but its {' and '.join(missing)} "
                          f"{'is' if len(missing) == 1 else 'are'} not one; run it in a terminal, or use "
                          "`mnistkit run` and `mnistkit lessons` in scripts")
    print("Loading plugins...", end="", file=sys.stderr, flush=True)
    try:
        registry = load_registry(args.plugin, args.disable_plugin)
        from mnistkit.curriculum.progress import Progress
        from mnistkit.tui.app import MnistkitApp

        progress = Progress()
        # A learner who has never opened a lesson starts with the first-ten-minutes steps (w opens them again).
        app = MnistkitApp(registry, progress, data=args.data, data_dir=args.data_dir, runs_dir=args.out,
                          welcome=progress.last_lesson() is None)
    finally:
        print(CLEAR_LINE, end="", file=sys.stderr, flush=True)  # the terminal is left as it was found
    app.run()
    return 0


CLEAR_LINE = "\r\x1b[K"
"""Back to the start of the line and erase it: the "Loading plugins..." note goes before the app starts."""


def _is_terminal(stream) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):  # no stream at all, or a closed one
        return False
