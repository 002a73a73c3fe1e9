"""The mnistkit TUI application: lessons, progress, and runs in a worker thread.

The app owns the state (the plugin registry, the curriculum, the user's
progress, the run in flight) and the actions; the screens only show it. A
training run (``training.run_events``) or a lesson's stage
(``training.run_stage_into``) runs in a thread worker that posts each item
back as a ``RunItem`` message, Progress at most ten times a second, so the
interface stays responsive; cancelling sets a flag the engine polls between
steps.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import cast

from rich.markup import escape
from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.worker import Worker, WorkerState, get_current_worker

from mnistkit.curriculum import loader as lessons
from mnistkit.curriculum import progress as learner
from mnistkit.curriculum.progress import CURRENT, DONE, PASSED
from mnistkit.curriculum.stages import StageContext, lesson_config
from mnistkit.engine import events as ev
from mnistkit.errors import MnistkitError
from mnistkit.runs.config import RunConfig, settle
from mnistkit.tui.first_steps import FirstSteps
from mnistkit.tui.palette import ACTIONS
from mnistkit.tui.screens.exercise import ExerciseScreen
from mnistkit.tui.screens.main import MainScreen
from mnistkit.tui.screens.runs import offer_compare, offer_resume
from mnistkit.tui.screens.welcome import WelcomeScreen
from mnistkit.tui.training import StageDone, run_events, run_stage_into
from mnistkit.tui.widgets.run_pane import MARK_DONE

UI_INTERVAL = 0.1
"""Seconds between Progress events passed to the screen; the last step of an epoch always passes."""

RUN_HANDOVER = 60.0
"""Seconds a new run waits at most for the run before it to close its folder (pictures, checkpoint, lock)."""

DARK, LIGHT = "textual-dark", "textual-light"


class RunItem(Message):
    """One item of a run's stream (an engine event or a TUI notice), tagged with its run."""

    def __init__(self, run_id: int, item: object) -> None:
        super().__init__()
        self.run_id = run_id
        self.item = item


class MnistkitApp(App[None]):
    """``mnistkit tui``: walk the lessons, train models and watch them learn."""

    TITLE = "mnistkit"
    CSS_PATH = "mnistkit.tcss"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-medium"), (120, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    BINDINGS = [
        Binding("question_mark", "help", "Keys"),
        Binding("ctrl+t", "toggle_theme", "Theme", show=False),
    ]

    def __init__(self, registry, progress: learner.Progress | None = None, *, data: str = "auto",
                 data_dir: str | None = None, curriculum: lessons.Curriculum | None = None,
                 runs_dir: str | None = None, welcome: bool = False):
        super().__init__()
        self.welcome = welcome
        """Open the first-ten-minutes steps on start (``mnistkit tui`` does, for a learner with no progress yet)."""
        self.first_steps = FirstSteps()
        self.registry = registry
        self.runs_dir = runs_dir
        self.curriculum = curriculum if curriculum is not None else lessons.load(registry)
        self.progress = progress if progress is not None else learner.Progress()
        self.config = self._settled(lesson_config(data=data, data_dir=data_dir))
        self.lesson_id: str | None = None
        self._run_id = 0
        self._stop = threading.Event()
        self._run_done = threading.Event()  # set once the latest run's thread has finished (its folder closed)
        self._run_done.set()
        self._stages: StageContext | None = None
        self.theme = DARK

    def get_default_screen(self) -> Screen:
        return MainScreen()

    @property
    def main(self) -> MainScreen:
        """The main screen, at the bottom of the stack whatever is shown above it."""
        return cast(MainScreen, self.screen_stack[0])  # get_default_screen puts it there

    def on_mount(self) -> None:
        if not self.is_headless:
            # SIGTERM (a kill, a closing session) or SIGHUP (the terminal went away) end the app as q does,
            # so the terminal is given back as it was and a run in flight stops at a checkpoint.
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGHUP):
                loop.add_signal_handler(signum, self.exit)
        for problem in (*self.curriculum.problems, *(str(p) for p in self.registry.problems)):
            self.notify(problem, title="Problem", severity="warning", timeout=8)
        if self.registry.problems:
            self.notify("Press p to see every plugin and why some failed.", timeout=8)
        if self.progress.problem:
            self.notify(self.progress.problem, severity="warning")
        if self.welcome:
            self.call_after_refresh(self.action_welcome)

    def resume(self) -> None:
        """Open the next lesson (the curriculum's rule, as ``mnistkit lessons`` says), else the last one opened."""
        last = self.progress.last_lesson()
        start = self.curriculum.up_next(self.lesson_status, last) or self.curriculum.get(last)
        if start is not None:
            self.open_lesson(start.id)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, ExerciseScreen):
            for title, help_text, action in screen.palette_commands():
                yield SystemCommand(title, help_text, partial(screen.run_action, action))
        for title, help_text, action, anywhere in ACTIONS:
            if anywhere or isinstance(screen, MainScreen):
                yield SystemCommand(title, help_text, partial(self.run_action, action))

    # Lessons

    def lesson_status(self, lesson_id: str) -> str:
        """The lesson's status as shown: done, for a lesson with exercises, once they all pass."""
        return self.curriculum.status(lesson_id, self.progress)

    def open_lesson(self, lesson_id: str) -> None:
        """Show a lesson and record it as the current one (a done lesson stays done)."""
        lesson = self.curriculum.get(lesson_id)
        if lesson is None:
            return
        previous, self.lesson_id = self.lesson_id, lesson_id
        # Marking "done" again keeps it done and records it as the last one opened.
        self.progress.mark(lesson_id, DONE if self.progress.status(lesson_id) == DONE else CURRENT)
        if previous and previous != lesson_id:
            opened = self.curriculum.get(previous)
            assert opened is not None  # lesson_id only ever names a lesson of the curriculum
            self.main.mark_lesson(opened)
        self.main.show_lesson(lesson, self.curriculum.position(lesson))

    def action_next_lesson(self) -> None:
        self._step_lesson(+1)

    def action_previous_lesson(self) -> None:
        self._step_lesson(-1)

    def _step_lesson(self, step: int) -> None:
        lesson = self.curriculum.neighbour(self.lesson_id, step)
        if lesson is None:
            self.notify("That was the last lesson." if step > 0 else "This is the first lesson.")
            return
        self.open_lesson(lesson.id)

    def action_mark_done(self) -> None:
        lesson = self.curriculum.get(self.lesson_id)
        if lesson is None:
            self.notify("Open a lesson first.")
            return
        self.progress.mark(lesson.id, DONE)
        self.main.mark_lesson(lesson)
        if self.lesson_status(lesson.id) == DONE:
            self.notify(f"Done: {lesson.title}")
        else:
            self.notify("Noted. A lesson with exercises is done once they pass: press e for its exercise.")

    def action_exercise(self) -> None:
        """Open the exercise view on the lesson's first exercise not passed yet (else its first)."""
        lesson = self.curriculum.get(self.lesson_id)
        if lesson is None:
            self.notify("Open a lesson first.")
            return
        exercises = self.curriculum.exercises.for_lesson(lesson.id)
        if not exercises:
            self.notify("This lesson has no exercise. Press ] for the next lesson.")
            return
        states = [self.progress.exercise_status(exercise.id) for exercise in exercises]
        index = next((i for i, state in enumerate(states) if state != PASSED), 0)
        try:
            screen = ExerciseScreen(exercises, index, self.progress)
        except MnistkitError as err:
            self.notify(str(err), title="Exercise", severity="error")
            return
        self.push_screen(screen)

    @on(ExerciseScreen.Changed)
    def _exercise_changed(self, message: ExerciseScreen.Changed) -> None:
        lesson = self.curriculum.get(message.exercise.lesson)
        if lesson is None:
            return
        self.main.mark_lesson(lesson)
        if self.progress.exercise_status(message.exercise.id) == PASSED and self.lesson_status(lesson.id) == DONE:
            done = f"{lesson.title}: every exercise passes, the lesson is done. Esc twice back to it, then ] for the next one."
            if isinstance(self.screen, ExerciseScreen):
                self.screen.add_to_result(f"[b]Lesson done.[/] {escape(done)}")  # under the result, not over it
            else:
                self.notify(done, title="Lesson done", timeout=8)

    # Views

    def action_show_tab(self, tab: str) -> None:
        self.main.show_tab(tab)

    def action_toggle_sidebar(self) -> None:
        self.main.toggle_sidebar()

    async def action_toggle_theme(self) -> None:
        await self.main.drop_hidden_lessons()  # every widget is restyled for the new theme, so the fewer the better
        self.theme = LIGHT if self.current_theme.dark else DARK

    def action_help(self) -> None:
        from mnistkit.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_plugins(self) -> None:
        from mnistkit.tui.screens.plugins import PluginsScreen

        if not isinstance(self.screen, PluginsScreen):
            self.push_screen(PluginsScreen(self.registry, self.curriculum))

    # Runs

    def action_train(self) -> None:
        from mnistkit.tui.screens.setup import SetupScreen

        if isinstance(self.screen, SetupScreen):
            return
        lesson = self.curriculum.get(self.lesson_id)
        config = self._config_for(lesson) if lesson is not None else self.config
        self.push_screen(SetupScreen(self.registry, self.curriculum, config), self._chosen)

    def _chosen(self, config: RunConfig | None) -> None:
        if config is not None:
            self.config = config
            self.start_run(config)

    def action_train_again(self) -> None:
        self.start_run(self.config)

    def action_resume(self) -> None:
        offer_resume(self)

    def action_compare(self) -> None:
        offer_compare(self)

    def action_welcome(self) -> None:
        if not isinstance(self.screen, WelcomeScreen):
            self.push_screen(WelcomeScreen())

    def action_run_stage(self) -> None:
        lesson = self.curriculum.get(self.lesson_id)
        if lesson is None or not lesson.stage:
            self.notify("This lesson has no stage to run. Press t to choose a model and train it.")
            return
        from mnistkit.curriculum import stages

        config = self._config_for(lesson)
        if self._stages is None or self._stages.config != config:
            self._stages = stages.StageContext(config=config, registry=self.registry, runs_dir=Path(self.runs_dir) if self.runs_dir is not None else None)
        ctx, name = self._stages, lesson.stage
        waiting = self.curriculum.waiting(lesson.id, self.progress)
        hint = "[b]e[/] for its exercise (the lesson is done once it passes), " if waiting else MARK_DONE
        self._start(f"stage {name} of {lesson.title!r}",
                    lambda emit, should_stop: run_stage_into(ctx, name, emit, should_stop), stage=True, hint=hint)

    def _config_for(self, lesson):
        """The chosen configuration, with the model or optimizer a plugin's lesson teaches put in."""
        return self._settled(self.curriculum.config_for(self.config, lesson, self.registry))

    def _settled(self, config: RunConfig) -> RunConfig:
        """``config`` with its plugin defaults filled in; as it is when a plugin it names is missing.

        Such a config still opens the form; the run API reports the missing
        plugin in one line when a run starts.
        """
        try:
            return settle(config, self.registry)
        except MnistkitError:
            return config

    def start_run(self, config: RunConfig, *, step: int | None = None, hint: str = "") -> None:
        """Train ``config`` in a worker, cancelling any run in flight; ``step``: the first step that started it."""

        def train(emit, should_stop):
            for item in run_events(config, self.registry, should_stop, self.runs_dir):
                emit(item)

        self._start(f"{config.model} + {config.optimizer}, {config.epochs:g} epoch(s)", train, step=step, hint=hint)

    def resume_run(self, path: Path) -> None:
        """Continue the run in folder ``path`` from its last checkpoint, as ``mnistkit run --resume`` does."""

        def train(emit, should_stop):
            for item in run_events(None, self.registry, should_stop, self.runs_dir, resume=path):
                emit(item)

        self._start(f"resuming {path.name}", train)

    def _start(self, title: str, source, stage: bool = False, step: int | None = None, hint: str = "") -> None:
        if self.main.running:
            self.action_cancel_run(quiet=True)
            self.notify("Cancelled the run in progress to start this one.")
        self._run_id += 1
        self._stop = threading.Event()
        previous, self._run_done = self._run_done, threading.Event()
        self.first_steps.begin(step)
        self.main.begin_run(title, stage, hint)
        self._run_in_thread(self._run_id, source, self._stop, previous, self._run_done)

    def action_cancel_run(self, quiet: bool = False) -> None:
        if not self.main.running:
            if not quiet:
                self.notify("Nothing is running.")
            return
        self._stop.set()
        if quiet:
            return
        if self.main.showing_run:
            self.main.run_pane.cancelling()  # said on the status line in view, not in a toast over the grid
        else:
            self.notify("Cancelling…")

    @work(thread=True, exclusive=True, group="run", exit_on_error=False)
    def _run_in_thread(self, run_id: int, source, stop: threading.Event, previous: threading.Event,
                       done: threading.Event) -> None:
        """Call ``source(emit, should_stop)`` and post what it emits, Progress at most every ``UI_INTERVAL``.

        It starts once the run before has finished in full: that run's last event reaches the screen while
        its thread still closes its folder and lets go of its lock, which ``u`` (resuming it) needs.
        """
        try:
            worker, waited = get_current_worker(), 0.0
            while not previous.wait(0.1) and waited < RUN_HANDOVER:
                if stop.is_set() or worker.is_cancelled:
                    return  # cancelled, or the app is quitting, before it began
                waited += 0.1
            self._stream(run_id, source, stop)
        finally:
            done.set()

    def _stream(self, run_id: int, source, stop: threading.Event) -> None:
        worker = get_current_worker()
        shown = 0.0

        def emit(item: object) -> None:
            nonlocal shown
            if isinstance(item, ev.Progress) and item.step != item.steps:
                now = time.monotonic()
                if now - shown < UI_INTERVAL:
                    return
                shown = now
            self.post_message(RunItem(run_id, item))

        source(emit, lambda: stop.is_set() or worker.is_cancelled)

    @on(RunItem)
    def _show_run_item(self, message: RunItem) -> None:
        if message.run_id != self._run_id:
            return
        item = message.item
        self.first_steps.see(item)
        self.main.handle_run_item(item)
        if self.main.showing_run and not isinstance(item, ev.Failed):
            return  # the status line in view says how the run ended: no notification over the grid
        match item:
            case ev.Finished():
                self.notify(f"Training finished in {item.seconds:.0f} s.", title="Run")
            case ev.Interrupted():
                self.notify("Run cancelled.", title="Run")
            case StageDone():
                self.notify(f"Stage {item.stage!r} done. Press {self.main.run_pane.hint}] for the next one.", title="Stage")
            case ev.Failed():
                self.notify(item.message, title="Run failed", severity="error", timeout=10)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.group == "run":
            error = event.worker.error
            self.main.handle_run_item(ev.Failed(f"{type(error).__name__}: {error}"))
            self.notify(str(error), title="Run failed", severity="error")
