"""Checkpoints: everything a run needs to continue, kept in its run directory.

::

    runs/20261104-142501-cnn/checkpoints/
        374/           one orbax checkpoint; the name counts train steps so far
            state/     model and optimizer state (``Snapshot.state``): parameters,
                       moments, BatchNorm statistics, the Dropout random key
            running/   a stopped epoch's partial train metrics (mid-epoch only)
            meta/      JSON: format version, run configuration, data, epoch,
                       step, metrics history, a SHA-256 of every array
            manifest.sha256.json   the SHA-256 of every file above
        187/ ...       the previous ones (the last ``KEEP`` are kept)

The data order needs no saving: it is a pure function of the seed and the
epoch (``engine.epoch_order``), so ``epoch`` and ``step`` pin it down.

Why a checkpoint never loads wrong: orbax writes each one into a temporary
folder (``<step>.orbax-checkpoint-tmp``) and renames it when complete, so a
crash mid-write leaves only a temporary folder, which is ignored (and removed
by the next save), and the previous checkpoint stays. Should files be damaged
later, the manifest (or, failing that, orbax's own checks and the arrays'
SHA-256 in ``meta``) catches it and the previous checkpoint is used, with a
warning.

orbax is imported on first use: it costs about a second.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import shutil
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import numpy as np

from mnistkit import __version__
from mnistkit.errors import ConfigError, DataError, OutputError
from mnistkit.runs.integrity import check_manifest, checksum, fit, reason, write_manifest
from mnistkit.runs.quiet import without_closed_loop_tracebacks

if TYPE_CHECKING:
    from mnistkit.data import MnistArrays
    from mnistkit.engine.settings import Snapshot

FORMAT_VERSION = 1
"""Bumped whenever a checkpoint of the previous version can no longer be resumed."""
FOLDER = "checkpoints"
KEEP = 3
TMP_MARKER = ".orbax-checkpoint-tmp"

Notify = Callable[[str], None]


def position(epoch: int, step: int) -> str:
    """Where a checkpoint stands, for people: ``after epoch 2`` or ``epoch 3, step 40``."""
    return f"after epoch {epoch - 1}" if step == 0 else f"epoch {epoch}, step {step}"


def checkpoint_dir(run_dir: Path) -> Path:
    return Path(run_dir) / FOLDER


def data_fingerprint(data: MnistArrays) -> str:
    """A short hash of every image and label, to tell whether a resume trains on the same data."""
    digest = hashlib.blake2b(digest_size=12)
    for array in (data.train_images, data.train_labels, data.test_images, data.test_labels):
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.data)
    return digest.hexdigest()


def run_meta(config: Mapping[str, Any], data: MnistArrays, steps_per_epoch: int) -> dict[str, Any]:
    """What every checkpoint of a run records besides its position: the configuration and the data."""
    return {
        "format_version": FORMAT_VERSION,
        "mnistkit_version": __version__,
        "config": dict(config),
        "steps_per_epoch": steps_per_epoch,
        "data": {
            "source": data.source,
            "description": data.description,
            "num_train": len(data.train_images),
            "num_test": len(data.test_images),
            "fingerprint": data_fingerprint(data),
        },
    }


def state_template(model, tx) -> dict:
    """The pure-dict shape of ``Snapshot.state`` for ``model`` trained with ``tx``."""
    from flax import nnx

    optimizer = nnx.Optimizer(model, tx, wrt=nnx.Param)
    return nnx.to_pure_dict(nnx.state((model, optimizer)))


def model_template(model) -> dict:
    """The pure-dict shape of the model's part of ``Snapshot.state``."""
    from flax import nnx

    return nnx.to_pure_dict(nnx.state(model))


@dataclass(frozen=True)
class Restored:
    """A checkpoint read back whole: the engine's ``Snapshot`` and the checkpoint's ``meta``."""

    snapshot: Snapshot
    meta: dict[str, Any]
    step: int
    path: Path


class Checkpoints:
    """The checkpoints of one run directory.

    Writing: construct with ``meta`` (from ``run_meta``) and hand ``save`` to
    ``engine.train(checkpoint=...)``. Reading: ``newest_meta`` and
    ``restore``. Use as a context manager, or call ``close``.

    Errors: ``save`` raises ``OutputError`` naming the folder when it cannot
    write (the previous checkpoint is kept); ``restore`` raises ``DataError``
    when no checkpoint is whole and ``ConfigError`` when one does not fit
    this mnistkit or this model.
    """

    def __init__(self, run_dir: Path, meta: Mapping[str, Any] | None = None, *, notify: Notify = lambda msg: None,
                 saved: tuple[int, int] | None = None):
        self.run_dir = Path(run_dir)
        self.path = checkpoint_dir(self.run_dir)
        self.meta = dict(meta) if meta is not None else None
        self.notify = notify
        self.last_saved = saved
        """``(epoch, step)`` of the newest whole checkpoint: the last save, or ``saved``, the one resumed from."""
        self._manager: Any = None
        self._manager_read_only = True
        self._unfinished: list[int] = []  # steps whose save failed: their temporary folders go at close
        if meta is not None and "orbax.checkpoint" not in sys.modules:  # it will save: import orbax (about a second) while the first epoch trains
            threading.Thread(target=_orbax, name="mnistkit-import-orbax").start()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        manager, self._manager = self._manager, None
        if manager is not None:
            with _quiet():
                manager.close()
        for step in self._unfinished:  # what a failed save's background writers finished after it failed
            _remove_temporary(self.path, step)

    def _open(self, writable: bool):
        if writable and self._manager is not None and self._manager_read_only:
            self.close()
        if self._manager is None:
            self._manager_read_only = not writable
            ocp = _orbax()
            alone = _this_process_only(ocp)
            options = ocp.CheckpointManagerOptions(
                max_to_keep=KEEP, create=writable and alone is None, read_only=not writable,
                enable_async_checkpointing=False, cleanup_tmp_directories=writable,
                **({} if alone is None else {"multiprocessing_options": alone}),
            )
            with _quiet():
                self._manager = ocp.CheckpointManager(self.path.absolute(), options=options)
        return self._manager

    def steps(self) -> list[int]:
        """The step numbers of the finished checkpoints, oldest first (temporary folders are not)."""
        if not self.path.is_dir():
            return []
        return sorted(int(p.name) for p in self.path.iterdir() if p.is_dir() and p.name.isdigit())

    def save(self, snapshot: Snapshot) -> None:
        """Write ``snapshot`` as the newest checkpoint; the engine's ``checkpoint`` callback."""
        if self.meta is None:
            raise ValueError("Checkpoints was opened without run meta, so it cannot save")
        ocp = _orbax()
        step = (snapshot.epoch - 1) * self.meta["steps_per_epoch"] + snapshot.step
        if self.last_saved == (snapshot.epoch, snapshot.step) and step in self.steps():
            return  # a stop right after a save or a resume: the same state is already on disk
        meta = {
            **self.meta,
            "epoch": snapshot.epoch,
            "step": snapshot.step,
            "global_step": step,
            "history": [dict(row) for row in snapshot.history],
            "has_running": snapshot.running is not None,
            "checksum": checksum(snapshot.state, snapshot.running),
            "saved_at": datetime.now().isoformat(timespec="seconds"),
        }
        items = {"state": ocp.args.StandardSave(snapshot.state), "meta": ocp.args.JsonSave(meta)}
        if snapshot.running is not None:
            items["running"] = ocp.args.StandardSave(snapshot.running)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            manager = self._open(writable=True)
            with _quiet():
                # Steps at or after this one belong to a future this run
                # abandoned (a damaged checkpoint it fell back from).
                for stale in [s for s in manager.all_steps() if s >= step]:
                    manager.delete(stale)
                manager.save(step, args=ocp.args.Composite(**items), force=True)
                manager.wait_until_finished()
            write_manifest(self.path / str(step))
        except Exception as err:
            self._unfinished.append(step)
            atexit.register(_remove_temporary, self.path, step)  # the last chance, once every writer has stopped
            try:  # orbax's writers may still finish, or fail, in the background: let them end first
                self.close()
            except Exception:  # noqa: BLE001, S110 - the save's own error is the one to report
                pass
            left = _remove_temporary(self.path, step)
            if self.last_saved is None:
                kept = "no checkpoint was saved before this one"
            else:
                kept = f"the checkpoint {position(*self.last_saved)} is kept"
            if left:
                kept += f"; remove the unfinished {left[0]} by hand"
            raise OutputError(
                f"cannot write a checkpoint in {self.path}: {reason(err)}; {kept}; "
                "free some space or fix the folder's permissions"
            ) from err
        self.last_saved = (snapshot.epoch, snapshot.step)

    def newest_meta(self) -> dict[str, Any]:
        """The ``meta`` of the newest checkpoint whose meta reads; ``DataError`` if there is none."""
        problems = []
        for step in reversed(self.steps()):
            try:
                return self._read_meta(step)
            except DataError as err:
                problems.append(str(err))
        raise self._none_whole(problems)

    def restore(self, template: dict, *, model_only: bool = False) -> Restored:
        """The newest whole checkpoint, its state fitted to ``template``.

        ``template`` comes from ``state_template`` (or ``model_template`` with
        ``model_only``, for predicting). A damaged checkpoint is skipped with
        a warning through ``notify``; a checkpoint of another format version or
        one whose arrays do not fit ``template`` is a ``ConfigError``.
        """
        from mnistkit.engine.settings import Snapshot

        problems = []
        for step in reversed(self.steps()):
            try:
                meta = self._read_meta(step)
                check_format(meta, self.run_dir)
                state, running = self._read_arrays(step, meta)
            except DataError as err:
                problems.append(str(err))
                self.notify(f"warning: {err}; trying the previous checkpoint")
                continue
            part = state.get("0", {}) if model_only else state
            fitted = fit(template, part, self.run_dir, "model" if model_only else "")
            snapshot = Snapshot(
                epoch=int(meta["epoch"]), step=int(meta["step"]), state=fitted, running=running,
                history=tuple(dict(row) for row in meta["history"]),
            )
            return Restored(snapshot, meta, step, self.path / str(step))
        raise self._none_whole(problems)

    def _none_whole(self, problems: list[str]) -> DataError:
        if not problems:
            return DataError(
                f"{self.run_dir} has no checkpoint (no {FOLDER}/ with a finished save); "
                "it may be from an older mnistkit or stopped before its first epoch ended"
            )
        return DataError(f"no checkpoint in {self.path} is whole: {problems[0]}")

    def _read_meta(self, step: int) -> dict[str, Any]:
        ocp = _orbax()
        check_manifest(self.path / str(step))
        try:
            with _quiet():
                meta = self._open(writable=False).restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore()))["meta"]
        except Exception as err:
            raise DataError(f"the checkpoint {self.path / str(step)} is damaged ({reason(err)})") from err
        if not isinstance(meta, dict) or not {"format_version", "epoch", "step", "history", "checksum"} <= set(meta):
            raise DataError(f"the checkpoint {self.path / str(step)} is damaged (its meta is incomplete)")
        return meta

    def _read_arrays(self, step: int, meta: dict[str, Any]) -> tuple[dict, dict | None]:
        ocp = _orbax()
        items = {"state": ocp.args.StandardRestore()}
        if meta.get("has_running"):
            items["running"] = ocp.args.StandardRestore()
        where = self.path / str(step)
        try:
            with _quiet():
                restored = self._open(writable=False).restore(step, args=ocp.args.Composite(**items))
        except Exception as err:
            raise DataError(f"the checkpoint {where} is damaged ({reason(err)})") from err
        state, running = restored["state"], restored.get("running") if meta.get("has_running") else None
        if checksum(state, running) != meta["checksum"]:
            raise DataError(f"the checkpoint {where} is damaged (its arrays do not match their SHA-256)")
        return state, running


def check_format(meta: Mapping[str, Any], run_dir: Path) -> None:
    """``ConfigError`` unless this mnistkit can continue a checkpoint with ``meta``."""
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        made = f"mnistkit {meta.get('mnistkit_version', '?')}"
        raise ConfigError(
            f"the checkpoints in {run_dir} have format version {version} (made by {made}), "
            f"but this mnistkit {__version__} reads version {FORMAT_VERSION}; "
            f"use the mnistkit that made them, or start a new run"
        )


def _remove_temporary(folder: Path, step: int) -> list[Path]:
    """Drop what a failed save of ``step`` left behind; return what could not be removed."""
    if not folder.is_dir():
        return []
    for path in folder.glob(f"{step}{TMP_MARKER}*"):
        shutil.rmtree(path, ignore_errors=True)
    return sorted(folder.glob(f"{step}{TMP_MARKER}*"))


def _orbax():
    import orbax.checkpoint as ocp

    without_closed_loop_tracebacks()

    return ocp


def _this_process_only(ocp):
    """orbax's options for one process of a ``--distributed`` run working alone; None in a run of one process.

    There only process 0 saves, and each process reads for itself. orbax's
    default would wait at barriers for every process, which never come.
    The directory then has to exist already (``save`` makes it).
    """
    from mnistkit.engine.distributed import process_count, process_index

    if process_count() == 1:
        return None
    me = process_index()
    return ocp.options.MultiprocessingOptions(primary_host=me, active_processes={me})


@contextmanager
def _quiet() -> Iterator[None]:
    """Keep orbax's log lines off the terminal: routine steps (absl) and, when
    a damaged checkpoint is read, the same error again from each of its
    asyncio tasks; ``Checkpoints`` reports problems itself."""
    loggers = [logging.getLogger("absl"), logging.getLogger("asyncio")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)
