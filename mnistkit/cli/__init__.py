"""The ``mnistkit`` command line: one module per command group, each "parse, call the library, print".

Only the standard library is imported at start-up, so ``mnistkit --help`` is
instant; each command imports what it needs. User mistakes surface as
``MnistkitError`` and become one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import atexit
import os
import sys
from collections.abc import Sequence

from mnistkit.cli import board, common, completion, data, exercises, lessons, plugins, run, trained, tui
from mnistkit.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE
from mnistkit.errors import MnistkitError

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_USAGE", "build_parser", "command", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = common.Parser(prog="mnistkit",
                           description="Learn, teach and hack on training an MNIST classifier with JAX and Flax NNX.")
    parser.add_argument("--version", action=common.VersionAction,
                        help="show the versions of mnistkit, jax, jaxlib, flax, optax and Python, and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=common.Parser)
    run.add_to(commands)
    data.add_to(commands)
    plugins.add_to(commands)
    trained.add_to(commands)
    tui.add_to(commands)
    lessons.add_to(commands)
    exercises.add_to(commands)
    board.add_to(commands)
    completion.add_to(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.handler(args)
    except MnistkitError as exc:
        print(f"mnistkit: error: {exc}", file=sys.stderr)
        if getattr(args, "verbose", False) and exc.__cause__ is not None:
            import traceback

            traceback.print_exception(exc.__cause__, file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("mnistkit: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def command() -> int:
    """Entry point of the ``mnistkit`` command: ``main`` that owns its process.

    After ``main`` returns, the output is flushed and the exit handlers run
    (JAX's among them, and mnistkit's clean-up of a failed checkpoint), then
    the process ends at once: the interpreter's own teardown of JAX,
    TensorFlow and their threads takes most of a second after a run and
    changes nothing on disk or on the screen.
    """
    common.as_command = True
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`mnistkit lessons | head`): nothing left to say
            pass
    atexit._run_exitfuncs()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(command())
