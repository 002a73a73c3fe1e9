"""The lessons in a plain terminal: ``mnistkit lessons`` and ``mnistkit lesson show/run/reset``.

A consumer of ``mnistkit.curriculum.lessons`` (files, progress) and ``mnistkit.curriculum.stages``
(runnable stages), like the TUI. Nothing here is imported by ``mnistkit
--help``; rich is imported by the callers' console.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console

from mnistkit.curriculum import lessons as lessons_module
from mnistkit.curriculum.lessons import Lesson, ProgressStore

_MARKS = {"done": "[green]✓ done[/]", "current": "[yellow]▶ current[/]", "not started": "[dim]·[/]"}


def list_lessons(console: Console, store: ProgressStore) -> None:
    """The curriculum in order with each lesson's status, then the plugin lessons."""
    from rich.table import Table

    all_lessons = lessons_module.load_lessons()
    core = [lesson for lesson in all_lessons if not lesson.is_plugin_lesson]
    plugin = [lesson for lesson in all_lessons if lesson.is_plugin_lesson]
    for title, group in (("The curriculum", core), ("Plugin lessons", plugin)):
        if not group:
            continue
        table = Table("#", "id", "title", "min", "status", title=title, title_justify="left", title_style="bold")
        for number, lesson in enumerate(group, start=1):
            table.add_row(str(number), lesson.id, lesson.title, str(lesson.minutes), _MARKS[store.status(lesson.id)])
        console.print(table)
    upcoming = _up_next(core, store)
    if upcoming is not None:
        console.print(f"Next: [bold]mnistkit lesson show {upcoming.id}[/]")
    else:
        console.print("[green]Every lesson of the curriculum is done.[/]")


def _up_next(core: list[Lesson], store: ProgressStore) -> Lesson | None:
    last = store.last_lesson()
    if last is not None and any(lesson.id == last for lesson in core) and store.status(last) != "done":
        return next(lesson for lesson in core if lesson.id == last)
    return next((lesson for lesson in core if store.status(lesson.id) != "done"), None)


def show_lesson(console: Console, lesson_id: str, store: ProgressStore, *, answers: bool = False) -> None:
    """Render one lesson as markdown; answers stay hidden unless ``answers``."""
    from rich.markdown import Markdown
    from rich.rule import Rule

    all_lessons = lessons_module.load_lessons()
    lesson = lessons_module.get_lesson(lesson_id)
    if store.status(lesson.id) != "done":
        store.mark(lesson.id, "current")
    console.print(Rule(f"[bold]{lesson.title}[/]"))
    console.print(_header(lesson, all_lessons, store), highlight=False)
    body = lesson.body if answers else lessons_module.hide_answers(lesson.body, "*(answer hidden)*")
    console.print(Markdown(body, code_theme="ansi_dark"))
    console.print(Rule())
    hints = []
    if lesson.stage:
        hints.append(f"Run it: [bold]mnistkit lesson run {lesson.id}[/]")
    if not answers and lesson.questions:
        hints.append(f"Answers: [bold]mnistkit lesson show {lesson.id} --answers[/]")
    following = lessons_module.next_lesson(lesson.id, all_lessons)
    if following is not None:
        hints.append(f"Next: [bold]mnistkit lesson show {following.id}[/]")
    for hint in hints:
        console.print(hint)


def _header(lesson: Lesson, all_lessons: list[Lesson], store: ProgressStore) -> str:
    group = [x for x in all_lessons if x.is_plugin_lesson == lesson.is_plugin_lesson]
    where = f"lesson {group.index(lesson) + 1} of {len(group)}" if lesson in group else "lesson"
    if lesson.is_plugin_lesson:
        where = f"plugin {where}"
    parts = [where, f"{lesson.minutes} min", f"status: {store.status(lesson.id)}"]
    if lesson.stage:
        parts.append(f"stage: {lesson.stage}")
    if lesson.prerequisites:
        parts.append("after: " + ", ".join(lesson.prerequisites))
    return "[dim]" + " · ".join(parts) + "[/]"


class TerminalEmitter:
    """Shows what a stage emits: text, rich renderables, notes, and a training run's events."""

    def __init__(self, console: Console, epochs: int):
        self.console = console
        self.epochs = epochs
        self.view = None

    def __call__(self, item: Any) -> None:
        from mnistkit.engine import events as ev
        from mnistkit.curriculum.stages import Note

        if isinstance(item, ev.RunStarted):
            from mnistkit.report.terminal import ConsoleView

            self.view = ConsoleView(self.console, self.epochs).__enter__()
        if self.view is not None and isinstance(item, ev.Event):
            self.view.handle(item)
            if isinstance(item, (ev.Finished, ev.Failed)):
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


def run_lesson(console: Console, lesson_id: str, store: ProgressStore, settings) -> int:
    """Run the lesson's stage (and what it needs) with live output; mark the lesson done."""
    from mnistkit.curriculum import stages

    lesson = lessons_module.get_lesson(lesson_id)
    if not lesson.stage:
        console.print(f"Lesson {lesson.id!r} has no stage to run; read it with `mnistkit lesson show {lesson.id}`.")
        return 0
    settings = _with_plugin_of(lesson, settings)
    store.mark(lesson.id, "current")
    console.print(f"[bold]Stage {lesson.stage!r}[/]: {stages.get_stage(lesson.stage).title}")
    emit = TerminalEmitter(console, settings.epochs)
    try:
        result = stages.run_stage(stages.StageContext(settings), lesson.stage, emit)
    finally:
        emit.close()
    store.mark(lesson.id, "done")
    following = lessons_module.next_lesson(lesson.id)
    after = f"  Next: [bold]mnistkit lesson show {following.id}[/]" if following is not None else ""
    console.print(f"[green]Stage {lesson.stage!r} finished in {result.seconds:.1f} s; lesson {lesson.id!r} is done.[/]{after}")
    return 0


def _with_plugin_of(lesson: Lesson, settings):
    """For a plugin's lesson, use the model or optimizer it teaches unless one was chosen."""
    from dataclasses import replace
    from pathlib import Path

    if not lesson.is_plugin_lesson or (settings.model is not None and settings.optimizer is not None):
        return settings
    from mnistkit.host.registry import load_registry

    registry = load_registry()
    mine = [key for key, path in registry.lessons.items() if Path(path).resolve() == Path(lesson.path).resolve()]
    for kind, name in mine:
        if kind == "model" and settings.model is None:
            settings = replace(settings, model=name)
        elif kind == "optimizer" and settings.optimizer is None:
            settings = replace(settings, optimizer=name)
    return settings


def reset_lesson(console: Console, lesson_id: str, store: ProgressStore, settings) -> int:
    """Mark the lesson not started and forget its stage's saved results."""
    from mnistkit.curriculum import stages

    lesson = lessons_module.get_lesson(lesson_id)
    store.mark(lesson.id, "not started")
    forgotten = stages.reset(stages.StageContext(settings), lesson.stage) if lesson.stage else []
    what = f"; forgot stage {lesson.stage!r} and what builds on it ({', '.join(forgotten[1:]) or 'nothing'})" if lesson.stage else ""
    console.print(f"Lesson {lesson.id!r} is reset to not started{what}.")
    return 0
