"""The first ten minutes, as state: train, read what happened, change the learning rate, train again and compare.

No Textual here. ``FirstSteps`` knows which of the four steps are done and
what each needs (the first run's settings, history and folder); the welcome
screen shows it and the app does what a step's key asks. A run counts for a
step only when that step started it (``started``), and only once it finished.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mnistkit.engine import events as ev
from mnistkit.runs.config import RunConfig
from mnistkit.tui import training

TRAIN, READ, CHANGE, COMPARE = 1, 2, 3, 4
SMALLER = 10
"""Step 3 divides the learning rate by this: a change that shows on the charts after two epochs and never diverges."""


@dataclass
class FinishedRun:
    """What step 2 tells and step 4 compares with: a run of the first steps that finished."""

    config: dict[str, Any]
    history: tuple[dict[str, float], ...]
    seconds: float
    num_train: int
    num_test: int
    steps_per_epoch: int
    path: Path | None


@dataclass
class FirstSteps:
    first_config: RunConfig | None = None
    """The settings step 1 trains (the lessons' defaults on the bundled sample); step 3 changes one of them."""
    first: FinishedRun | None = None
    read: bool = False
    changed: RunConfig | None = None
    second: FinishedRun | None = None
    started: int | None = None
    """The step whose run is in flight (TRAIN or COMPARE), None when the run shown is not one of theirs."""
    _seen: dict[str, Any] = field(default_factory=dict)

    def done(self, step: int) -> bool:
        return {TRAIN: self.first is not None, READ: self.read, CHANGE: self.changed is not None,
                COMPARE: self.second is not None}[step]

    def next_step(self) -> int | None:
        """The first step not done yet, or None once all four are."""
        return next((step for step in (TRAIN, READ, CHANGE, COMPARE) if not self.done(step)), None)

    def ready(self, step: int) -> str:
        """Empty when ``step`` can be taken now, else what to do first."""
        if step in (READ, CHANGE) and self.first is None:
            return "Train first: press 1, and let the run finish."
        if step == COMPARE and self.changed is None:
            return "Change the learning rate first: press 3."
        return ""

    def smaller_rate(self, config: RunConfig) -> RunConfig:
        """Step 3: ``config`` (the first run's settings) with the learning rate ``SMALLER`` times smaller."""
        rate = config.learning_rate or (self.first.config.get("learning_rate") if self.first else None) or 0.005
        self.changed = replace(config, learning_rate=float(f"{rate / SMALLER:.6g}"))
        return self.changed

    def begin(self, step: int | None) -> None:
        """A run starts: step ``step``'s (TRAIN or COMPARE), or None for any other."""
        self.started, self._seen = step, {}

    def see(self, item: object) -> None:
        """Follow the run in flight; a finished run of step TRAIN or COMPARE completes it."""
        if self.started is None:
            return
        if isinstance(item, ev.RunStarted):
            self._seen.update(config=dict(item.config), num_train=item.num_train, num_test=item.num_test,
                              steps_per_epoch=item.steps_per_epoch)
        elif isinstance(item, training.RunFolder):
            self._seen["path"] = item.path
        elif isinstance(item, ev.Finished) and "config" in self._seen:
            run = FinishedRun(history=tuple(item.history), seconds=item.seconds, path=self._seen.pop("path", None),
                              **self._seen)
            if self.started == TRAIN:
                self.first, self.read, self.changed, self.second = run, False, None, None
            else:
                self.second = run
            self.started = None
        elif isinstance(item, (ev.Interrupted, ev.Failed)):
            self.started = None
