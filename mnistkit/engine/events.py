"""The typed events a training run emits.

The engine yields these and knows nothing of who listens; the CLI, the run
directory writer and the TUI only consume them. Every event is a frozen
dataclass holding plain Python numbers, strings and (for pictures) numpy
arrays, so a consumer never has to touch JAX.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SCHEMA_VERSION = 1
"""Version of the JSON event stream printed by ``mnistkit run --json``."""


@dataclass(frozen=True)
class RunStarted:
    """Training is about to start: what runs, where, on what data."""

    config: dict[str, Any]
    backend: str
    devices: tuple[str, ...]
    data_source: str
    num_train: int
    num_test: int
    steps_per_epoch: int


@dataclass(frozen=True)
class Compiled:
    """The train step was traced and compiled (first step of the run)."""

    seconds: float


@dataclass(frozen=True)
class Traced:
    """JAX traced ``function`` again (``count`` times so far) and why: shapes or dtypes changed."""

    function: str
    count: int
    reason: str


@dataclass(frozen=True)
class Progress:
    """Steps done so far in the current epoch, with running train metrics."""

    epoch: int
    step: int
    steps: int
    loss: float
    accuracy: float
    images_per_sec: float


@dataclass(frozen=True)
class EpochEnd:
    """An epoch of training finished; ``train`` holds its mean metrics."""

    epoch: int
    train: dict[str, float]
    seconds: float


@dataclass(frozen=True)
class Evaluation:
    """The model was scored on every test image after ``epoch``."""

    epoch: int
    test: dict[str, float]
    seconds: float


@dataclass(frozen=True)
class Predictions:
    """A fixed set of test digits with the model's guesses after ``epoch``."""

    epoch: int
    images: np.ndarray = field(repr=False)  # (n, 28, 28) uint8
    labels: np.ndarray = field(repr=False)  # (n,) int
    predicted: np.ndarray = field(repr=False)  # (n,) int


@dataclass(frozen=True)
class Report:
    """A metric plugin's end-of-evaluation report: values, text, files."""

    epoch: int
    metric: str
    values: dict[str, float]
    text: str = ""
    artifacts: dict[str, bytes] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Finished:
    """The run completed every epoch; ``history`` has one row per epoch."""

    history: tuple[dict[str, float], ...]
    seconds: float


@dataclass(frozen=True)
class Interrupted:
    """The run was asked to stop after ``step`` steps of ``epoch`` (Ctrl-C, cancel).

    ``steps`` is that epoch's step count (the progress bar's total; None when not known).
    The engines yield a ``Progress`` at ``step`` first, so a bar ends where the run stopped.
    """

    epoch: int
    step: int
    history: tuple[dict[str, float], ...]
    steps: int | None = None


@dataclass(frozen=True)
class Failed:
    """The run stopped early because of an error it could describe."""

    message: str
    epoch: int | None = None
    step: int | None = None


Event = (
    RunStarted | Compiled | Traced | Progress | EpochEnd | Evaluation | Report | Predictions | Finished | Interrupted | Failed
)


def history_row(epoch_end: EpochEnd, evaluation: Evaluation) -> dict[str, float]:
    """One row of the metrics history: ``train_*`` and ``test_*`` columns."""
    row: dict[str, float] = {"epoch": epoch_end.epoch}
    row.update({f"train_{k}": v for k, v in epoch_end.train.items()})
    row.update({f"test_{k}": v for k, v in evaluation.test.items()})
    row["seconds"] = epoch_end.seconds + evaluation.seconds
    return row


def to_json(event: Event) -> dict[str, Any]:
    """The event as a JSON-ready dict whose ``event`` key names its type."""
    out: dict[str, Any] = {"event": type(event).__name__}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        if isinstance(value, np.ndarray):
            value = value.tolist()
        elif f.name == "artifacts":
            value = sorted(value)
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out
