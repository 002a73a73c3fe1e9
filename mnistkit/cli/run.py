"""``mnistkit run``: options, then ``prepare``, then the events on the screen, then the outcome."""

from __future__ import annotations

import argparse

from mnistkit.cli import common
from mnistkit.runs.config import DEFAULTS, DTYPES, ENGINES, MAX_SEED, RECIPES
from mnistkit.runs.schedules import SCHEDULES

RUN_OPTIONS = ("model", "optimizer", "epochs", "batch_size", "learning_rate", "label_smoothing", "schedule",
               "warmup_epochs", "seed", "data", "data_dir", "devices", "steps_per_dispatch", "engine", "dtype")
"""The ``RunConfig`` fields that are options of the same name; every one defaults to None (not given)."""


def add_to(commands) -> None:
    run = commands.add_parser("run", help="train a model and write a run directory",
                              description="Train a model on MNIST with live progress; writes config, metrics, plots "
                                          "and TensorBoard logs to a run directory.")
    run.add_argument("--model", default=None, help=f"model plugin name (default: {DEFAULTS.model}; see `mnistkit plugins`)")
    run.add_argument("--optimizer", default=None, help=f"optimizer plugin name (default: {DEFAULTS.optimizer})")
    run.add_argument("--model-opt", action="append", default=[], metavar="KEY=VALUE", help="model option (repeatable)")
    run.add_argument("--optimizer-opt", action="append", default=[], metavar="KEY=VALUE",
                     help="optimizer option (repeatable)")
    run.add_argument("--epochs", type=common.epochs, default=None,
                     help="passes over the training set; 2.5 trains half of a third epoch "
                          f"(default: {DEFAULTS.epochs}; with --resume: the run's, or more to extend it)")
    run.add_argument("--batch-size", type=common.positive_int, default=None, help=f"images per train step (default: {DEFAULTS.batch_size})")
    run.add_argument("--learning-rate", type=common.positive_float, default=None,
                     help="peak learning rate (default: the optimizer's own; see `mnistkit plugins`)")
    run.add_argument("--recipe", default=None, metavar="NAME",
                     help=f"fill in every option you do not give from a recipe: {' or '.join(RECIPES)} "
                          "(99%% in under an epoch)")
    run.add_argument("--label-smoothing", type=float, default=None, metavar="EPS",
                     help=f"spread EPS of each target's probability over all classes (default: {DEFAULTS.label_smoothing:g})")
    run.add_argument("--schedule", choices=SCHEDULES, default=None,
                     help=f"learning-rate schedule over the run, for any optimizer (default: {DEFAULTS.schedule})")
    run.add_argument("--warmup-epochs", type=float, default=None, metavar="N",
                     help=f"epochs of linear warmup for --schedule warmup-cosine (default: {DEFAULTS.warmup_epochs:g})")
    run.add_argument("--metric", action="append", default=[], metavar="NAME",
                     help="extra metric plugin, e.g. confusion, top2, ece (repeatable; accuracy and loss are always on)")
    run.add_argument("--seed", type=common.seed, default=None,
                     help=f"random seed for parameters and data order, 0 to {MAX_SEED} (default: {DEFAULTS.seed})")
    common.add_data_options(run)
    run.add_argument("--out", default=None, help="folder for run directories (default: ./runs, or MNISTKIT_RUNS_DIR)")
    run.add_argument("--json", action="store_true", help="print one JSON object per event instead of progress bars")
    run.add_argument("--resume", metavar="RUN_DIR", default=None,
                     help="continue a stopped run from its newest checkpoint, with its own settings "
                          "(--epochs N extends it)")
    run.add_argument("--engine", choices=ENGINES, default=None,
                     help="fast (default): data on the device, compiled steps; tutorial: the tutorial's tf.data loop")
    run.add_argument("--devices", type=common.positive_int, default=None,
                     help="split each batch over this many local devices (default: all; with --distributed: "
                          "this many of every process)")
    run.add_argument("--dtype", choices=DTYPES, default=None,
                     help=f"compute dtype; bfloat16 pays on GPUs and TPUs, parameters stay float32 (default: {DEFAULTS.dtype})")
    run.add_argument("--steps-per-dispatch", type=common.positive_int, default=None,
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
    several.add_argument("--num-processes", type=common.positive_int, metavar="N", default=None,
                         help="how many processes train together (implies --distributed)")
    several.add_argument("--process-id", type=int, metavar="I", default=None,
                         help="this process's number, 0 to N-1 (implies --distributed)")
    several.add_argument("--join-timeout", type=common.positive_float, metavar="SECONDS", default=None,
                         help="how long to wait for the coordinator and for every process to join (default: 120)")
    common.add_plugin_options(run)
    run.set_defaults(handler=cmd_run)


def given(args: argparse.Namespace) -> dict:
    """The run options the user typed, as ``RunConfig`` fields (an option not typed is left out)."""
    from mnistkit.specs import parse_pairs

    options = {key: getattr(args, key) for key in RUN_OPTIONS if getattr(args, key) is not None}
    if args.metric:
        options["metrics"] = tuple(dict.fromkeys(args.metric))
    if args.model_opt:
        options["model_options"] = parse_pairs("model", args.model_opt)
    if args.optimizer_opt:
        options["optimizer_options"] = parse_pairs("optimizer", args.optimizer_opt)
    return options


def cmd_run(args: argparse.Namespace) -> int:
    if not (args.distributed or args.coordinator or args.num_processes or args.process_id is not None):
        return _run(args)
    from mnistkit.engine import distributed

    timeout = {"join_timeout": args.join_timeout} if args.join_timeout else {}
    distributed.initialize(args.coordinator, args.num_processes, args.process_id, **timeout)
    if common.as_command:
        distributed.native_stdout_to_stderr()
    with distributed.together(exit_code):
        return _run(args)


def exit_code(exc: BaseException) -> int:
    """The exit status ``main`` ends with when a command raises ``exc``."""
    from mnistkit.errors import MnistkitError

    if isinstance(exc, SystemExit):
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else common.EXIT_FAILED
    if isinstance(exc, MnistkitError):
        return common.EXIT_USAGE
    return common.EXIT_INTERRUPTED if isinstance(exc, KeyboardInterrupt) else common.EXIT_FAILED


def _run(args: argparse.Namespace) -> int:
    """``mnistkit run`` in this process (one of several with ``--distributed``)."""
    from rich.markup import escape

    from mnistkit.engine import distributed
    from mnistkit.report.terminal import ConsoleView, JsonView, NoView, busy
    from mnistkit.runs.assemble import prepare
    from mnistkit.runs.config import from_options
    from mnistkit.runs.interrupts import StopRequest

    registry = common.load_plugins(args)
    options = given(args)
    out, err = common.console(), common.console(stderr=True)
    notify = common.notifier(err)
    with busy(err, "Loading the data and building the model..."):
        if args.resume:
            run = prepare(None, registry, resume=args.resume, given={**options, "recipe": args.recipe, "out": args.out},
                          notify=notify)
        else:
            run = prepare(from_options(options, args.recipe), registry, out=args.out, notify=notify)
    view: NoView | JsonView | ConsoleView
    if run.path is None:
        err.print(f"Process {distributed.process_index()} of {distributed.process_count()}: "
                  "training in step with process 0, which prints and writes the run")
        view = NoView()
    else:
        view = JsonView() if args.json else ConsoleView(out, run.config.epochs)

    def stop_at_once() -> None:
        run.abandon()
        err.print(f"Stopped at once. {run.kept()}", soft_wrap=True, markup=False)

    stop = StopRequest(on_first=lambda: err.print("Stopping after the current step (Ctrl-C again to quit at once)..."),
                       on_second=stop_at_once, exit_at_once=common.as_command)
    try:
        with view, stop:
            for event in run.events(stop.requested):
                view.handle(event)
    except KeyboardInterrupt:
        if run.outcome is not None:  # None only when the Ctrl-C came before training started
            err.print(run.outcome.message, soft_wrap=True, markup=False)
        return common.EXIT_INTERRUPTED
    outcome = run.outcome
    assert outcome is not None  # events() sets it whenever it ends without raising
    if run.path is None:
        return outcome.exit_code
    if outcome.status == "completed":
        (err if args.json else out).print(f"Run saved in [bold]{escape(str(run.path))}[/] "
                                          "(curves.png, predictions.png, metrics.csv)", soft_wrap=True)
    elif outcome.status == "interrupted":
        err.print(outcome.message, soft_wrap=True, markup=False)
    else:
        err.print(f"mnistkit: error: {outcome.message}", soft_wrap=True, markup=False)
    return outcome.exit_code
