"""The welcome screen: the first ten minutes in four steps, one key each; and step 2's "what happened" page."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown, Static

from mnistkit.curriculum.context import lesson_config
from mnistkit.report.story import what_happened
from mnistkit.runs.catalog import PastRun
from mnistkit.runs.config import RunConfig, settle
from mnistkit.tui.first_steps import CHANGE, COMPARE, READ, SMALLER, TRAIN, FirstSteps

if TYPE_CHECKING:
    from mnistkit.tui.screens.main import MainScreen

STEPS = {
    TRAIN: "Train a small CNN on the sample, 2 epochs (about 15 s)",
    READ: "Read what happened: your run's numbers, in words",
    CHANGE: f"Change one thing: the learning rate, {SMALLER} times smaller",
    COMPARE: "Train again, the first run's curve drawn in grey",
}


NEXT_STEP = "[b]w[/] for the next of your first steps, "
"""Put before the run tab's "press g to train again" once step 1's run has finished."""

ALL_DONE = "[b]c[/] to compare with another run, "
"""Put there once step 4's run has finished: the four steps are done."""


class _StepsApp(Protocol):
    """What the steps use of ``MnistkitApp`` (described here, as that module imports this one)."""

    first_steps: FirstSteps
    config: RunConfig
    registry: Any

    @property
    def main(self) -> MainScreen: ...

    def start_run(self, config: RunConfig, *, step: int | None = None, hint: str = "") -> None: ...

    def push_screen(self, screen: Any, callback: Any = None) -> Any: ...


class WelcomeScreen(ModalScreen[None]):
    """The four steps with their state; 1-4 take a step, Enter the next one, Esc closes (w opens it again)."""

    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("w", "dismiss", "Close", show=False),
        Binding("enter", "step(0)", "Next step"),
        *(Binding(str(step), f"step({step})", f"Step {step}", show=False) for step in STEPS),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="welcome"):
            yield Static("", id="welcome-steps")
            yield Static("", id="welcome-note")
            yield Static("[b]Enter[/] takes the next step, [b]1[/]-[b]4[/] any of them. [b]Esc[/] closes; [b]w[/] "
                         "opens this again. After these, the lessons in the sidebar teach each part ([b]][/] for the "
                         "next one, [b]?[/] for every key).", id="welcome-hint")

    def on_mount(self) -> None:
        self.query_one("#welcome").border_title = "Welcome to mnistkit: your first ten minutes"
        self.show_steps()

    def show_steps(self, note: str = "") -> None:
        steps = cast(_StepsApp, self.app).first_steps
        upcoming = steps.next_step()
        lines = []
        for step, text in STEPS.items():
            mark = "[green]✓[/]" if steps.done(step) else "[b]▶[/]" if step == upcoming else "·"
            lines.append(f"{mark} [b]{step}[/]  {text}")
        if steps.first is not None and steps.first.history:
            lines.append(f"\n   first run: test accuracy {_accuracy(steps.first)}"
                         + (f", learning rate {steps.first.config.get('learning_rate')}" if steps.changed else ""))
        if steps.changed is not None:
            lines.append(f"   next run: learning rate {steps.changed.learning_rate:g}"
                         + (f", test accuracy {_accuracy(steps.second)}" if steps.second is not None else ""))
        if upcoming is None:
            note = note or ("All four done. Press [b]t[/] to try any other value (the grey curves stay), "
                            "[b]c[/] to compare with another run.")
        self.query_one("#welcome-steps", Static).update("\n".join(lines))
        self.query_one("#welcome-note", Static).update(note)

    def action_step(self, step: int) -> None:
        app = cast(_StepsApp, self.app)
        steps = app.first_steps
        step = step or steps.next_step() or TRAIN
        problem = steps.ready(step)
        if problem:
            self.show_steps(f"[yellow]{problem}[/]")
            return
        if step == CHANGE:
            changed = steps.smaller_rate(steps.first_config or app.config)
            app.config = changed
            self.show_steps(f"Set: learning rate {changed.learning_rate:g}. Press [b]4[/] to train with it "
                            "(or Esc, then [b]t[/] to type a value of your own).")
            return
        self.dismiss()
        if step == TRAIN:
            config = settle(lesson_config(data="sample"), app.registry)
            app.config = steps.first_config = config
            app.start_run(config, step=TRAIN, hint=NEXT_STEP)
        elif step == READ and steps.first is not None:
            steps.read = True
            first = steps.first
            story = what_happened(first.config, first.history, num_train=first.num_train, num_test=first.num_test,
                                  steps_per_epoch=first.steps_per_epoch, seconds=first.seconds)
            # Closing the story brings the steps back, with step 3 next.
            app.push_screen(RunStoryScreen(story), lambda _: app.push_screen(WelcomeScreen()))
        elif step == COMPARE and steps.first is not None:
            app.start_run(app.config, step=COMPARE, hint=ALL_DONE)
            first = steps.first
            app.main.run_pane.compare_with(PastRun(first.path or Path("first run"), first.config, "completed", "", first.history))


def _accuracy(run) -> str:
    value = run.history[-1].get("test_accuracy") if run.history else None
    return f"{value:.1%}" if isinstance(value, float) else "?"


class RunStoryScreen(ModalScreen[None]):
    """Step 2: the first run explained (``report.story.what_happened``); Esc closes."""

    BINDINGS = [Binding("escape", "dismiss", "Close"), Binding("q", "dismiss", "Close", show=False)]

    def __init__(self, markdown: str):
        super().__init__()
        self.markdown = markdown

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="run-story"):
            yield Markdown(self.markdown)

    def on_mount(self) -> None:
        story = self.query_one("#run-story")
        story.border_title = "What happened (↑ ↓ PgDn scroll, Esc closes)"
        story.focus()
