"""``mnistkit board [RUNS]``: TensorBoard on the runs folder, or one line on how to get it.

Every run writes its curves for TensorBoard (``RUN_DIR/tensorboard/``, with
tensorboardX); TensorBoard itself is the ``[tensorboard]`` extra, since it
is large and many users never open it.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys

from mnistkit.cli import common
from mnistkit.errors import ConfigError

INSTALL = "pip install 'mnistkit[tensorboard]'"


def add_to(commands) -> None:
    board = commands.add_parser("board", help="open TensorBoard on the runs folder ([tensorboard] extra)",
                                description="Start TensorBoard on a folder of runs (default: where `mnistkit run` "
                                            f"puts them, $MNISTKIT_RUNS_DIR or ./runs). TensorBoard is an extra: {INSTALL}.")
    board.add_argument("runs", nargs="?", default=None, help="folder of runs, or one run folder (default: ./runs)")
    board.add_argument("--port", type=port, default=6006, help="port to serve on (default: 6006)")
    board.set_defaults(handler=cmd_board)


def port(text: str) -> int:
    number = common.positive_int(text)
    if number > 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 1 to 65535, got {text}")
    return number


def board_command(runs: str | None, port: int) -> list[str]:
    """The TensorBoard command for ``runs``; ``ConfigError`` if TensorBoard is missing or there is nothing to show."""
    from mnistkit import environment

    folder = environment.runs_dir(runs)
    if not folder.is_dir():
        raise ConfigError(f"{folder} is not a folder of runs; train one with `mnistkit run`, or pass the folder")
    if not any(folder.rglob("events.out.tfevents.*")):
        raise ConfigError(f"{folder} holds no TensorBoard logs yet; train a run with `mnistkit run` first")
    if importlib.util.find_spec("tensorboard") is None:
        raise ConfigError(f"TensorBoard is not installed: {INSTALL}, then run `mnistkit board` again")
    return [sys.executable, "-m", "tensorboard.main", "--logdir", str(folder), "--port", str(port)]


def cmd_board(args: argparse.Namespace) -> int:
    command = board_command(args.runs, args.port)
    print(f"TensorBoard on {command[4]}: http://localhost:{args.port}/ (Ctrl-C stops it)", flush=True)
    server = subprocess.Popen(command)
    try:
        return server.wait()
    except KeyboardInterrupt:  # the terminal sent Ctrl-C to TensorBoard too: let it shut down
        server.wait()
        return 0
