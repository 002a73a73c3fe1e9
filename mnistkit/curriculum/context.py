"""What the lessons' stages share: the context they build up, what they emit, and how a stage registers.

``mnistkit.curriculum.stages`` runs them; ``mnistkit.curriculum.tutorial_stages``
defines the tutorial's. Importing this module is cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Emit = Callable[[Any], None]


class StageStopped(Exception):
    """The learner stopped a stage that trains (Ctrl-C, or cancel in the TUI); the message says what was kept."""


@dataclass(frozen=True)
class Note:
    """A message about the stages themselves, such as "recomputing data first"."""

    text: str


@dataclass(frozen=True)
class StageResult:
    """What a finished stage left: its values and everything it emitted."""

    stage: str
    values: dict[str, Any]
    shown: tuple[Any, ...]
    seconds: float


def lesson_config(**options: Any):
    """The run configuration of the lessons' stages: the run defaults with short training, then ``options`` (None: not given)."""
    from mnistkit.runs.config import LESSON_EPOCHS, from_options

    return from_options({"epochs": LESSON_EPOCHS, **{k: v for k, v in options.items() if v is not None}})


@dataclass
class StageContext:
    """Shared state of the stages; each stage sets the attributes it ``produces``.

    ``config`` is the run configuration every stage reads (the ``train``
    stage trains it through the run API, like ``mnistkit run``); it is
    settled against the plugins before the first stage runs. ``out_dir``
    holds curves.png, predictions.png and the train cache (default:
    ``<home>/lessons``); ``runs_dir`` is where the ``train`` stage's run
    folder goes (default: ``MNISTKIT_RUNS_DIR`` or ``./runs``).
    ``should_stop`` is polled by the ``train`` stage between steps.
    """

    config: Any = field(default_factory=lesson_config)
    registry: Any = None
    out_dir: Path | None = None
    runs_dir: Path | None = None
    cache: bool = True  # keep the trained model on disk for the next program
    should_stop: Callable[[], bool] = lambda: False
    progress_every: int = 50
    results: dict[str, StageResult] = field(default_factory=dict)
    data: Any = None  # mnistkit.data.MnistArrays
    model: Any = None  # the freshly initialised model
    tx: Any = None  # the optax GradientTransformation
    optimizer: Any = None  # nnx.Optimizer over ``model``
    trained: Any = None  # a trained copy of ``model``
    history: tuple[dict[str, float], ...] = ()
    predictions: Any = None  # mnistkit.engine.events.Predictions
    run_dir: Path | None = None  # the train stage's run folder
    run: Any = None  # the train stage's mnistkit.runs.assemble.Run while it trains

    def output_dir(self) -> Path:
        if self.out_dir is not None:
            return Path(self.out_dir)
        from mnistkit import environment

        return environment.home_dir() / "lessons"


@dataclass(frozen=True)
class Stage:
    """A runnable step of the tutorial; see ``stage`` for the fields."""

    name: str
    title: str
    requires: tuple[str, ...]
    produces: tuple[str, ...]
    run: Callable[[StageContext, Emit], dict[str, Any]]


STAGES: dict[str, Stage] = {}


def stage(name: str, title: str, requires: tuple[str, ...] = (), produces: tuple[str, ...] = ()):
    """Register the decorated ``run(ctx, emit) -> values`` as stage ``name``.

    ``requires`` names the stages whose results it reads from the context;
    ``produces`` the context attributes it sets (cleared when it is reset).
    """

    def add(fn: Callable[[StageContext, Emit], dict[str, Any]]):
        STAGES[name] = Stage(name, title, requires, produces, fn)
        return fn

    return add



def plugin_registry(ctx: StageContext):
    """The plugin registry the stages build models and optimizers from (loaded once per context)."""
    if ctx.registry is None:
        from mnistkit.host.loading import load_registry

        ctx.registry = load_registry()
    return ctx.registry


def settle_config(ctx: StageContext) -> None:
    """Fill in the config's plugin defaults once (the optimizer's learning rate, typed options, the data folder)."""
    from mnistkit.runs.config import settle

    ctx.config = settle(ctx.config, plugin_registry(ctx))


# The train stage's cache: the trained parameters and the history, keyed by the settings.
