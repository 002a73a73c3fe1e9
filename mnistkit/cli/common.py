"""What every command shares: argument types, plugin options, the consoles, plugin problems.

Only the standard library at import, so ``mnistkit --help`` stays instant.
"""

from __future__ import annotations

import argparse
import math

from mnistkit.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_USAGE"]

as_command = False
"""True when running as the ``mnistkit`` command rather than ``main()`` called in-process."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line naming the problem and the fix."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def epochs(text: str) -> float:
    """Whole epochs (``10``) or a part of one more (``0.67``: two thirds of an epoch)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of epochs such as 10 or 0.5, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return int(value) if value.is_integer() else value


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def positive_int(text: str) -> int:
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def seed(text: str) -> int:
    """A seed from 0 to 4294967295 (``RunConfig``'s range), said in one line otherwise."""
    from mnistkit.runs.config import MAX_SEED

    value = _whole(text)
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be from 0 to {MAX_SEED}, got {text}")
    return value


def add_plugin_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--plugin", action="append", default=[], metavar="PATH_OR_MODULE",
                        help="load a plugin from a .py file or module (repeatable; also MNISTKIT_PLUGINS)")
    parser.add_argument("--disable-plugin", action="append", default=[], metavar="NAME",
                        help="skip a plugin by name (repeatable; also MNISTKIT_DISABLE_PLUGINS)")
    parser.add_argument("--verbose", action="store_true", help="show tracebacks for plugin problems")


def add_data_options(parser: argparse.ArgumentParser, default_help: str = "auto") -> None:
    parser.add_argument("--data", choices=("auto", "idx", "mnist", "sample"), default=None,
                        help=f"data source (default: {default_help}): auto tries --data-dir/MNISTKIT_DATA_DIR, "
                             "prepared tfds mnist, a tfds download, then the bundled sample")
    parser.add_argument("--data-dir", default=None, help="folder with the four MNIST IDX .gz files (also MNISTKIT_DATA_DIR)")


def console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def notifier(err=None):
    """A ``notify`` callback that prints each message in yellow on stderr (on ``err``, a console, if given)."""
    from rich.markup import escape

    err = err or console(stderr=True)
    return lambda message: err.print(f"[yellow]{escape(message)}[/]", soft_wrap=True)


def load_plugins(args: argparse.Namespace):
    """The plugin registry for ``--plugin`` and ``--disable-plugin``, its problems printed on stderr."""
    from mnistkit.host.loading import load_registry

    registry = load_registry(getattr(args, "plugin", ()), getattr(args, "disable_plugin", ()))
    report_problems(registry, getattr(args, "verbose", False))
    return registry


def report_problems(registry, verbose: bool) -> None:
    """One line per plugin problem on stderr; ``--verbose`` adds each traceback."""
    from rich.markup import escape

    err = console(stderr=True)
    for problem in registry.problems:
        err.print(f"[yellow]warning:[/] {escape(str(problem))}", soft_wrap=True)
        if verbose and problem.details:
            err.print(problem.details, markup=False, soft_wrap=True)


VERSIONED = ("jax", "jaxlib", "flax", "optax")
"""The packages ``mnistkit --version`` names after mnistkit, in that order, then Python."""


def versions() -> list[tuple[str, str]]:
    """mnistkit's version, each of ``VERSIONED`` with its installed one (or "not installed"), then Python's.

    Read from package metadata, so nothing is imported: ``--version`` stays
    instant and works when JAX itself is broken.
    """
    import platform
    from importlib import metadata

    from mnistkit import __version__

    found = [("mnistkit", __version__)]
    for name in VERSIONED:
        try:
            found.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            found.append((name, "not installed"))
    return [*found, ("Python", platform.python_version())]


class VersionAction(argparse.Action):
    """``--version``: one line per package of ``versions()`` on stdout (as argparse's own does), then exit 0."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        print("".join(f"{name} {version}\n" for name, version in versions()), end="")
        parser.exit(0)
