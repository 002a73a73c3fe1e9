"""The ``mnistkit`` command line.

This module imports only the standard library at start-up so that
``mnistkit --help`` is instant; each command imports what it needs.
User mistakes surface as ``MnistkitError`` and become one line on stderr and
exit code 2.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from mnistkit import __version__
from mnistkit.errors import MnistkitError, PluginError

EXIT_FAILED = 1
_AS_COMMAND = False
"""True when running as the ``mnistkit`` command rather than ``main()`` called in-process."""
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line naming the problem and the fix."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _epochs(text: str) -> float:
    """Whole epochs (``10``) or a part of one more (``0.67``: two thirds of an epoch)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of epochs such as 10 or 0.5, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be above 0, got {text}")
    return int(value) if value.is_integer() else value


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
    run.add_argument("--model", default=None, help="model plugin name (default: cnn; see `mnistkit plugins`)")
    run.add_argument("--optimizer", default=None, help="optimizer plugin name (default: adamw)")
    run.add_argument("--model-opt", action="append", default=[], metavar="KEY=VALUE", help="model option (repeatable)")
    run.add_argument("--optimizer-opt", action="append", default=[], metavar="KEY=VALUE", help="optimizer option (repeatable)")
    run.add_argument("--epochs", type=_epochs, default=None,
                     help="passes over the training set; 2.5 trains half of a third epoch "
                          "(default: 10; with --resume: the run's, or more to extend it)")
    run.add_argument("--batch-size", type=_positive_int, default=None, help="images per train step (default: 32)")
    run.add_argument("--learning-rate", type=_positive_float, default=None,
                     help="peak learning rate (default: the optimizer's own, 0.005 for adamw)")
    run.add_argument("--recipe", default=None, metavar="NAME",
                     help="fill in every option you do not give from a recipe: tutorial or speedrun (99%% in under an epoch)")
    run.add_argument("--label-smoothing", type=float, default=None, metavar="EPS",
                     help="spread EPS of each target's probability over all classes (default: 0)")
    run.add_argument("--schedule", choices=("constant", "warmup-cosine", "one-cycle"), default=None,
                     help="learning-rate schedule over the run, for any optimizer (default: constant)")
    run.add_argument("--warmup-epochs", type=float, default=1.0, metavar="N",
                     help="epochs of linear warmup for --schedule warmup-cosine (default: 1)")
    run.add_argument("--metric", action="append", default=[], metavar="NAME",
                     help="extra metric plugin, e.g. confusion, top2, ece (repeatable; accuracy and loss are always on)")
    run.add_argument("--seed", type=int, default=0, help="random seed for parameters and data order (default: 0)")
    run.add_argument("--data", choices=("auto", "idx", "mnist", "sample"), default="auto",
                     help="data source: auto (default) tries --data-dir/MNISTKIT_DATA_DIR, prepared tfds mnist, a tfds download, then the bundled sample")
    run.add_argument("--data-dir", default=None, help="folder with the four MNIST IDX .gz files (also MNISTKIT_DATA_DIR)")
    run.add_argument("--out", default="runs", help="folder for run directories (default: ./runs)")
    run.add_argument("--json", action="store_true", help="print one JSON object per event instead of progress bars")
    run.add_argument("--resume", metavar="RUN_DIR", default=None,
                     help="continue a stopped run from its newest checkpoint, with its own settings (--epochs N extends it)")
    run.add_argument("--engine", choices=("fast", "tutorial"), default="fast",
                     help="fast (default): data on the device, compiled steps; tutorial: the tutorial's tf.data loop")
    run.add_argument("--devices", type=_positive_int, default=None,
                     help="split each batch over this many local devices (default: all; with --distributed: "
                          "this many of every process)")
    run.add_argument("--dtype", choices=("float32", "bfloat16"), default=None,
                     help="compute dtype; bfloat16 pays on GPUs and TPUs, parameters stay float32 (default: float32)")
    run.add_argument("--steps-per-dispatch", type=_positive_int, default=None,
                     help="train steps fused into one compiled call (default: chosen per backend and model)")
    several = run.add_argument_group(
        "several processes", "One run over the devices of several processes or machines (README: Several machines). "
        "Start the same command in every process; process 0 prints and writes the run folder and checkpoints. "
        "To resume, give --resume RUN_DIR with these options again; every process reads RUN_DIR, "
        "so it must be on a shared filesystem.")
    several.add_argument("--distributed", action="store_true",
                         help="join the other processes with jax.distributed (SLURM, Open MPI and Cloud TPU are "
                              "detected; elsewhere give the three options below)")
    several.add_argument("--coordinator", metavar="HOST:PORT", default=None,
                         help="process 0's address and a free port, the same in every process "
                              "(implies --distributed; default: JAX_COORDINATOR_ADDRESS or detected)")
    several.add_argument("--num-processes", type=_positive_int, metavar="N", default=None,
                         help="how many processes train together (implies --distributed)")
    several.add_argument("--process-id", type=int, metavar="I", default=None,
                         help="this process's number, 0 to N-1 (implies --distributed)")
    several.add_argument("--join-timeout", type=_positive_float, metavar="SECONDS", default=None,
                         help="how long to wait for the coordinator and for every process to join (default: 120)")
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
    plugins.add_argument("--check", action="store_true",
                         help="also build every model and optimizer and try every metric; exit 1 if any plugin has a problem")
    _add_plugin_options(plugins)
    plugins.set_defaults(handler=cmd_plugins)

    plugin = commands.add_parser("plugin", help="write a plugin, run the contract checks over one",
                                 description="Scaffold a plugin package, or run mnistkit's contract checks over a plugin. The guide: docs/plugins.md.")
    plugin_commands = plugin.add_subparsers(dest="plugin_command", metavar="ACTION", parser_class=_Parser, required=True)
    plugin_new = plugin_commands.add_parser("new", help="write a plugin package: pyproject, a model, its lesson, contract tests",
                                            description="Write the package mnistkit-NAME (pyproject.toml with the entry point, a model stub, a lesson stub, a test running every contract check). `pip install -e` it and run `pytest` there.")
    plugin_new.add_argument("name", help="plugin and model name: lowercase words joined by '-', e.g. tiny-cnn")
    plugin_new.add_argument("--dir", default=".", help="folder to create mnistkit-NAME in (default: here)")
    plugin_new.set_defaults(handler=cmd_plugin_new)
    plugin_check = plugin_commands.add_parser("check", help="run every contract check over a plugin (with pytest)",
                                              description="Run mnistkit's contract checks (mnistkit.testing) over an installed plugin or a .py plugin file; the same as `pytest --mnistkit-plugin NAME`.")
    plugin_check.add_argument("name", help="the plugin's name (see `mnistkit plugins`) or a .py plugin file")
    plugin_check.add_argument("--plugin", action="append", default=[], metavar="PATH_OR_MODULE", help="load another local plugin first (repeatable)")
    plugin_check.add_argument("-k", dest="keyword", default=None, help="only checks matching this pytest -k expression, e.g. 'model and learns'")
    plugin_check.set_defaults(handler=cmd_plugin_check)

    predict = commands.add_parser("predict", help="show a trained run's guesses on test digits or on your own digit",
                                  description="Load a run's newest checkpoint and show its guesses: a grid of test digits (terminal and PNG), or the probabilities for one digit image of yours.")
    predict.add_argument("--run", required=True, metavar="RUN_DIR", help="run folder made by `mnistkit run`")
    predict.add_argument("--image", metavar="PATH", help="a PNG (or other image) or .npy digit of any size; scaled and centred like MNIST")
    predict.add_argument("--count", type=_positive_int, default=25, help="test digits in the grid (default: 25; the PNG shows up to 25)")
    predict.add_argument("--out", metavar="PNG", help="where to write the grid (default: RUN_DIR/predict.png)")
    predict.add_argument("--data-dir", default=None, help="where the run's IDX data is now, if it moved")
    predict.add_argument("--json", action="store_true", help="print JSON")
    _add_plugin_options(predict)
    predict.set_defaults(handler=cmd_predict)

    evaluate = commands.add_parser("evaluate", help="recompute a trained run's test metrics from its checkpoint",
                                   description="Load a run's newest checkpoint, score every test image of the run's data again and compare with the run's history.")
    evaluate.add_argument("--run", required=True, metavar="RUN_DIR", help="run folder made by `mnistkit run`")
    evaluate.add_argument("--data-dir", default=None, help="where the run's IDX data is now, if it moved")
    evaluate.add_argument("--json", action="store_true", help="print JSON")
    _add_plugin_options(evaluate)
    evaluate.set_defaults(handler=cmd_evaluate)

    tui = commands.add_parser("tui", help="open the terminal UI: lessons, live training, plugins",
                              description="Walk the lessons and train models with live charts, digits and jit timings. Press ? inside for the keys.")
    tui.add_argument("--data", choices=("auto", "idx", "mnist", "sample"), default="auto",
                     help="data source for training (default: auto; changeable in the app)")
    tui.add_argument("--data-dir", default=None, help="folder with the four MNIST IDX .gz files (also MNISTKIT_DATA_DIR)")
    tui.add_argument("--out", default=None, help="folder for run directories (default: ./runs, or MNISTKIT_RUNS_DIR)")
    _add_plugin_options(tui)
    tui.set_defaults(handler=cmd_tui)

    lessons = commands.add_parser("lessons", help="list the lessons with your progress",
                                  description="List the curriculum in order, then the plugin lessons, each with your progress.")
    lessons.set_defaults(handler=cmd_lessons)
    lesson = commands.add_parser("lesson", help="show, run or reset one lesson",
                                 description="Read a lesson in the terminal, run its stage on real data, or start it over.")
    lesson_commands = lesson.add_subparsers(dest="lesson_command", metavar="ACTION", parser_class=_Parser, required=True)
    show = lesson_commands.add_parser("show", help="read a lesson in the terminal")
    show.add_argument("id", help="lesson id (see `mnistkit lessons`)")
    show.add_argument("--answers", action="store_true", help="show the answers of 'Check yourself'")
    show.set_defaults(handler=cmd_lesson_show)
    lesson_run = lesson_commands.add_parser("run", help="run the lesson's stage on real data and show the result",
                                            description="Run the lesson's stage, after the stages it builds on (a trained model is reused from the last `train` stage with the same settings).")
    lesson_run.add_argument("id", help="lesson id (see `mnistkit lessons`)")
    lesson_run.add_argument("--epochs", type=_positive_int, default=2, help="epochs for the train stage (default: 2)")
    lesson_run.add_argument("--batch-size", type=_positive_int, default=32, help="default: 32")
    lesson_run.add_argument("--learning-rate", type=_positive_float, default=None, help="default: the optimizer's (0.005 for adamw)")
    lesson_run.add_argument("--seed", type=int, default=0, help="default: 0")
    lesson_run.add_argument("--model", default=None, help="model plugin (default: cnn, or the one a plugin lesson teaches)")
    lesson_run.add_argument("--optimizer", default=None, help="optimizer plugin (default: adamw, or the one a plugin lesson teaches)")
    lesson_run.add_argument("--data", choices=("auto", "idx", "mnist", "sample"), default="auto", help="data source (default: auto)")
    lesson_run.add_argument("--data-dir", default=None, help="folder with the four MNIST IDX .gz files (also MNISTKIT_DATA_DIR)")
    lesson_run.set_defaults(handler=cmd_lesson_run)
    reset = lesson_commands.add_parser("reset", help="mark a lesson not started and forget its stage's saved results")
    reset.add_argument("id", help="lesson id (see `mnistkit lessons`)")
    reset.set_defaults(handler=cmd_lesson_reset)
    return parser


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def _report_problems(registry, verbose: bool) -> None:
    """One line per plugin problem on stderr; ``--verbose`` adds each traceback."""
    from rich.markup import escape

    err = _console(stderr=True)
    for problem in registry.problems:
        err.print(f"[yellow]warning:[/] {escape(str(problem))}", soft_wrap=True)
        if verbose and problem.details:
            err.print(problem.details, markup=False, soft_wrap=True)


def cmd_run(args: argparse.Namespace) -> int:
    if not (args.distributed or args.coordinator or args.num_processes or args.process_id is not None):
        return _run(args)
    from mnistkit.engine import distributed

    timeout = {"join_timeout": args.join_timeout} if args.join_timeout else {}
    distributed.initialize(args.coordinator, args.num_processes, args.process_id, **timeout)
    if _AS_COMMAND:
        distributed.native_stdout_to_stderr()
    with distributed.together(_exit_code):
        return _run(args)


def _exit_code(exc: BaseException) -> int:
    """The exit status ``main`` ends with when a command raises ``exc``."""
    if isinstance(exc, SystemExit):
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else EXIT_FAILED
    if isinstance(exc, MnistkitError):
        return EXIT_USAGE
    return EXIT_INTERRUPTED if isinstance(exc, KeyboardInterrupt) else EXIT_FAILED


def _run(args: argparse.Namespace) -> int:
    """``mnistkit run`` in this process (one of several with ``--distributed``)."""
    from dataclasses import replace

    from mnistkit.host.registry import load_registry
    from mnistkit.runs.recipes import recipe
    from mnistkit.runs.config import RunConfig, check_batch_fits, check_numbers, check_writable
    from mnistkit.specs import parse_options

    if args.resume:
        return _resume(args)
    given = {"model": args.model, "optimizer": args.optimizer, "epochs": args.epochs, "batch_size": args.batch_size,
             "learning_rate": args.learning_rate, "schedule": args.schedule, "label_smoothing": args.label_smoothing}
    given = {key: value for key, value in given.items() if value is not None}
    chosen = {**recipe(args.recipe), **given} if args.recipe else given
    config = RunConfig(
        **chosen, seed=args.seed, data=args.data,
        data_dir=args.data_dir or os.environ.get("MNISTKIT_DATA_DIR") or None,
        warmup_epochs=args.warmup_epochs, metrics=tuple(dict.fromkeys(args.metric)),
        devices=args.devices, steps_per_dispatch=args.steps_per_dispatch, engine=args.engine, dtype=args.dtype or "float32",
    )
    check_numbers(config)
    out = Path(args.out)
    check_writable(out)

    registry = load_registry(args.plugin, args.disable_plugin)
    _report_problems(registry, args.verbose)
    model_spec = registry.model(config.model)
    optimizer_spec = registry.optimizer(config.optimizer)
    metric_specs = [registry.metric(name) for name in config.metrics]
    config = replace(
        config,
        learning_rate=chosen.get("learning_rate") or optimizer_spec.learning_rate,
        model_options=parse_options("model", model_spec, args.model_opt),
        optimizer_options=parse_options("optimizer", optimizer_spec, args.optimizer_opt),
    )

    from mnistkit.data import load_mnist

    err = _console(stderr=True)
    data = load_mnist(config.data, args.data_dir, notify=lambda msg: err.print(f"[yellow]{msg}[/]"))
    check_batch_fits(config, len(data.train_images))
    with registry.blame():
        return _train(config, model_spec, optimizer_spec, data, out, args.json, metric_specs, registry=registry)


def _resume(args: argparse.Namespace) -> int:
    """``mnistkit run --resume RUN_DIR``: continue a run from its newest checkpoint, in its folder."""
    from mnistkit.host.registry import load_registry
    from mnistkit.runs.resume import load_run_data, plan_resume
    from mnistkit.runs.config import check_batch_fits

    defaults = build_parser().parse_args(["run"])
    fixed = ("model", "optimizer", "batch_size", "seed", "learning_rate", "data", "schedule", "warmup_epochs",
             "model_opt", "optimizer_opt")
    given = {key: getattr(args, key) for key in fixed if getattr(args, key) != getattr(defaults, key)}
    if args.metric:
        given["metrics"] = tuple(dict.fromkeys(args.metric))
    err = _console(stderr=True)
    overrides = {"data_dir": args.data_dir, "devices": args.devices, "steps_per_dispatch": args.steps_per_dispatch,
                 "dtype": args.dtype}
    config, meta = plan_resume(Path(args.resume), epochs=args.epochs, overrides=overrides, given=given,
                               notify=lambda msg: err.print(f"[yellow]{msg}[/]"))
    registry = load_registry(args.plugin, args.disable_plugin)
    _report_problems(registry, args.verbose)
    model_spec = registry.model(config.model)
    optimizer_spec = registry.optimizer(config.optimizer)
    metric_specs = [registry.metric(name) for name in config.metrics]
    data = load_run_data(meta, config, notify=lambda msg: err.print(f"[yellow]{msg}[/]"))
    check_batch_fits(config, len(data.train_images))
    with registry.blame():
        return _train(config, model_spec, optimizer_spec, data, Path(args.resume).parent, args.json, metric_specs,
                      resume=Path(args.resume), registry=registry)


def _train(config, model_spec, optimizer_spec, data, out: Path, as_json: bool, metrics=(),
           resume: Path | None = None, registry=None) -> int:
    """Train and record a run; ``resume`` names a run folder to continue from its newest checkpoint."""
    import shlex

    from mnistkit.engine import distributed
    from mnistkit.engine import loop as engine
    from mnistkit.engine import tutorial as tutorial_loop
    from mnistkit.runs.checkpoints import Checkpoints, run_meta, state_template
    from mnistkit.report.terminal import ConsoleView, JsonView
    from mnistkit.engine.events import Failed, Interrupted
    from mnistkit.runs.interrupts import StopRequest
    from mnistkit.runs.resume import position
    from mnistkit.runs.folder import RunRecorder, default_run_dir
    from mnistkit.runs.config import build_model, build_optimizer, enable_compilation_cache, learning_rate_for

    enable_compilation_cache()  # before the model: its initialisers compile too
    model = build_model(model_spec, config.model_options, config.seed)
    steps_per_epoch = len(data.train_images) // config.batch_size
    learning_rate = learning_rate_for(config, steps_per_epoch)
    tx = build_optimizer(optimizer_spec, learning_rate, config.optimizer_options)
    if _start_together(config, data, resume):
        return _follow(config, model, tx, data, metrics, resume)
    console = _console()
    err = _console(stderr=True)
    snapshot = None
    if resume is None:
        recorder = RunRecorder(default_run_dir(out, config.model), config.to_dict())
        recorder.create()
    else:
        with Checkpoints(resume, notify=lambda msg: err.print(f"[yellow]{msg}[/]")) as saved:
            snapshot = saved.restore(state_template(model, tx)).snapshot
        recorder = RunRecorder(resume, config.to_dict())
        recorder.reopen(list(snapshot.history))
        err.print(f"Resuming {recorder.path} from its checkpoint {position(snapshot.epoch, snapshot.step)}")
    checkpoints = Checkpoints(recorder.path, run_meta(config.to_dict(), data, steps_per_epoch),
                              saved=(snapshot.epoch, snapshot.step) if snapshot else None)
    resume_hint = f"To resume: mnistkit run --resume {shlex.quote(str(recorder.path))}"

    def saved_so_far() -> str:
        if checkpoints.last_saved is None:
            return f"No checkpoint was saved yet; the run folder is {recorder.path}."
        return f"The checkpoint {position(*checkpoints.last_saved)} is kept in {checkpoints.path}. {resume_hint}"

    view = JsonView() if as_json else ConsoleView(console, config.epochs)
    settings = _engine_settings(config)
    trainer = engine.train if config.engine == "fast" else tutorial_loop.train
    stop = StopRequest(on_first=lambda: err.print("Stopping after the current step (Ctrl-C again to quit at once)..."),
                       on_second=lambda: err.print(f"Stopped at once. {saved_so_far()}", soft_wrap=True),
                       exit_at_once=_AS_COMMAND)
    last = None
    try:
        with view, stop, checkpoints:
            for event in trainer(model, tx, data, settings, config.to_dict(), metrics, should_stop=distributed.agreed(stop.requested),
                                 resume=snapshot, checkpoint=checkpoints.save):
                recorder.handle(event)
                view.handle(event)
                last = event
    except KeyboardInterrupt:
        err.print(f"Stopped at once. {saved_so_far()}", soft_wrap=True)
        recorder.close("interrupted")
        return EXIT_INTERRUPTED
    except MnistkitError:
        recorder.close("failed")
        raise
    except Exception as exc:
        recorder.close("failed")
        plugin = _plugin_in_traceback(registry, exc)
        if plugin is None:
            raise
        what = (str(exc).strip().splitlines() or [""])[0]
        epoch = f" in epoch {last.epoch}" if last is not None and hasattr(last, "epoch") else ""
        if checkpoints.last_saved is None:
            after = f"no checkpoint was saved yet (run folder {recorder.path}); fix the plugin and start again"
        else:
            after = (f"the checkpoint {position(*checkpoints.last_saved)} is kept in {checkpoints.path}; "
                     f"fix the plugin, then resume: mnistkit run --resume {shlex.quote(str(recorder.path))}")
        raise PluginError(f"plugin {plugin!r} raised {type(exc).__name__}: {what}{epoch}; training stopped and {after}") from exc
    except BaseException:
        recorder.close("failed")
        raise
    if isinstance(last, Interrupted):
        err.print(f"Interrupted in epoch {last.epoch} after {last.step} steps; saved a checkpoint and the history "
                  f"in {recorder.path}. {resume_hint}", soft_wrap=True)
        recorder.close("interrupted")
        return EXIT_INTERRUPTED
    if isinstance(last, Failed):
        recorder.close("failed")
        err.print(f"mnistkit: error: {last.message.rstrip('.')}. {saved_so_far()}", soft_wrap=True)
        return EXIT_FAILED
    recorder.close("completed")
    (err if as_json else console).print(f"Run saved in [bold]{recorder.path}[/] (curves.png, predictions.png, metrics.csv)")
    return 0


def _engine_settings(config):
    """The engine's settings for ``config``; one place, so every process of a distributed run trains alike."""
    from mnistkit.engine import loop as engine

    return engine.Settings(epochs=config.epochs, batch_size=config.batch_size, seed=config.seed,
                           devices=config.devices, steps_per_dispatch=config.steps_per_dispatch,
                           label_smoothing=config.label_smoothing, dtype=config.dtype)


def _start_together(config, data, resume: Path | None) -> bool:
    """With ``--distributed``, meet the other processes before training; True in every process but 0.

    All must train the same configuration on the same data (each loads its
    own copy) and resume the same run; otherwise every process gets the same
    ``ConfigError``.
    """
    from mnistkit.engine import distributed
    from mnistkit.runs.checkpoints import data_fingerprint
    from mnistkit.errors import ConfigError

    if distributed.process_count() == 1:
        return False
    if config.engine != "fast":
        raise ConfigError("--distributed trains with the fast engine only, but this run uses --engine tutorial")
    same = {key: value for key, value in config.to_dict().items() if key != "data_dir"}
    distributed.start_together({"config": same, "data": data_fingerprint(data), "resume": resume and resume.name})
    return not distributed.is_primary()


def _follow(config, model, tx, data, metrics, resume: Path | None) -> int:
    """Train as a process other than 0 of a ``--distributed`` run: in step with process 0, writing nothing.

    It runs the same engine calls as ``_train`` (checkpoint snapshots
    included; they are dropped here) so that every collective meets its
    partners. Resuming reads the run's checkpoint from the same path as
    process 0, so the run folder must be on a shared filesystem.
    """
    from mnistkit.engine import distributed
    from mnistkit.engine import loop as engine
    from mnistkit.runs.checkpoints import Checkpoints, state_template
    from mnistkit.engine.events import Failed, Interrupted
    from mnistkit.runs.interrupts import StopRequest

    snapshot = None
    if resume is not None:
        with Checkpoints(resume) as saved:
            snapshot = saved.restore(state_template(model, tx)).snapshot
    _console(stderr=True).print(f"Process {distributed.process_index()} of {distributed.process_count()}: "
                                "training in step with process 0, which prints and writes the run")
    stop = StopRequest(exit_at_once=_AS_COMMAND)
    last = None
    with stop:
        for last in engine.train(model, tx, data, _engine_settings(config), config.to_dict(), metrics,
                                 should_stop=distributed.agreed(stop.requested), resume=snapshot,
                                 checkpoint=lambda snapshot: None):
            pass
    if isinstance(last, Interrupted):
        return EXIT_INTERRUPTED
    return EXIT_FAILED if isinstance(last, Failed) else 0


def _plugin_in_traceback(registry, exc: BaseException) -> str | None:
    """The plugin whose code raised ``exc`` (the innermost plugin frame of its traceback), if any."""
    import traceback

    if registry is None:
        return None
    modules = {info.module: info.name for info in registry.plugins if info.loaded and info.module}
    culprit = None
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        module = frame.f_globals.get("__name__", "")
        for prefix, name in modules.items():
            if module == prefix or module.startswith(prefix + "."):
                culprit = name
    return culprit


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

    from mnistkit.host.listing import listing, render
    from mnistkit.host.registry import check_builds, load_registry

    registry = load_registry(args.plugin, args.disable_plugin)
    if args.check:
        check_builds(registry)
    if args.json:
        print(json.dumps(listing(registry), indent=2, default=str))
    else:
        render(registry, _console(), args.verbose)
    return EXIT_FAILED if args.check and registry.problems else 0


def cmd_plugin_new(args: argparse.Namespace) -> int:
    from mnistkit.host.scaffold import scaffold

    root = scaffold(args.name, Path(args.dir))
    console = _console()
    console.print(f"Wrote the plugin package [bold]{root}[/]. Next:")
    console.print(f"  cd {root}\n  pip install -e .\n  mnistkit plugins\n  mnistkit run --model {args.name} --epochs 1\n  pytest",
                  markup=False, highlight=False)
    return 0


def cmd_plugin_check(args: argparse.Namespace) -> int:
    import pytest

    from mnistkit.testing.pytest_plugin import CONTRACT

    pytest_args = ["-q", "-p", "no:cacheprovider", f"--mnistkit-plugin={args.name}", str(CONTRACT)]
    pytest_args += [f"--mnistkit-load={ref}" for ref in args.plugin]
    if args.keyword:
        pytest_args += ["-k", args.keyword]
    return int(pytest.main(pytest_args))


def cmd_tui(args: argparse.Namespace) -> int:
    from mnistkit.host.registry import load_registry

    print("Loading plugins...", file=sys.stderr, flush=True)
    registry = load_registry(args.plugin, args.disable_plugin)
    from mnistkit.tui.app import MnistkitApp

    MnistkitApp(registry, data=args.data, data_dir=args.data_dir or os.environ.get("MNISTKIT_DATA_DIR") or None,
                runs_dir=args.out).run()
    return 0


def _load_trained(args: argparse.Namespace):
    """The run's model from its newest checkpoint, and the data it trained on."""
    from dataclasses import replace

    from mnistkit.host.registry import load_registry
    from mnistkit.runs.trained import load_trained
    from mnistkit.runs.resume import load_run_data

    err = _console(stderr=True)
    registry = load_registry(args.plugin, args.disable_plugin)
    _report_problems(registry, args.verbose)
    with registry.blame():
        trained = load_trained(Path(args.run), registry, notify=lambda msg: err.print(f"[yellow]{msg}[/]"))
    if getattr(args, "image", None):
        return trained, None
    config = replace(trained.config, data_dir=args.data_dir or trained.config.data_dir)
    return trained, load_run_data(trained.meta, config, notify=lambda msg: err.print(f"[yellow]{msg}[/]"))


def cmd_predict(args: argparse.Namespace) -> int:
    import json

    import numpy as np

    from mnistkit.report.digits import digit_lines, prediction_grid
    from mnistkit.errors import OutputError
    from mnistkit.report.plots import plot_predictions
    from mnistkit.runs.trained import load_digit, probabilities

    trained, data = _load_trained(args)
    console = _console()
    if args.image:
        digit = load_digit(Path(args.image))
        probs = probabilities(trained.model, digit[None])[0]
        best = int(probs.argmax())
        if args.json:
            print(json.dumps({"image": args.image, "digit": best, "probabilities": [float(p) for p in probs]}))
            return 0
        console.print("\n".join(digit_lines(digit)), markup=False)
        console.print(f"Predicted digit: [bold]{best}[/] ({probs[best]:.1%}), by {trained.config.model} {trained.where}")
        for digit_class, p in enumerate(probs):
            console.print(f"  {digit_class}  {p:6.1%}  {'█' * round(30 * float(p))}")
        return 0
    count = min(args.count, len(data.test_images))
    images, labels = data.test_images[:count], np.asarray(data.test_labels[:count])
    predicted = probabilities(trained.model, images).argmax(axis=-1)
    out = Path(args.out) if args.out else trained.run_dir / "predict.png"
    try:
        plot_predictions(images, labels, predicted, out)
    except OSError as err:
        raise OutputError(f"cannot write {out}: {err.strerror or err}; choose another --out") from err
    wrong = int((predicted != labels).sum())
    if args.json:
        print(json.dumps({"run": str(trained.run_dir), "labels": labels.tolist(), "predicted": predicted.tolist(),
                          "wrong": wrong, "png": str(out)}))
        return 0
    console.print(f"{trained.config.model} {trained.where}, on the first {count} test digits ({wrong} wrong):")
    console.print(prediction_grid(images, labels, predicted))
    console.print(f"Saved the grid in {out}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    import json

    from rich.table import Table

    from mnistkit.runs.trained import evaluate

    trained, data = _load_trained(args)
    test = evaluate(trained, data)
    snapshot = trained.snapshot
    row = snapshot.history[-1] if snapshot.step == 0 and snapshot.history else None
    recorded = {key: row.get(f"test_{key}") for key in test} if row else None
    if args.json:
        print(json.dumps({"run": str(trained.run_dir), "epoch": snapshot.epoch - 1 if row else None,
                          "step": snapshot.step, "test": test, "history": recorded}))
        return 0
    console = _console()
    console.print(f"{trained.config.model} {trained.where}, on {data.description}:")
    table = Table("metric", "recomputed", f"history (epoch {row['epoch']})" if row else "history")
    for key, value in test.items():
        then = recorded.get(key) if recorded else None
        table.add_row(f"test {key}", f"{value:.6f}", "" if then is None else f"{then:.6f}")
    console.print(table)
    if row is None:
        console.print("The checkpoint is from the middle of an epoch, so the history has no row for it.")
    return 0


def cmd_lessons(args: argparse.Namespace) -> int:
    from mnistkit.cli.lessons import list_lessons
    from mnistkit.curriculum.lessons import ProgressStore

    list_lessons(_console(), ProgressStore())
    return 0


def cmd_lesson_show(args: argparse.Namespace) -> int:
    from mnistkit.cli.lessons import show_lesson
    from mnistkit.curriculum.lessons import ProgressStore

    show_lesson(_console(), args.id, ProgressStore(), answers=args.answers)
    return 0


def _stage_settings(args: argparse.Namespace):
    from mnistkit.curriculum.stages import StageSettings

    return StageSettings(
        data=args.data, data_dir=args.data_dir or os.environ.get("MNISTKIT_DATA_DIR") or None,
        model=args.model, optimizer=args.optimizer, learning_rate=args.learning_rate,
        batch_size=args.batch_size, epochs=args.epochs, seed=args.seed,
    )


def cmd_lesson_run(args: argparse.Namespace) -> int:
    from mnistkit.cli.lessons import run_lesson
    from mnistkit.curriculum.lessons import ProgressStore

    return run_lesson(_console(), args.id, ProgressStore(), _stage_settings(args))


def cmd_lesson_reset(args: argparse.Namespace) -> int:
    from mnistkit.cli.lessons import reset_lesson
    from mnistkit.curriculum.lessons import ProgressStore
    from mnistkit.curriculum.stages import StageSettings

    return reset_lesson(_console(), args.id, ProgressStore(), StageSettings())


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


def command() -> int:
    """Entry point of the ``mnistkit`` command: ``main`` that owns its process."""
    global _AS_COMMAND
    _AS_COMMAND = True
    return main()


if __name__ == "__main__":
    sys.exit(command())
