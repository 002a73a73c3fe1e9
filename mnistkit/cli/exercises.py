"""``mnistkit exercises`` and ``mnistkit exercise start|check|watch|hint|solution|reset``.

The learner writes the code; mnistkit checks it (``mnistkit.curriculum.checking``)
and keeps the progress the TUI shares. ``check`` exits 0 on a pass, 1 on a
fail and 2 on a usage error. Only the standard library at import.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from mnistkit.cli import common
from mnistkit.cli.exercise_view import show_task

if TYPE_CHECKING:
    from rich.console import Console

    from mnistkit.curriculum.exercises import Exercise, ExerciseSet
    from mnistkit.curriculum.progress import ProgressStore

_MARKS = {"passed": "[green]✓ passed[/]", "attempted": "[yellow]✎ attempted[/]", "not started": "[dim]·[/]"}


def add_to(commands) -> None:
    listing = commands.add_parser("exercises", help="list the exercises with your progress",
                                  description="List every exercise, lesson by lesson, with its status: not started, "
                                              "attempted or passed.")
    listing.add_argument("--json", action="store_true", help="print JSON: a list of exercises in order")
    common.add_plugin_options(listing)
    listing.set_defaults(handler=cmd_exercises)
    exercise = commands.add_parser("exercise", help="start, check or watch an exercise; hints and solutions",
                                   description="Write the code of an exercise yourself and let mnistkit check it.")
    actions = exercise.add_subparsers(dest="exercise_command", metavar="ACTION", parser_class=common.Parser, required=True)
    start = actions.add_parser("start", help="write the starter file into your workspace and print its path")
    _add_id(start)
    _add_dir(start)
    start.add_argument("--reset", action="store_true", help="replace your file with the starter (a copy of it is kept as .bak)")
    start.set_defaults(handler=cmd_start)
    check = actions.add_parser("check", help="check your file: exit 0 when it passes, 1 when it does not")
    _add_id(check)
    _add_dir(check)
    check.add_argument("--timeout", type=common.positive_float, default=None,
                       help="seconds your code may run (default: the exercise's, 60; also MNISTKIT_CHECK_TIMEOUT)")
    check.set_defaults(handler=cmd_check)
    watch = actions.add_parser("watch", help="check again on every save; keys for hints, the solution and the next exercise",
                               description="Check your file now and after every save. Keys: h next hint, s show the "
                                           "solution (asks first), r reset to the starter (asks first), n next exercise "
                                           "(asks first), q quit.")
    watch.add_argument("id", nargs="?", default=None, help="exercise id (default: the first one not passed)")
    _add_dir(watch)
    watch.add_argument("--timeout", type=common.positive_float, default=None, help="seconds your code may run per check")
    watch.set_defaults(handler=cmd_watch)
    hint = actions.add_parser("hint", help="show the next hint (one more each time)")
    _add_id(hint)
    hint.set_defaults(handler=cmd_hint)
    solution = actions.add_parser("solution", help="show the reference solution (only its code when piped)")
    _add_id(solution)
    solution.set_defaults(handler=cmd_solution)
    reset = actions.add_parser("reset", help="put the starter back (your file is kept as .bak) and forget the progress")
    _add_id(reset)
    _add_dir(reset)
    reset.set_defaults(handler=cmd_reset)


def _add_id(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("id", help="exercise id (see `mnistkit exercises`)")
    common.add_plugin_options(parser)


def _add_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dir", default=None, help="your workspace folder (default: exercises/ in mnistkit's home)")


def load(args: argparse.Namespace) -> tuple[Any, ExerciseSet]:
    """The curriculum and its exercises; what failed to load is a warning line each."""
    from mnistkit.cli.lessons import curriculum_of

    curriculum = curriculum_of(args)
    return curriculum, curriculum.exercises


def cmd_exercises(args: argparse.Namespace) -> int:
    from mnistkit.curriculum.progress import ProgressStore

    _, exercises = load(args)
    store = ProgressStore()
    if args.json:
        import json

        print(json.dumps(listing(exercises, store), indent=2))
        return 0
    console = common.console()
    if not len(exercises):
        console.print("No exercises are loaded.")
        return 0
    from rich.table import Column, Table

    table = Table("#", Column("id", no_wrap=True), "lesson", "title", "status", title="Exercises", title_justify="left",
                  title_style="bold", caption="· not started   ✎ attempted   ✓ passed", caption_justify="left")
    for number, exercise in enumerate(exercises, start=1):
        table.add_row(str(number), exercise.id, exercise.lesson, exercise.title, _MARKS[store.exercise_status(exercise.id)])
    console.print(table)
    upcoming = next((e for e in exercises if store.exercise_status(e.id) != "passed"), None)
    if upcoming is None:
        console.print("[green]Every exercise has passed.[/]")
    else:
        console.print(f"Next: [bold]mnistkit exercise start {upcoming.id}[/]")
    return 0


def listing(exercises: ExerciseSet, store: ProgressStore) -> list[dict[str, Any]]:
    """Every exercise as a JSON-ready dict: ``id``, ``lesson``, ``title``, ``status``, ``hints``, ``hints_shown``, ``plugin``."""
    return [{"id": e.id, "lesson": e.lesson, "title": e.title, "status": store.exercise_status(e.id),
             "hints": len(e.hints), "hints_shown": store.hints_shown(e.id), "plugin": e.plugin} for e in exercises]


def cmd_start(args: argparse.Namespace) -> int:
    from mnistkit.curriculum import workspace

    _, exercises = load(args)
    exercise = exercises.get(args.id)
    console = common.console()
    if args.reset and workspace.learner_file(exercise, args.dir).exists():
        console.print(f"Replacing your file with the starter; your version is kept as "
                      f"{workspace.backup_file(workspace.learner_file(exercise, args.dir))}.", markup=False, soft_wrap=True)
    path, action = workspace.start(exercise, args.dir, reset=args.reset)
    show_task(console, exercise)
    if action == workspace.KEPT:
        console.print("Your file is already there and keeps your edits (`--reset` replaces it with the starter).")
    console.print(f"Edit the file named below, then run: [bold]mnistkit exercise check {exercise.id}{_dir_option(args.dir)}[/] "
                  f"(or `mnistkit exercise watch {exercise.id}{_dir_option(args.dir)}` to check on every save).", soft_wrap=True)
    print(f"Your file: {path}")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from mnistkit.curriculum import workspace
    from mnistkit.curriculum.progress import ProgressStore, record_check

    _, exercises = load(args)
    exercise = exercises.get(args.id)
    path = workspace.learner_file(exercise, args.dir)
    if not path.exists():
        from mnistkit.errors import ConfigError

        raise ConfigError(f"{path} does not exist yet; start the exercise with `mnistkit exercise start {exercise.id}"
                          f"{_dir_option(args.dir)}`")
    console = common.console()
    result = run_check(console, exercise, path, args.timeout)
    record_check(ProgressStore(), exercise, result.passed)
    if result.passed:
        following = exercises.following(exercise.id)
        if following is not None:
            console.print(f"Next: [bold]mnistkit exercise start {following.id}{_dir_option(args.dir)}[/]")
        return 0
    console.print(f"Stuck? [bold]mnistkit exercise hint {exercise.id}[/]")
    return common.EXIT_FAILED


def run_check(console: Console, exercise: Exercise, path, timeout: float | None = None, cancel=None):
    """Check ``path`` with a spinner; print the result in green or red (and the learner's last printed lines on a fail)."""
    from rich.markup import escape

    from mnistkit.curriculum.checking import check

    with console.status(f"Checking {exercise.id} ...", spinner="dots"):
        result = check(exercise, path, timeout, cancel=cancel)
    if result.passed:
        console.print(f"[bold green]✓ Passed:[/] [green]{escape(result.message)}[/]")
    else:
        console.print(f"[bold red]✗ Not yet:[/] [red]{escape(result.message)}[/]")
        if result.output.strip() and not result.passed:
            console.print("[dim]Your code printed (last lines):[/]")
            console.print(result.output, markup=False, highlight=False, soft_wrap=True)
    return result


def cmd_hint(args: argparse.Namespace) -> int:
    from rich.markup import escape

    from mnistkit.curriculum.progress import ProgressStore

    _, exercises = load(args)
    exercise = exercises.get(args.id)
    console = common.console()
    store = ProgressStore()
    if store.hints_shown(exercise.id) >= len(exercise.hints):
        console.print("Every hint is shown already:", highlight=False)
        for number, text in enumerate(exercise.hints, start=1):
            console.print(f"[bold]Hint {number} of {len(exercise.hints)}:[/] {escape(text)}")
        console.print(f"The solution: [bold]mnistkit exercise solution {exercise.id}[/]")
        return 0
    number = store.show_hint(exercise.id, len(exercise.hints))
    console.print(f"[bold]Hint {number} of {len(exercise.hints)}:[/] {escape(exercise.hints[number - 1])}")
    if number < len(exercise.hints):
        console.print(f"[dim]Another: mnistkit exercise hint {exercise.id}[/]")
    return 0


def cmd_solution(args: argparse.Namespace) -> int:
    _, exercises = load(args)
    exercise = exercises.get(args.id)
    if not sys.stdout.isatty():
        sys.stdout.write(exercise.solution())
        return 0
    from rich.syntax import Syntax

    console = common.console()
    console.print(f"[bold]The reference solution of {exercise.id}[/] [dim]({exercise.solution_path})[/]")
    console.print(Syntax(exercise.solution(), "python", theme="ansi_dark", line_numbers=True, word_wrap=True))
    console.print("[dim]Try it: copy it into your file and check it; then change one thing and see what the check says.[/]")
    return 0


def cmd_reset(args: argparse.Namespace) -> int:
    from mnistkit.curriculum import workspace
    from mnistkit.curriculum.progress import NOT_STARTED, ProgressStore

    _, exercises = load(args)
    exercise = exercises.get(args.id)
    had = workspace.learner_file(exercise, args.dir).exists()
    path, _ = workspace.start(exercise, args.dir, reset=True)
    ProgressStore().mark_exercise(exercise.id, NOT_STARTED)
    kept = f" (your version is kept as {workspace.backup_file(path)})" if had else ""
    common.console().print(f"Exercise {exercise.id} is reset: {path} holds the starter again{kept}, and its progress "
                           f"and hints start over.", markup=False, soft_wrap=True)
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    from mnistkit.cli.watch import watch

    _, exercises = load(args)
    return watch(common.console(), exercises, args.id, args.dir, args.timeout)


def _dir_option(directory: str | None) -> str:
    import shlex

    return f" --dir {shlex.quote(directory)}" if directory else ""
