"""The ``mnistkit`` command line.

This module imports only the standard library at start-up so that
``mnistkit --help`` is instant; each command imports what it needs.
User mistakes surface as ``MnistkitError`` and become one line on stderr and
exit code 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from mnistkit import __version__
from mnistkit.errors import MnistkitError

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line naming the problem and the fix."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _add_plugin_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--plugin", action="append", default=[], metavar="PATH_OR_MODULE",
                        help="load a plugin from a .py file or module (repeatable; also MNISTKIT_PLUGINS)")
    parser.add_argument("--disable-plugin", action="append", default=[], metavar="NAME",
                        help="skip a plugin by name (repeatable; also MNISTKIT_DISABLE_PLUGINS)")
    parser.add_argument("--verbose", action="store_true", help="show tracebacks for plugin problems")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mnistkit", description="Learn, teach and hack on training an MNIST classifier with JAX and Flax NNX.")
    parser.add_argument("--version", action="version", version=f"mnistkit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = commands.add_parser("run", help="train a model and write a run directory",
                              description="Train a model on MNIST with live progress; writes config, metrics, plots and TensorBoard logs to a run directory.")
    run.add_argument("--model", default="cnn", help="model plugin name (default: cnn; see `mnistkit plugins`)")
    run.add_argument("--optimizer", default="adamw", help="optimizer plugin name (default: adamw)")
    run.add_argument("--model-opt", action="append", default=[], metavar="KEY=VALUE", help="model option (repeatable)")
    run.add_argument("--optimizer-opt", action="append", default=[], metavar="KEY=VALUE", help="optimizer option (repeatable)")
    run.add_argument("--epochs", type=_positive_int, default=10, help="passes over the training set (default: 10)")
    run.add_argument("--batch-size", type=_positive_int, default=32, help="images per train step (default: 32)")
    run.add_argument("--learning-rate", type=_positive_float, default=0.005, help="default: 0.005")
    run.add_argument("--seed", type=int, default=0, help="random seed for parameters and data order (default: 0)")
    run.add_argument("--data", choices=("auto", "idx", "mnist", "sample"), default="auto",
                     help="data source: auto (default) tries --data-dir/MNISTKIT_DATA_DIR, prepared tfds mnist, a tfds download, then the bundled sample")
    run.add_argument("--data-dir", default=None, help="folder with the four MNIST IDX .gz files (also MNISTKIT_DATA_DIR)")
    run.add_argument("--out", default="runs", help="folder for run directories (default: ./runs)")
    run.add_argument("--json", action="store_true", help="print one JSON object per event instead of progress bars")
    _add_plugin_options(run)
    run.set_defaults(handler=cmd_run)

    data = commands.add_parser("data", help="see and import MNIST data", description="See which MNIST data is available and import the original files.")
    data_commands = data.add_subparsers(dest="data_command", metavar="ACTION", parser_class=_Parser, required=True)
    status = data_commands.add_parser("status", help="what data is available, where, how big")
    status.set_defaults(handler=cmd_data_status)
    imp = data_commands.add_parser("import", help="verify the four MNIST .gz files and prepare them for offline use",
                                   description="Verify the four original MNIST files (size and SHA-256) and prepare the tfds 'mnist' dataset offline, so tfds.load('mnist') and mnistkit work with no network.")
    imp.add_argument("dir", help="folder holding train/t10k images/labels idx .gz files")
    imp.add_argument("--tfds-data-dir", default=None, help="tfds data folder (default: TFDS_DATA_DIR or ~/tensorflow_datasets)")
    imp.set_defaults(handler=cmd_data_import)

    plugins = commands.add_parser("plugins", help="list plugins and what they provide")
    plugins.add_argument("--json", action="store_true", help="print JSON")
    _add_plugin_options(plugins)
    plugins.set_defaults(handler=cmd_plugins)
    return parser


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def _report_problems(registry, verbose: bool) -> None:
    err = _console(stderr=True)
    for problem in registry.problems:
        err.print(f"[yellow]warning:[/] {problem}")
        if verbose and problem.details:
            err.print(problem.details, markup=False)


def cmd_run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from mnistkit.plugins import load_registry
    from mnistkit.runner import RunConfig, check_batch_fits, check_numbers, check_writable
    from mnistkit.specs import parse_options

    config = RunConfig(
        model=args.model, optimizer=args.optimizer, epochs=args.epochs, batch_size=args.batch_size,
        learning_rate=args.learning_rate, seed=args.seed, data=args.data,
        data_dir=args.data_dir or os.environ.get("MNISTKIT_DATA_DIR") or None,
    )
    check_numbers(config)
    out = Path(args.out)
    check_writable(out)

    registry = load_registry(args.plugin, args.disable_plugin)
    _report_problems(registry, args.verbose)
    model_spec = registry.model(config.model)
    optimizer_spec = registry.optimizer(config.optimizer)
    config = replace(
        config,
        model_options=parse_options("model", model_spec, args.model_opt),
        optimizer_options=parse_options("optimizer", optimizer_spec, args.optimizer_opt),
    )

    from mnistkit.data import load_mnist

    err = _console(stderr=True)
    data = load_mnist(config.data, args.data_dir, notify=lambda msg: err.print(f"[yellow]{msg}[/]"))
    check_batch_fits(config, len(data.train_images))
    return _train(config, model_spec, optimizer_spec, data, out, args.json)


def _train(config, model_spec, optimizer_spec, data, out: Path, as_json: bool) -> int:
    from mnistkit import engine
    from mnistkit.console import ConsoleView, JsonView
    from mnistkit.rundir import RunRecorder, default_run_dir
    from mnistkit.runner import build_model, build_optimizer

    model = build_model(model_spec, config.model_options, config.seed)
    tx = build_optimizer(optimizer_spec, config.learning_rate, config.optimizer_options)
    recorder = RunRecorder(default_run_dir(out, config.model), config.to_dict())
    recorder.create()
    console = _console()
    err = _console(stderr=True)
    view = JsonView() if as_json else ConsoleView(console, config.epochs)
    settings = engine.Settings(epochs=config.epochs, batch_size=config.batch_size, seed=config.seed)
    try:
        with view:
            for event in engine.train(model, tx, data, settings, config.to_dict()):
                recorder.handle(event)
                view.handle(event)
    except KeyboardInterrupt:
        recorder.close("interrupted")
        err.print(f"Interrupted. What finished so far is saved in {recorder.path}")
        return EXIT_INTERRUPTED
    except BaseException:
        recorder.close("failed")
        raise
    recorder.close("completed")
    (err if as_json else console).print(f"Run saved in [bold]{recorder.path}[/] (curves.png, predictions.png, metrics.csv)")
    return 0


def cmd_data_status(args: argparse.Namespace) -> int:
    from mnistkit.data import data_status

    console = _console()
    for row in data_status():
        mark = "[green]available[/]" if row["available"] else "[dim]not available[/]"
        used = "  [bold](used by --data auto)[/]" if row.get("auto") else ""
        console.print(f"[bold]{row['source']}[/]: {mark}{used}")
        if row.get("where"):
            console.print(f"  where: {row['where']}", soft_wrap=True)
        if row.get("train"):
            size = f", {row['bytes'] / 1e6:.1f} MB" if row.get("bytes") else ""
            console.print(f"  images: {row['train']:,} train, {row['test']:,} test{size}")
        if row.get("detail"):
            console.print(f"  {row['detail']}")
    return 0


def cmd_data_import(args: argparse.Namespace) -> int:
    from mnistkit.data import import_idx_dir

    console = _console()
    import_idx_dir(args.dir, tfds_data_dir=args.tfds_data_dir, notify=console.print)
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    import json

    from mnistkit.plugins import load_registry

    registry = load_registry(args.plugin, args.disable_plugin)
    rows = []
    for kind, table in (("model", registry.models), ("optimizer", registry.optimizers)):
        for name, spec in sorted(table.items()):
            rows.append({"name": name, "kind": kind, "plugin": registry.owners[(kind, name)], "lesson": spec.lesson, "description": spec.description})
    if args.json:
        print(json.dumps({
            "plugins": [p.__dict__ for p in registry.plugins],
            "provides": rows,
            "problems": [{"plugin": p.plugin, "message": p.message} for p in registry.problems],
        }, indent=2))
        return 0
    from rich.table import Table

    table = Table("name", "kind", "plugin", "lesson", "description")
    for row in rows:
        table.add_row(row["name"], row["kind"], row["plugin"], row["lesson"], row["description"])
    console = _console()
    console.print(table)
    sources = Table("plugin", "from", "version", "loaded")
    for p in registry.plugins:
        sources.add_row(p.name, p.source, p.version, "yes" if p.loaded else "[red]no[/]")
    console.print(sources)
    _report_problems(registry, args.verbose)
    return 0


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
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("mnistkit: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
