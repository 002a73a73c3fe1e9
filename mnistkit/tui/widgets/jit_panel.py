"""What ``jit`` is doing, for learners: where the run executes, compile time against step time, what was traced.

A traced function named ``train_step x17`` (the engine's ``TraceLog`` name
for a fused step) runs 17 train steps in one compiled call, a ``lax.scan``
over the steps, so Python dispatches once per 17 steps; the panel says so
under it, and names the lesson that teaches jit, tracing and the train step.
"""

from __future__ import annotations

import re

from rich.text import Text
from textual.widgets import Static

from mnistkit.engine import events as ev

JIT_LESSON = "train-step"
"""The lesson that teaches ``jax.jit``, tracing and the compiled train step."""

FUSED = re.compile(r" x(\d+)$")
"""The suffix the engine gives a compiled function that runs that many train steps per call."""


def fused_steps(function: str) -> int | None:
    """How many train steps one call of the traced ``function`` runs (``train_step x17``: 17), None if not fused."""
    match = FUSED.search(function)
    return int(match.group(1)) if match else None


class JitPanel(Static):
    """Backend and devices, the one-off compile cost, and what one compiled step costs now.

    Fed by ``RunStarted`` (backend, devices, batch size), ``Compiled`` (seconds
    to trace and compile the train step), ``Traced`` (each time JAX traced a
    compiled function, and why) and ``Progress`` (images/s, from which one
    step's time follows).
    """

    def __init__(self, *, id: str | None = None):
        super().__init__(id=id)
        self.reset()

    def reset(self) -> None:
        self.backend = ""
        self.devices: tuple[str, ...] = ()
        self.batch_size = 0
        self.compile_seconds: float | None = None
        self.step_seconds: float | None = None
        self.traces: dict[str, ev.Traced] = {}
        self.update(self._text())

    def handle(self, event: object) -> None:
        match event:
            case ev.RunStarted():
                self.backend, self.devices = event.backend, event.devices
                self.batch_size = int(event.config.get("batch_size") or 0)
            case ev.Compiled():
                self.compile_seconds = event.seconds
            case ev.Traced():
                self.traces[event.function] = event
            case ev.Progress() if event.images_per_sec > 0 and self.batch_size:
                self.step_seconds = self.batch_size / event.images_per_sec
            case _:
                return
        self.update(self._text())

    def _text(self) -> Text:
        text = Text()
        if not self.backend:
            text.append("jax.jit traces the train step into a graph once, compiles it for the backend,\n"
                        "then every step reuses it. Start a run to see what that costs here.\n", style="dim")
            return text.append_text(_lesson_line())
        text.append("backend ", style="dim").append(self.backend, style="bold")
        text.append("  devices ", style="dim").append(", ".join(self.devices) or "?")
        text.append("\ncompile ", style="dim")
        text.append("waiting for the first step…" if self.compile_seconds is None else f"{self.compile_seconds:.2f} s", style="bold")
        text.append(" (trace + XLA compile, first step only)", style="dim")
        text.append("\none step ", style="dim")
        if self.step_seconds is None:
            text.append("…")
        else:
            text.append(f"{self.step_seconds * 1000:.1f} ms", style="bold")
            if self.compile_seconds:
                text.append(f" (the compile cost about {self.compile_seconds / self.step_seconds:,.0f} steps)", style="dim")
        if not self.traces:
            text.append("\ntraced ", style="dim").append("not yet")
        for name, traced in self.traces.items():
            times = "once" if traced.count == 1 else f"{traced.count} times"
            style = "bold" if traced.count == 1 else "bold yellow"
            text.append(f"\n{name} ", style="dim").append(f"traced {times}", style=style)
            text.append(f" ({traced.reason})", style="dim")
            steps = fused_steps(name)
            if steps is not None:
                text.append(f"\n  x{steps}: {steps} train steps in one compiled call (lax.scan),"
                            f"\n  so Python dispatches once per {steps} steps", style="dim")
        return text.append("\n").append_text(_lesson_line())


def _lesson_line() -> Text:
    return Text.assemble(("more on jit and tracing: lesson ", "dim"), (JIT_LESSON, "bold"))
