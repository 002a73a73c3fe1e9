"""Assemble a training run: the one path from a ``RunConfig`` to a trained, recorded run.

Every front end calls ``prepare`` and iterates ``Run.events``: ``mnistkit run``
and ``--resume``, the processes other than 0 of a ``--distributed`` run, the
TUI and the lesson ``train`` stage. None of them builds a model, an optimizer,
a run folder or checkpoints on its own, so they cannot disagree about a
setting::

    run = prepare(config, registry, out="runs")
    for event in run.events(should_stop):
        view.handle(event)
    print(run.outcome.message)

``prepare`` does every check a user can fail (numbers, names, options, data,
batch size, whether a run can be resumed) before it creates or reopens a run
folder, and raises ``MnistkitError`` for them. ``events`` trains, records the
folder, writes the checkpoints and closes the folder's status; afterwards
``outcome`` says how it ended, in words and as an exit code.
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mnistkit.engine import events as ev
from mnistkit.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, ConfigError, MnistkitError, PluginError
from mnistkit.runs.config import RunConfig, check_batch_fits, check_numbers, check_writable, engine_settings, names_as_registered, settle

EXIT_COMPLETED = 0
Notify = Callable[[str], None]


@dataclass(frozen=True)
class Outcome:
    """How a run ended: ``status`` as ``run.json`` records it, the exit code, one line for a person.

    ``resume`` is the command that continues the run, when it can be continued.
    """

    status: str
    exit_code: int
    message: str
    resume: str | None = None


class Run:
    """A run ready to train; made by ``prepare``. ``model`` holds the latest parameters as it trains."""

    def __init__(self, config: RunConfig, registry, data, model, tx, metrics, *, recorder=None, checkpoints=None,
                 snapshot=None, lock=None):
        self.config = config
        self.registry = registry
        self.data = data
        self.model = model
        self.tx = tx
        self.metrics = metrics
        self.recorder = recorder
        self.checkpoints = checkpoints
        self.snapshot = snapshot
        self.lock = lock
        self.history: tuple[dict[str, float], ...] = tuple(snapshot.history) if snapshot else ()
        self.outcome: Outcome | None = None

    @property
    def path(self) -> Path | None:
        """The run folder (None in a process that does not write, see ``prepare``)."""
        return self.recorder.path if self.recorder is not None else None

    @property
    def resumable(self) -> bool:
        return self.config.engine == "fast" and self.checkpoints is not None and self.checkpoints.last_saved is not None

    def resume_command(self) -> str | None:
        """``mnistkit run --resume RUN_DIR``, with the ``--plugin`` options the run loaded (they must come again)."""
        if not (self.resumable and self.path):
            return None
        from mnistkit import environment

        from_env = set(environment.plugin_refs())
        plugins = [f" --plugin {shlex.quote(info.source)}" for info in self.registry.plugins
                   if info.loaded and info.version == "local" and info.source not in from_env]
        return f"mnistkit run --resume {shlex.quote(str(self.path))}{''.join(plugins)}"

    def abandon(self) -> None:
        """Record the run as interrupted at once (a second Ctrl-C): the status only, nothing slow."""
        if self.recorder is not None:
            self.recorder.mark("interrupted")

    def kept(self) -> str:
        """What is on disk now, for a person: the newest checkpoint and how to go on from it."""
        from mnistkit.runs.checkpoints import position

        if self.path is None:
            return "Process 0 keeps the run's checkpoints."
        if self.checkpoints is None or self.checkpoints.last_saved is None:
            return f"No checkpoint was saved yet; the run folder is {self.path}."
        where = f"The checkpoint {position(*self.checkpoints.last_saved)} is kept in {self.checkpoints.path}."
        if self.config.engine != "fast":
            return (f"{where} Runs of --engine tutorial cannot be resumed (its tf.data order is not reproducible); "
                    f"`mnistkit predict --run {shlex.quote(str(self.path))}` uses it.")
        return f"{where} To resume: {self.resume_command()}"

    def _after_fault(self) -> str:
        """What a plugin's fault left, for the end of its one-line message."""
        from mnistkit.runs.checkpoints import position

        if self.path is None:
            return "process 0 keeps the run's checkpoints"
        if self.checkpoints is None or self.checkpoints.last_saved is None:
            return f"no checkpoint was saved yet (run folder {self.path}); fix the plugin and start again"
        kept = f"the checkpoint {position(*self.checkpoints.last_saved)} is kept in {self.checkpoints.path}"
        if not self.resumable:
            return f"{kept}; runs of --engine tutorial cannot be resumed, so fix the plugin and start again"
        return f"{kept}; fix the plugin, then resume: {self.resume_command()}"

    def events(self, should_stop: Callable[[], bool] = lambda: False, *, progress_every: int = 50) -> Iterator[ev.Event]:
        """Train, yielding the engine's events while the folder and checkpoints record them.

        ``should_stop`` is polled between steps; once it is True the run saves
        a checkpoint (the fast engine) and ends with ``Interrupted``. A loss
        that is not finite ends it with ``Failed``. An exception raised by a
        plugin's code comes out as a ``PluginError`` naming the plugin and
        what was kept. The folder's status is closed however it ends, and
        ``outcome`` is set.
        """
        from mnistkit.engine import distributed
        from mnistkit.engine.loop import train as fast
        from mnistkit.engine.tutorial import train as tutorial

        trainer = fast if self.config.engine == "fast" else tutorial
        settings = engine_settings(self.config, progress_every=progress_every)
        save = self.checkpoints.save if self.checkpoints is not None else (lambda snapshot: None)
        last = None
        status = "failed"
        try:
            with self.registry.blame():
                for event in trainer(self.model, self.tx, self.data, settings, self.config.to_dict(), self.metrics,
                                     should_stop=distributed.agreed(should_stop), resume=self.snapshot,
                                     checkpoint=save):
                    if self.recorder is not None:
                        self.recorder.handle(event)
                    last = event
                    yield event
        except (KeyboardInterrupt, GeneratorExit):
            # Ctrl-C a second time, or a consumer that stopped reading (a cancelled lesson stage).
            status = "interrupted"
            self.outcome = Outcome(status, EXIT_INTERRUPTED, f"Stopped at once. {self.kept()}", self.resume_command())
            raise
        except PluginError as exc:
            last_epoch = getattr(last, "epoch", None)
            epoch = f" in epoch {last_epoch}" if last_epoch else ""
            self.outcome = Outcome(status, EXIT_USAGE, f"{exc}{epoch}; training stopped and {self._after_fault()}",
                                   self.resume_command())
            raise PluginError(self.outcome.message) from exc
        except MnistkitError as exc:
            self.outcome = Outcome(status, EXIT_USAGE, str(exc))
            raise
        else:
            status, self.outcome = self._ended(last)
        finally:
            if self.checkpoints is not None:
                self.checkpoints.close()
            if self.recorder is not None:
                self.recorder.close(status)
            self.close()

    def close(self) -> None:
        """Let go of the run folder (``events`` does this when it ends)."""
        if self.lock is not None:
            self.lock.release()

    def _ended(self, last: object) -> tuple[str, Outcome]:
        if isinstance(last, ev.Finished):
            self.history = last.history
            where = f"Run saved in {self.path} (curves.png, predictions.png, metrics.csv)" if self.path else "Run finished."
            return "completed", Outcome("completed", EXIT_COMPLETED, where)
        if isinstance(last, ev.Interrupted):
            self.history = last.history
            stopped = stopped_at(last, self.config.epochs)
            if self.resumable and self.checkpoints.last_saved == (last.epoch, last.step):
                message = f"{stopped}; saved a checkpoint and the history in {self.path}. To resume: {self.resume_command()}"
            else:
                message = f"{stopped}; saved the history in {self.path}. {self.kept()}"
            return "interrupted", Outcome("interrupted", EXIT_INTERRUPTED, message, self.resume_command())
        if isinstance(last, ev.Failed) and self.snapshot is None and last.epoch == 1 and self._broken_from_the_start():
            name = self.config.model
            owner = self.registry.owners.get(("model", name), "?")
            return "failed", Outcome("failed", EXIT_USAGE, (
                f"plugin {owner!r}: model {name!r} gives logits that are not finite (NaN or infinite) at "
                "initialisation, before any update, so no learning rate can help; fix the model "
                f"(`mnistkit plugins --check` finds this). The run folder is {self.path}"))
        message = last.message.rstrip(".") if isinstance(last, ev.Failed) else "the run ended without finishing"
        return "failed", Outcome("failed", EXIT_FAILED, f"{message}. {self.kept()}", self.resume_command())

    def _broken_from_the_start(self) -> bool:
        """Whether the model as initialised already gives logits that are not finite, on a few training images."""
        import numpy as np

        from mnistkit.engine.steps import scale
        from mnistkit.host.build import build_model

        try:
            fresh = build_model(self.registry.model(self.config.model), self.config.model_options, self.config.seed)
            fresh.eval()
            logits = np.asarray(fresh(scale(np.asarray(self.data.train_images[:8]))))
        except Exception:  # noqa: BLE001 - a model that cannot even do this is reported by the engine's message
            return False
        return not np.isfinite(logits).all()


def stopped_at(event: ev.Interrupted, epochs: float) -> str:
    """Where a run stopped, in the progress bar's terms: ``Interrupted at step 68/187 of epoch 1/2``."""
    total = math.ceil(epochs)
    if event.step == 0:
        return "Interrupted before the first step" if event.epoch == 1 else f"Interrupted after epoch {event.epoch - 1}/{total}"
    of = f"/{event.steps}" if event.steps else ""
    return f"Interrupted at step {event.step}{of} of epoch {event.epoch}/{total}"


def prepare(config: RunConfig | None, registry, *, out: str | Path | None = None, resume: str | Path | None = None,
            given: dict[str, Any] | None = None, data=None, notify: Notify = lambda message: None) -> Run:
    """Check and build everything a run needs; create (``out``) or reopen (``resume``) its folder last.

    A new run: ``config`` says what to train (``settle`` fills what it leaves
    open) and ``out`` is the folder of run folders (default: ``MNISTKIT_RUNS_DIR``
    or ``./runs``). A resume: ``resume`` names a run folder and ``given``
    holds the options the user typed with it (``config`` is not used). ``data``
    may hand over arrays already loaded for ``config.data`` (the lesson
    stages load them first). In a ``--distributed``
    run every process calls this with the same arguments; only process 0
    writes a folder and checkpoints. ``notify`` receives one-line messages
    (which data is used, what is resumed).

    The writing process holds the run folder's lock (``mnistkit.runs.lock``)
    from before it reads a resumed run until ``events`` ends, so a second
    run, resume or TUI run of the same folder gets one line naming the
    process that holds it.
    """
    from mnistkit.engine import distributed
    from mnistkit.runs.lock import RunLock
    from mnistkit.runs.resume import run_config

    if resume is None or not distributed.is_primary():
        return _prepare(config, registry, out, resume, given, data, notify, lock=None)
    run_config(Path(resume))  # a folder that is missing, or not a run, is named before anything else
    lock = RunLock(Path(resume)).acquire()  # before reading it: another writer may be mid-epoch
    try:
        return _prepare(config, registry, out, resume, given, data, notify, lock=lock)
    except BaseException:
        lock.release()
        raise


def _prepare(config, registry, out, resume, given, data, notify: Notify, lock) -> Run:
    from mnistkit import environment
    from mnistkit.data import load_mnist
    from mnistkit.engine import distributed
    from mnistkit.engine.cache import enable_compilation_cache
    from mnistkit.host.build import build_model, build_optimizer
    from mnistkit.runs.resume import load_run_data, plan_resume
    from mnistkit.runs.schedules import learning_rate_for

    meta = None
    if resume is not None:
        given = {**(given or {}), **names_as_registered(given or {}, registry)}  # --model CNN repeats a cnn run's model
        config, meta = plan_resume(Path(resume), given=given, notify=notify)
    else:
        config = settle(config, registry)
        check_writable(environment.runs_dir(out))
    check_numbers(config)
    with registry.blame():
        model_spec = registry.model(config.model)
        optimizer_spec = registry.optimizer(config.optimizer)
        metric_specs = [registry.metric(name) for name in config.metrics]
    if meta is not None:
        data = load_run_data(meta, config, notify)
    elif data is None:
        data = load_mnist(config.data, config.data_dir, notify=notify)
    check_batch_fits(config, len(data.train_images))
    if config.engine == "fast":
        from mnistkit.engine.loop import devices_for

        devices_for(config.batch_size, config.devices)  # a mistake here is said before any folder is touched
    enable_compilation_cache()  # before the model: its initialisers compile too
    steps_per_epoch = len(data.train_images) // config.batch_size
    with registry.blame():
        model = build_model(model_spec, config.model_options, config.seed)
        tx = build_optimizer(optimizer_spec, learning_rate_for(config, steps_per_epoch), config.optimizer_options)
    _start_together(config, data, resume)
    snapshot = _restore(Path(resume), model, tx, notify) if resume is not None else None
    if not distributed.is_primary():
        return Run(config, registry, data, model, tx, metric_specs, snapshot=snapshot)
    recorder, checkpoints, lock = _open_folder(config, data, steps_per_epoch, out, resume, snapshot, environment, lock)
    if snapshot is not None:
        from mnistkit.runs.checkpoints import position

        notify(f"Resuming {recorder.path} from its checkpoint {position(snapshot.epoch, snapshot.step)}")
    return Run(config, registry, data, model, tx, metric_specs, recorder=recorder, checkpoints=checkpoints,
               snapshot=snapshot, lock=lock)


def _restore(run_dir: Path, model, tx, notify: Notify):
    from mnistkit.runs.checkpoints import Checkpoints, state_template

    with Checkpoints(run_dir, notify=notify) as saved:
        snapshot = saved.restore(state_template(model, tx)).snapshot
    # A finished part epoch was evaluated, and its row is in the history; the
    # resumed run finishes that epoch and evaluates it again, so its row goes.
    kept = tuple(row for row in snapshot.history if not snapshot.step or row["epoch"] < snapshot.epoch)
    return replace(snapshot, history=kept)


def _open_folder(config: RunConfig, data, steps_per_epoch: int, out, resume, snapshot, environment, lock):
    from mnistkit.runs.checkpoints import Checkpoints, run_meta
    from mnistkit.runs.folder import RunRecorder, claim_run_dir
    from mnistkit.runs.lock import RunLock

    if resume is None:
        path, made = claim_run_dir(environment.runs_dir(out), config.model)
        recorder = RunRecorder(path, config.to_dict())
        recorder.create(made)
        lock = RunLock(path).acquire()
        lock.announce("a new run")
    else:
        recorder = RunRecorder(Path(resume), config.to_dict())
        recorder.reopen(list(snapshot.history))  # checks the folder is writable before writing anything
        lock.announce("a resumed run")
    saved = (snapshot.epoch, snapshot.step) if snapshot is not None else None
    checkpoints = Checkpoints(recorder.path, run_meta(config.to_dict(), data, steps_per_epoch), saved=saved)
    return recorder, checkpoints, lock


def _start_together(config: RunConfig, data, resume) -> None:
    """With ``--distributed``, meet the other processes before any folder is touched.

    All must train the same configuration on the same data (each loads its
    own copy) and resume the same run; otherwise every process gets the same
    ``ConfigError``.
    """
    from mnistkit.engine import distributed
    from mnistkit.runs.checkpoints import data_fingerprint

    if distributed.process_count() == 1:
        return
    if config.engine != "fast":
        raise ConfigError("--distributed trains with the fast engine only, but this run uses --engine tutorial")
    same = {key: value for key, value in config.to_dict().items() if key != "data_dir"}
    distributed.start_together({"config": same, "data": data_fingerprint(data), "resume": resume and Path(resume).name})
