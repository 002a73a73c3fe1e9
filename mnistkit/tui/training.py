"""What the TUI runs: a training run from a ``RunConfig``, or a lesson's stage.

No Textual here. The app's worker thread iterates ``run_events`` (or calls
``run_stage_into``) and posts each item to the screen; everything slow
(loading data, building the model, JAX) happens inside, in whichever thread
calls it. The items are the engine's events (``mnistkit.engine.events``), what a
stage shows, and the few notices below that only the TUI needs. A training
run is assembled as ``mnistkit run`` assembles it. Neither ever raises: errors
end the stream with ``events.Failed``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mnistkit.engine import events as ev
from mnistkit.errors import MnistkitError
from mnistkit.runs.config import RunConfig

PROGRESS_EVERY = 10
"""Steps between the engine's Progress events, so the charts move several times a second."""


@dataclass(frozen=True)
class Phase:
    """What the run is doing before training starts, for the status line."""

    text: str


@dataclass(frozen=True)
class DataNotice:
    """A message from the data layer, e.g. that the bundled sample is in use and why."""

    text: str


def run_events(config: RunConfig, registry, should_stop: Callable[[], bool], out: str = "runs") -> Iterator[object]:
    """Load data, build the model and optimizer, train, and yield what happens.

    ``should_stop`` is polled between steps (by the engine) and between the
    preparations; once it returns True the stream ends with
    ``events.Interrupted`` (epoch 0 if training had not started). Like
    ``mnistkit run``, a run writes a folder under ``out`` with a checkpoint
    every epoch and one when cancelled, so ``mnistkit run --resume`` can
    continue it. A user error (``MnistkitError``), a loss that is not
    finite and any exception from a plugin end the stream with
    ``events.Failed``; nothing is raised.
    """
    try:
        yield from _events(config, registry, should_stop, out)
    except MnistkitError as err:
        yield ev.Failed(str(err))
    except Exception as err:  # a plugin's bug must end the run, not the app
        yield ev.Failed(f"the run stopped with {type(err).__name__}: {err}")


def _events(config: RunConfig, registry, should_stop: Callable[[], bool], out: str) -> Iterator[object]:
    from mnistkit.engine import loop as engine
    from mnistkit.engine import tutorial as tutorial_loop
    from mnistkit.runs.checkpoints import Checkpoints, run_meta
    from mnistkit.runs.folder import RunRecorder, default_run_dir
    from mnistkit.data import load_mnist
    from mnistkit.runs.config import (
        build_model, build_optimizer, check_batch_fits, check_numbers, enable_compilation_cache, learning_rate_for,
    )

    not_started = ev.Interrupted(epoch=0, step=0, history=())
    check_numbers(config)
    model_spec, optimizer_spec = registry.model(config.model), registry.optimizer(config.optimizer)
    metric_specs = [registry.metric(name) for name in config.metrics]

    yield Phase("loading data")
    notices: list[str] = []
    data = load_mnist(config.data, config.data_dir, notify=notices.append)
    yield from (DataNotice(text) for text in notices)
    check_batch_fits(config, len(data.train_images))
    if should_stop():
        yield not_started
        return

    yield Phase(f"building {config.model} and {config.optimizer}")
    trainer = engine.train if config.engine == "fast" else tutorial_loop.train
    settings = engine.Settings(
        epochs=config.epochs, batch_size=config.batch_size, seed=config.seed, progress_every=PROGRESS_EVERY,
        devices=config.devices, steps_per_dispatch=config.steps_per_dispatch,
    )
    enable_compilation_cache()
    with registry.blame():
        model = build_model(model_spec, config.model_options, config.seed)
        steps_per_epoch = len(data.train_images) // config.batch_size
        recorder = RunRecorder(default_run_dir(Path(out), config.model), config.to_dict())
        recorder.create()
        checkpoints = Checkpoints(recorder.path, run_meta(config.to_dict(), data, steps_per_epoch))
        learning_rate = learning_rate_for(config, len(data.train_images) // config.batch_size)
        tx = build_optimizer(optimizer_spec, learning_rate, config.optimizer_options)
        if should_stop():
            yield not_started
            return
        yield from _recorded(trainer(model, tx, data, settings, config.to_dict(), metric_specs,
                                     should_stop=should_stop, checkpoint=checkpoints.save), recorder, checkpoints)


def _recorded(events: Iterator[object], recorder, checkpoints) -> Iterator[object]:
    """Pass ``events`` through while the run folder and its checkpoints record them, as ``mnistkit run`` does."""
    status = "failed"
    try:
        with checkpoints:
            for event in events:
                recorder.handle(event)
                if isinstance(event, ev.Interrupted):
                    status = "interrupted"
                    yield DataNotice(f"Saved a checkpoint and the history in {recorder.path}; "
                                     f"to resume: mnistkit run --resume {recorder.path}")
                elif isinstance(event, ev.Finished):
                    status = "completed"
                    yield DataNotice(f"Run saved in {recorder.path} (curves.png, predictions.png, metrics.csv)")
                yield event
    finally:
        recorder.close(status)


@dataclass(frozen=True)
class StageDone:
    """A lesson's stage finished; what it showed came before."""

    stage: str
    seconds: float


class _Stopped(Exception):
    """Raised from ``emit`` to unwind a stage the user cancelled."""


def stage_settings(config: RunConfig):
    """The lesson stages' settings taken from the run configuration chosen in the form."""
    from mnistkit.curriculum.stages import StageSettings

    return StageSettings(data=config.data, data_dir=config.data_dir, model=config.model, optimizer=config.optimizer,
                         learning_rate=config.learning_rate, batch_size=config.batch_size, epochs=config.epochs,
                         seed=config.seed)


def run_stage_into(ctx, name: str, emit: Callable[[object], None], should_stop: Callable[[], bool]) -> None:
    """Run lesson stage ``name`` (after what it needs) with ``mnistkit.curriculum.stages``; everything goes to ``emit``.

    ``emit`` receives what the stage shows (text, rich renderables,
    ``stages.Note``, and the engine's events from the ``train`` stage), then
    ``StageDone``, ``events.Failed`` or, if ``should_stop`` turned True while
    the stage was showing something, ``events.Interrupted``. Nothing is raised.
    """
    from mnistkit.curriculum import stages

    where = ev.Interrupted(epoch=0, step=0, history=())

    def checked(item: object) -> None:
        nonlocal where
        if isinstance(item, ev.Progress):
            where = ev.Interrupted(epoch=item.epoch, step=item.step, history=())
        if should_stop():
            raise _Stopped
        emit(item)

    try:
        result = stages.run_stage(ctx, name, checked)
    except _Stopped:
        emit(where)
    except MnistkitError as err:
        emit(ev.Failed(str(err)))
    except Exception as err:  # a stage's or a plugin's bug must end the stage, not the app
        emit(ev.Failed(f"the stage stopped with {type(err).__name__}: {err}"))
    else:
        emit(StageDone(name, result.seconds))
