"""How an exercise looks in a plain terminal: its task, shared by ``mnistkit exercise start`` and the watch mode."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from mnistkit.curriculum.exercises import Exercise


def show_task(console: Console, exercise: Exercise) -> None:
    from rich.markdown import Markdown
    from rich.rule import Rule

    console.print(Rule(f"[bold]{exercise.title}[/]"))
    console.print(f"[dim]exercise {exercise.id} · lesson {exercise.lesson} · {len(exercise.hints)} hints[/]")
    console.print(Markdown(exercise.task, code_theme="ansi_dark"))
