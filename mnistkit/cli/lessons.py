"""``mnistkit lessons`` and ``mnistkit lesson show|run|reset``: the curriculum in a plain terminal.

The same curriculum as the TUI's sidebar (``mnistkit.curriculum.loader``):
the core lessons, then every plugin's, with the progress both share. Only the
standard library at import; rich comes with the first command.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mnistkit.cli import common
from mnistkit.curriculum.export import FORMATS, Format, as_format
from mnistkit.errors import ConfigError, OutputError
from mnistkit.runs.config import DEFAULTS, LESSON_EPOCHS, MAX_SEED

if TYPE_CHECKING:
    from rich.console import Console

    from mnistkit.curriculum.lessons import Lesson
    from mnistkit.curriculum.loader import Curriculum
    from mnistkit.curriculum.progress import ProgressStore
    from mnistkit.report.terminal import ConsoleView

_MARKS = {"done": "[green]✓ done[/]", "current": "[yellow]▶ current[/]", "not started": "[dim]·[/]"}


def add_to(commands) -> None:
    lessons = commands.add_parser("lessons", help="list the lessons with your progress",
                                  description="List the curriculum in order, then the plugins' lessons, each with "
                                              "your progress.")
    lessons.add_argument("--json", action="store_true", help="print JSON: a list of lessons in reading order")
    common.add_plugin_options(lessons)
    lessons.set_defaults(handler=cmd_lessons)
    lesson = commands.add_parser("lesson", help="show, run or reset one lesson",
                                 description="Read a lesson in the terminal, run its stage on real data, or start it over.")
    actions = lesson.add_subparsers(dest="lesson_command", metavar="ACTION", parser_class=common.Parser, required=True)
    show = actions.add_parser("show", help="read a lesson in the terminal")
    show.add_argument("id", help="lesson id (see `mnistkit lessons`)")
    show.add_argument("--answers", action="store_true", help="show the answers of 'Check yourself'")
    common.add_plugin_options(show)
    show.set_defaults(handler=cmd_lesson_show)
    run = actions.add_parser("run", help="run the lesson's stage on real data and show the result",
                             description="Run the lesson's stage, after the stages it builds on (a trained model is "
                                         "reused from the last `train` stage with the same settings). The train stage "
                                         "trains as `mnistkit run` does and leaves a run folder.")
    run.add_argument("id", help="lesson id (see `mnistkit lessons`)")
    run.add_argument("--epochs", type=common.epochs, default=None, help=f"epochs for the train stage (default: {LESSON_EPOCHS})")
    run.add_argument("--batch-size", type=common.positive_int, default=None, help=f"default: {DEFAULTS.batch_size}")
    run.add_argument("--learning-rate", type=common.positive_float, default=None,
                     help="default: the optimizer's own")
    run.add_argument("--seed", type=common.seed, default=None, help=f"0 to {MAX_SEED} (default: {DEFAULTS.seed})")
    run.add_argument("--model", default=None, help=f"model plugin (default: {DEFAULTS.model}, or the one a plugin lesson teaches)")
    run.add_argument("--optimizer", default=None,
                     help=f"optimizer plugin (default: {DEFAULTS.optimizer}, or the one a plugin lesson teaches)")
    common.add_data_options(run)
    run.add_argument("--out", default=None, help="folder for the train stage's run folder (default: ./runs, "
                                                 "or MNISTKIT_RUNS_DIR)")
    common.add_plugin_options(run)
    run.set_defaults(handler=cmd_lesson_run)
    export = actions.add_parser("export", help="write a lesson as a Jupyter notebook or a Python script",
                                description="Write the lesson as a notebook (.ipynb) or a script of `# %%` cells (.py): "
                                            "the prose as markdown, each Python block as a code cell, in order.")
    export.add_argument("id", help="lesson id (see `mnistkit lessons`)")
    export.add_argument("--format", choices=FORMATS, default=None,
                        help="ipynb or py (default: from the --out suffix, else ipynb)")
    export.add_argument("--out", default=None, help="file or existing folder to write (default: ./ID.ipynb or ./ID.py); "
                                                    "- prints to stdout")
    export.add_argument("--short", action="store_true",
                        help="use the short training settings the test suite uses (runs in seconds)")
    export.add_argument("--force", action="store_true", help="replace the file if it exists")
    common.add_plugin_options(export)
    export.set_defaults(handler=cmd_lesson_export)
    reset = actions.add_parser("reset", help="mark a lesson not started and forget its stage's saved results")
    reset.add_argument("id", help="lesson id (see `mnistkit lessons`)")
    common.add_plugin_options(reset)
    reset.set_defaults(handler=cmd_lesson_reset)


def _curriculum(args: argparse.Namespace):
    """The plugin registry and the curriculum over it; what failed to load is a warning line each."""
    from rich.markup import escape

    from mnistkit.curriculum.loader import load

    registry = common.load_plugins(args)
    curriculum = load(registry)
    err = common.console(stderr=True)
    for problem in curriculum.problems:
        err.print(f"[yellow]warning:[/] {escape(problem)}", soft_wrap=True)
    return registry, curriculum


def curriculum_of(args: argparse.Namespace) -> Curriculum:
    """The curriculum (with its exercises) for the plugin options in ``args``; problems are warning lines."""
    return _curriculum(args)[1]


def cmd_lessons(args: argparse.Namespace) -> int:
    from mnistkit.curriculum.progress import ProgressStore

    _, curriculum = _curriculum(args)
    if args.json:
        import json

        print(json.dumps(lessons_listing(curriculum, ProgressStore()), indent=2))
    else:
        list_lessons(common.console(), curriculum, ProgressStore())
    return 0


def cmd_lesson_show(args: argparse.Namespace) -> int:
    from mnistkit.curriculum.progress import ProgressStore

    _, curriculum = _curriculum(args)
    show_lesson(common.console(), curriculum, args.id, ProgressStore(), answers=args.answers)
    return 0


def cmd_lesson_run(args: argparse.Namespace) -> int:
    from mnistkit.curriculum.progress import ProgressStore
    from mnistkit.curriculum.stages import lesson_config

    registry, curriculum = _curriculum(args)
    options = {key: getattr(args, key) for key in ("epochs", "batch_size", "learning_rate", "seed", "model",
                                                     "optimizer", "data", "data_dir")}
    chosen = tuple(key for key, value in options.items() if value is not None)
    lesson = curriculum.lesson(args.id)
    config = curriculum.config_for(lesson_config(**options), lesson, registry, chosen)
    return run_lesson(common.console(), curriculum, lesson, ProgressStore(), config, registry, args.out)


def cmd_lesson_export(args: argparse.Namespace) -> int:
    from mnistkit import __version__
    from mnistkit.curriculum.export import export_lesson

    _, curriculum = _curriculum(args)
    lesson = curriculum.lesson(args.id)
    fmt, out = export_target(lesson.id, args.format, args.out, args.force)
    text = export_lesson(lesson, fmt, short=args.short, version=__version__)
    if out is None:
        sys.stdout.write(text)
        return 0
    from mnistkit.atomic import write_atomic

    try:
        write_atomic(out, text.encode())
    except OSError as exc:
        raise OutputError(f"cannot write {out}: {exc.strerror or exc}; choose another --out") from exc
    opener = "jupyter lab" if fmt == "ipynb" else "python"
    common.console().print(f"Wrote {escape_path(out)}. Run it with: [bold]{opener} {escape_path(out)}[/]", soft_wrap=True)
    return 0


def export_target(lesson_id: str, fmt: str | None, out: str | None, force: bool) -> tuple[Format, Path | None]:
    """The format and the file an export writes (None: stdout), checked before anything is built.

    Raises ``ConfigError`` for a suffix that contradicts ``--format``, a
    missing folder, or a file that exists without ``force``.
    """
    given = as_format(fmt)
    if out == "-":
        return given or "ipynb", None
    path = Path(out or ".")
    suffix = None if path.is_dir() else as_format(path.suffix.lstrip("."))
    if suffix and given and suffix != given:
        raise ConfigError(f"--out {out} ends in .{suffix} but --format is {given}; make them agree")
    chosen: Format = given or suffix or "ipynb"
    if path.is_dir():
        path = path / f"{lesson_id}.{chosen}"
    elif suffix is None:
        path = path.with_name(f"{path.name}.{chosen}")
    if not path.parent.is_dir():
        raise ConfigError(f"the folder {path.parent} does not exist; create it or choose another --out")
    if path.exists() and not force:
        raise ConfigError(f"{path} exists (it may hold your edits); pass --force to replace it, or choose another --out")
    return chosen, path


def escape_path(path: Path) -> str:
    from rich.markup import escape

    return escape(str(path))


def cmd_lesson_reset(args: argparse.Namespace) -> int:
    from mnistkit.curriculum.progress import ProgressStore

    _, curriculum = _curriculum(args)
    return reset_lesson(common.console(), curriculum, args.id, ProgressStore())


def list_lessons(console: Console, curriculum: Curriculum, store: ProgressStore) -> None:
    """The curriculum in order with each lesson's status and its exercises', then the plugins' lessons."""
    from rich.table import Column, Table

    groups = [("The curriculum", list(curriculum.core)), ("Plugin lessons", curriculum.plugin_lessons())]
    for title, lessons in groups:
        if not lessons:
            continue
        table = Table("#", "title", "min", "status", "exercise", title=title, title_justify="left", title_style="bold")
        table.columns.insert(1, Column("id", no_wrap=True))  # an id is typed: never broken over two lines
        for number, lesson in enumerate(lessons, start=1):
            table.add_row(str(number), lesson.id, lesson.title, str(lesson.minutes),
                          _MARKS[curriculum.status(lesson.id, store)], _exercise_mark(curriculum, lesson.id, store))
        console.print(table)
    console.print("status: · not started   ▶ current (started, not done)   ✓ done (with exercises: once they pass)", style="dim",
                  soft_wrap=True)
    upcoming = curriculum.up_next(lambda lesson_id: curriculum.status(lesson_id, store), store.last_lesson())
    if upcoming is not None:
        console.print(f"Next: [bold]mnistkit lesson show {upcoming.id}[/]")
    else:
        console.print("[green]Every lesson of the curriculum is done.[/]")


def _exercise_mark(curriculum: Curriculum, lesson_id: str, store: ProgressStore) -> str:
    """``✓ passed``, ``✎ 1/2``, ``· 0/1``, or empty for a lesson without exercises."""
    states = [store.exercise_status(exercise.id) for exercise in curriculum.exercises.for_lesson(lesson_id)]
    if not states:
        return ""
    passed = sum(state == "passed" for state in states)
    if passed == len(states):
        return "[green]✓ passed[/]" if len(states) == 1 else f"[green]✓ {passed}/{len(states)}[/]"
    if any(state != "not started" for state in states):
        return f"[yellow]✎ {passed}/{len(states)}[/]"
    return f"[dim]· {passed}/{len(states)}[/]"


def lessons_listing(curriculum: Curriculum, store: ProgressStore) -> list[dict[str, Any]]:
    """Every lesson in reading order as a JSON-ready dict, for ``mnistkit lessons --json``.

    Keys: ``id``, ``title``, ``order`` (the lesson file's own), ``minutes``,
    ``status`` ("not started", "current" or "done": a lesson with exercises is
    done once they pass), ``exercises`` (each ``{"id", "status"}``), ``stage``
    (or None), ``prerequisites``, ``source`` ("curriculum" or "plugin"),
    ``plugin`` (the plugin group's name, None for the curriculum) and ``path``.
    """
    groups = [(None, curriculum.core), *curriculum.by_plugin.items()]
    return [{"id": lesson.id, "title": lesson.title, "order": lesson.order, "minutes": lesson.minutes,
             "status": curriculum.status(lesson.id, store),
             "exercises": [{"id": e.id, "status": store.exercise_status(e.id)} for e in curriculum.exercises.for_lesson(lesson.id)],
             "stage": lesson.stage, "prerequisites": list(lesson.prerequisites),
             "source": "curriculum" if plugin is None else "plugin", "plugin": plugin, "path": str(lesson.path)}
            for plugin, lessons in groups for lesson in lessons]


def show_lesson(console: Console, curriculum: Curriculum, lesson_id: str, store: ProgressStore, *,
                answers: bool = False) -> None:
    """Render one lesson as markdown; answers stay hidden unless ``answers``."""
    from rich.markdown import Markdown
    from rich.rule import Rule

    from mnistkit.curriculum.lessons import hide_answers

    lesson = curriculum.lesson(lesson_id)
    if store.status(lesson.id) != "done":
        store.mark(lesson.id, "current")
    console.print(Rule(f"[bold]{lesson.title}[/]"))
    console.print(_header(curriculum, lesson, store), highlight=False)
    body = lesson.body if answers else hide_answers(lesson.body, "*(answer hidden)*")
    console.print(Markdown(body, code_theme="ansi_dark"))
    console.print(Rule())
    hints = []
    if lesson.stage:
        hints.append(f"Run it: [bold]mnistkit lesson run {lesson.id}[/]")
    for exercise in curriculum.exercises.for_lesson(lesson.id):
        hints.append(f"Exercise ({store.exercise_status(exercise.id)}): [bold]mnistkit exercise start {exercise.id}[/]")
    if not answers and lesson.questions:
        hints.append(f"Answers: [bold]mnistkit lesson show {lesson.id} --answers[/]")
    following = curriculum.following(lesson.id)
    if following is not None:
        hints.append(f"Next: [bold]mnistkit lesson show {following.id}[/]")
    for hint in hints:
        console.print(hint)


def _header(curriculum: Curriculum, lesson: Lesson, store: ProgressStore) -> str:
    parts = [curriculum.position(lesson), f"{lesson.minutes} min", f"status: {curriculum.status(lesson.id, store)}"]
    if lesson.plugin:
        parts.insert(1, f"plugin {lesson.plugin}")
    if lesson.stage:
        parts.append(f"stage: {lesson.stage}")
    if lesson.prerequisites:
        parts.append("after: " + ", ".join(lesson.prerequisites))
    return "[dim]" + " · ".join(parts) + "[/]"


class TerminalEmitter:
    """Shows what a stage emits: text, rich renderables, notes, and a training run's events."""

    def __init__(self, console: Console, epochs: float):
        self.console = console
        self.epochs = epochs
        self.view: ConsoleView | None = None

    def __call__(self, item: Any) -> None:
        from mnistkit.curriculum.stages import Note
        from mnistkit.engine import events as ev

        if isinstance(item, ev.RunStarted):
            from mnistkit.report.terminal import ConsoleView

            self.view = ConsoleView(self.console, self.epochs).__enter__()
        if self.view is not None and isinstance(item, ev.Event):
            self.view.handle(item)
            if isinstance(item, (ev.Finished, ev.Failed, ev.Interrupted)):
                self.close()
        elif isinstance(item, Note):
            self.console.print(f"[yellow]{item.text}[/]", highlight=False)
        elif isinstance(item, str):
            self.console.print(item, markup=False, highlight=False)
        else:
            self.console.print(item)

    def close(self) -> None:
        if self.view is not None:
            self.view.__exit__(None, None, None)
            self.view = None


def run_lesson(console: Console, curriculum: Curriculum, lesson: Lesson, store: ProgressStore, config, registry,
               runs_dir=None) -> int:
    """Run the lesson's stage (and what it needs) with live output; mark the lesson done."""
    from mnistkit.curriculum import stages

    if not lesson.stage:
        console.print(f"Lesson {lesson.id!r} has no stage to run; read it with `mnistkit lesson show {lesson.id}`.")
        return 0
    from mnistkit.runs.interrupts import StopRequest

    store.mark(lesson.id, "current")
    console.print(f"[bold]Stage {lesson.stage!r}[/]: {stages.get_stage(lesson.stage).title}")
    emit = TerminalEmitter(console, config.epochs)
    ctx = stages.StageContext(config=config, registry=registry, runs_dir=runs_dir)
    err = common.console(stderr=True)
    stop = StopRequest(on_first=lambda: err.print("Stopping after the current step (Ctrl-C again to quit at once)..."),
                       on_second=lambda: ctx.run.abandon() if ctx.run is not None else None,
                       exit_at_once=common.as_command)
    ctx.should_stop = stop.requested
    try:
        with stop:
            result = stages.run_stage(ctx, lesson.stage, emit)
    except stages.StageStopped as stopped:
        emit.close()
        err.print(str(stopped), soft_wrap=True, markup=False)
        return common.EXIT_INTERRUPTED
    finally:
        emit.close()
    store.mark(lesson.id, "done")
    pending = curriculum.waiting(lesson.id, store)
    if pending:
        total = len(curriculum.exercises.for_lesson(lesson.id))
        waiting = "exercise passes" if total == 1 else f"{total} exercises pass ({len(pending)} to go)"
        console.print(f"[green]Stage {lesson.stage!r} finished in {result.seconds:.1f} s.[/] The lesson is done when its "
                      f"{waiting}: [bold]mnistkit exercise start {pending[0].id}[/]", soft_wrap=True)
        return 0
    following = curriculum.following(lesson.id)
    after = f"  Next: [bold]mnistkit lesson show {following.id}[/]" if following is not None else ""
    console.print(f"[green]Stage {lesson.stage!r} finished in {result.seconds:.1f} s; lesson {lesson.id!r} is done.[/]{after}")
    return 0


def reset_lesson(console: Console, curriculum: Curriculum, lesson_id: str, store: ProgressStore) -> int:
    """Mark the lesson not started and forget its stage's saved results."""
    from mnistkit.curriculum import stages

    lesson = curriculum.lesson(lesson_id)
    store.mark(lesson.id, "not started")
    forgotten = stages.reset(stages.StageContext(), lesson.stage) if lesson.stage else []
    what = (f"; forgot stage {lesson.stage!r} and what builds on it ({', '.join(forgotten[1:]) or 'nothing'})"
            if lesson.stage else "")
    console.print(f"Lesson {lesson.id!r} is reset to not started{what}.")
    return 0
