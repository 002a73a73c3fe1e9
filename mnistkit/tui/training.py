"""What the TUI runs: a training run from a ``RunConfig``, or a lesson's stage.

No Textual here. The app's worker thread iterates ``run_events`` (or calls
``run_stage_into``) and posts each item to the screen; everything slow
(loading data, building the model, JAX) happens inside, in whichever thread
calls it. The items are the engine's events (``mnistkit.engine.events``), what a
stage shows, and the few notices below that only the TUI needs. Training goes
through the run API (``mnistkit.runs.assemble``), as ``mnistkit run`` does;
nothing here builds a model or a run folder. Neither ever raises: errors end
the stream with ``events.Failed``.
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


@dataclass(frozen=True)
class Resumed:
    """The run continues an earlier one from epoch ``epoch``, step ``step``; ``history`` is the epochs it had done."""

    epoch: int
    step: int
    history: tuple[dict[str, float], ...]


@dataclass(frozen=True)
class RunFolder:
    """Where the run is kept: once when it starts, again when it ends, saying whether it can be resumed then."""

    path: Path
    resumable: bool


def run_events(config: RunConfig | None, registry, should_stop: Callable[[], bool], out: str | None = None,
               resume: Path | None = None) -> Iterator[object]:
    """Train ``config`` (or resume the run in folder ``resume``) through the run API and yield what happens.

    Both go through ``runs.assemble.prepare``, as ``mnistkit run`` and
    ``mnistkit run --resume`` do; a resumed run yields ``Resumed`` right
    after ``RunStarted``.

    ``should_stop`` is polled between steps; once it returns True the run
    saves a checkpoint and the stream ends with ``events.Interrupted``. The
    run folder goes under ``out`` (default: ``MNISTKIT_RUNS_DIR`` or
    ``./runs``). A user error, a loss that is not finite and a plugin's fault
    (named as the CLI names it) end the stream with ``events.Failed``;
    nothing is raised. The last ``DataNotice`` says where the run is and how
    to go on.
    """
    from mnistkit.runs.assemble import prepare

    try:
        yield Phase(f"loading data, building {config.model} and {config.optimizer}" if config is not None else
                    f"reopening {resume}, loading its data and its last checkpoint")
        notices: list[str] = []
        run = prepare(config, registry, out=out, resume=resume, notify=notices.append)
        yield from (DataNotice(text) for text in notices)
        if run.path is not None:
            yield RunFolder(run.path, resumable=False)
        for event in run.events(should_stop, progress_every=PROGRESS_EVERY):
            if isinstance(event, (ev.Finished, ev.Interrupted, ev.Failed)) and run.path is not None:
                if not isinstance(event, ev.Failed):
                    yield DataNotice(run.kept() if isinstance(event, ev.Interrupted) else
                                     f"Run saved in {run.path} (curves.png, predictions.png, metrics.csv)")
                yield RunFolder(run.path, run.resumable and not isinstance(event, ev.Finished))
            yield event
            if isinstance(event, ev.RunStarted) and run.snapshot is not None:
                yield Resumed(run.snapshot.epoch, run.snapshot.step, tuple(run.snapshot.history))
    except MnistkitError as err:
        yield ev.Failed(str(err))
    except Exception as err:  # noqa: BLE001 - mnistkit's own bug must end the run, not the app
        yield ev.Failed(f"the run stopped with {type(err).__name__}: {err}")


@dataclass(frozen=True)
class StageDone:
    """A lesson's stage finished; what it showed came before."""

    stage: str
    seconds: float


class _Stopped(Exception):
    """Raised from ``emit`` to unwind a stage the user cancelled."""


def run_stage_into(ctx, name: str, emit: Callable[[object], None], should_stop: Callable[[], bool]) -> None:
    """Run lesson stage ``name`` (after what it needs) with ``mnistkit.curriculum.stages``; everything goes to ``emit``.

    ``emit`` receives what the stage shows (text, rich renderables,
    ``stages.Note``, and the engine's events from the ``train`` stage), then
    ``StageDone``, ``events.Failed`` or, if ``should_stop`` turned True while
    the stage was showing something, ``events.Interrupted``. Nothing is raised.
    """
    from mnistkit.curriculum import stages

    where = ev.Interrupted(epoch=0, step=0, history=())
    ctx.should_stop, ctx.progress_every = should_stop, PROGRESS_EVERY

    def checked(item: object) -> None:
        nonlocal where
        if isinstance(item, ev.Progress):
            where = ev.Interrupted(epoch=item.epoch, step=item.step, history=())
        if should_stop() and not isinstance(item, ev.Event):
            raise _Stopped  # a training run stops itself (at a checkpoint) when it polls should_stop
        emit(item)

    try:
        result = stages.run_stage(ctx, name, checked)
    except _Stopped:
        emit(where)
    except stages.StageStopped as stopped:
        emit(DataNotice(str(stopped)))
    except MnistkitError as err:
        emit(ev.Failed(str(err)))
    except Exception as err:  # noqa: BLE001 - a stage's or a plugin's bug must end the stage, not the app
        emit(ev.Failed(f"the stage stopped with {type(err).__name__}: {err}"))
    else:
        emit(StageDone(name, result.seconds))
