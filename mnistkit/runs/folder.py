"""The run directory: what a training run leaves on disk.

A ``RunRecorder`` consumes the engine's events and keeps one folder up to date::

    runs/20261104-142501-cnn/
        config.json      the configuration the run was started with
        run.json         backend, devices, data source, sizes, timings
        metrics.json     {"status": ..., "history": [one row per epoch]}
        metrics.csv      the same rows, ``epoch`` first
        curves.png       loss and accuracy per epoch, train vs test (redrawn each epoch)
        predictions.png  25 test digits with the model's last guesses
        tensorboard/     the same curves for TensorBoard (``mnistkit board``)

Every file is replaced whole (written beside it, then renamed), so a crash or
Ctrl-C never leaves a half-written one, and after ``close`` the folder always
describes the epochs that did complete. The pictures are drawn on a
background thread (``mnistkit.runs.extras``), so training never waits for them.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Self

import numpy as np

from mnistkit.atomic import write_atomic
from mnistkit.engine.events import (
    Compiled,
    EpochEnd,
    Evaluation,
    Event,
    Failed,
    Finished,
    Predictions,
    Report,
    RunStarted,
    history_row,
)
from mnistkit.environment import DEFAULT_RUNS_DIR
from mnistkit.errors import OutputError
from mnistkit.runs.extras import Pictures, TensorBoardLog

Status = Literal["running", "completed", "interrupted", "failed"]

def default_run_dir(out: Path | None, model: str, now: datetime | None = None) -> Path:
    """A fresh folder name ``<out>/<YYYYmmdd-HHMMSS>-<model>`` for a run.

    ``out`` defaults to ``./runs``. If the name is taken, ``-2``, ``-3`` ...
    is appended until it is not. Characters other than letters, digits,
    ``.``, ``_`` and ``-`` in ``model`` become ``-``. Nothing is created.
    """
    base, name = _run_name(out, model, now)
    candidate, n = base / name, 2
    while candidate.exists():
        candidate = base / f"{name}-{n}"
        n += 1
    return candidate


def _run_name(out: Path | None, model: str, now: datetime | None) -> tuple[Path, str]:
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    safe_model = re.sub(r"[^A-Za-z0-9._-]+", "-", model).strip("-") or "model"
    return (Path(out) if out is not None else DEFAULT_RUNS_DIR), f"{stamp}-{safe_model}"


def claim_run_dir(out: Path | None, model: str, now: datetime | None = None) -> tuple[Path, list[Path]]:
    """Create a fresh, empty run folder ``<out>/<YYYYmmdd-HHMMSS>-<model>`` for this process alone.

    The folder is made with an exclusive ``mkdir``: when another process made
    that name first (two runs started in the same second), the next suffix
    (``-2``, ``-3`` ...) is tried, so two runs never share a folder. Returns
    the folder and every folder this call made (the parents that were
    missing, too), for ``RunRecorder.create`` to remove if the run cannot
    start. ``OutputError`` when ``out`` cannot be made.
    """
    base, name = _run_name(out, model, now)
    missing = [p for p in [base, *base.parents] if not p.exists()]
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"cannot write runs under {base}: {err.strerror or err}; "
                          "choose another --out or fix its permissions") from err
    n = 1
    while True:
        candidate = base / (name if n == 1 else f"{name}-{n}")
        try:
            candidate.mkdir()
        except FileExistsError:
            n += 1
            continue
        except OSError as err:
            for folder in missing:
                _remove_if_empty(folder)
            raise OutputError(f"cannot write the run folder {candidate}: {err.strerror or err}; "
                              "choose another --out or fix its permissions") from err
        return candidate, [candidate, *missing]


def _json_bytes(value: Any) -> bytes:
    return (json.dumps(value, indent=2, default=_jsonable) + "\n").encode()


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _csv_bytes(rows: list[dict[str, Any]]) -> bytes:
    columns = ["epoch"]
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


class RunRecorder:
    """Writes one run's folder from the events the engine emits.

    Use: ``create()`` once before training, ``handle(event)`` for every
    event, and ``close(status)`` when the run ends early (Ctrl-C:
    ``"interrupted"``; an error: ``"failed"``). A ``Finished`` event closes
    the recorder with ``"completed"``; ``close`` after that does nothing.
    As a context manager it calls ``create`` on entry and, if the run did not
    finish, ``close`` with ``"interrupted"`` or ``"failed"`` on exit.

    Errors: ``create`` raises ``OutputError`` if the folder cannot be made or
    written; ``handle`` and ``close`` raise ``OutputError`` if the metrics
    files cannot be written. Pictures and TensorBoard are extras: a failure
    there warns once (``RuntimeWarning``) and the run goes on.
    """

    def __init__(self, path: Path, config: dict[str, Any]) -> None:
        self.path = Path(path)
        self.config = dict(config)
        self.status: Status = "running"
        self.history: list[dict[str, float]] = []
        self.predictions: Predictions | None = None
        self.error: str | None = None
        self._run_info: dict[str, Any] = {}
        self._epoch_ends: dict[int, EpochEnd] = {}
        self._evaluations: dict[int, Evaluation] = {}
        self._tensorboard = TensorBoardLog(self.path)
        self._pictures = Pictures(self.path)
        self._closed = False

    def __enter__(self) -> Self:
        self.create()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is None or issubclass(exc_type, KeyboardInterrupt):
            self.close("interrupted")
        else:
            self.close("failed")

    def create(self, made: list[Path] | tuple[Path, ...] = ()) -> None:
        """Make the folder (and missing parents) and write ``config.json``.

        Checks that the folder can be created and written before writing
        anything; on failure raises ``OutputError`` naming the path and
        removes any folders it made, and those in ``made`` (what
        ``claim_run_dir`` made for it). Refuses a folder that already holds a
        run (a ``config.json``), so an earlier run is never overwritten.
        """
        created = [*self._make_folders(), *made]
        try:
            self._check_writable()
            self._write("config.json", _json_bytes(self.config))
            self._write_metrics()
        except BaseException:
            for folder in created:
                _remove_if_empty(folder)
            raise

    def reopen(self, history: list[dict[str, float]]) -> None:
        """Continue a run's existing folder (``mnistkit run --resume``) from ``history``.

        Keeps ``run.json`` (its start time), rewrites ``config.json`` (the
        epochs may have grown) and puts the status back to ``"running"``.
        Raises ``OutputError`` if the folder cannot be written.
        """
        self._check_writable(resuming=True)
        try:
            self._run_info = json.loads((self.path / "run.json").read_text())
        except (OSError, ValueError):
            self._run_info = {}
        for stale in ("status", "finished_at", "seconds"):
            self._run_info.pop(stale, None)
        self._run_info["resumed_at"] = datetime.now().isoformat(timespec="seconds")
        self.history = [dict(row) for row in history]
        self._write("config.json", _json_bytes(self.config))
        self._write_metrics()

    def _make_folders(self) -> list[Path]:
        missing = [p for p in [self.path, *self.path.parents] if not p.exists()]
        existing = self.path.parents[len(missing) - 1] if missing else self.path
        if not existing.is_dir():
            raise self._output_error(f"{existing} is a file, not a folder")
        if (self.path / "config.json").exists():
            raise OutputError(f"run folder {self.path} already holds a run; choose another --out")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            for folder in missing:
                _remove_if_empty(folder)
            raise self._output_error(err.strerror or str(err)) from err
        return missing

    def _check_writable(self, resuming: bool = False) -> None:
        # Writing a file is the only check that also holds for root and for
        # read-only mounts, where os.access can say yes wrongly.
        probe = self.path / f".write-test-{uuid.uuid4().hex[:8]}"
        try:
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as err:
            raise self._output_error(err.strerror or str(err), resuming) from err

    def _output_error(self, reason: str, resuming: bool = False) -> OutputError:
        if resuming:
            return OutputError(f"cannot write the run folder {self.path}: {reason}; a resumed run writes its "
                               "checkpoints there, so make it writable, or copy the run somewhere writable and "
                               "resume the copy")
        return OutputError(
            f"cannot write the run folder {self.path}: {reason}; "
            "choose another --out or fix its permissions"
        )

    def _write(self, name: str, data: bytes) -> None:
        try:
            write_atomic(self.path / name, data)
        except OSError as err:
            raise OutputError(
                f"cannot write {self.path / name}: {err.strerror or err}; "
                "check the disk has space and the folder still exists"
            ) from err

    def handle(self, event: Event) -> None:
        """Record one event; events the folder does not need are ignored.

        ``EpochEnd`` and ``Evaluation`` of the same epoch (in either order)
        make one history row: metrics files rewritten, TensorBoard scalars
        written (on disk within about a second; all of them after close).
        ``Predictions``: the latest is kept for ``predictions.png``.
        ``Finished``: pictures drawn, status ``"completed"``. ``Failed``: the
        message is recorded, status ``"failed"``. After close, does nothing.
        """
        if self._closed:
            return
        if isinstance(event, RunStarted):
            self._run_info.update(
                backend=event.backend,
                devices=list(event.devices),
                data_source=event.data_source,
                num_train=event.num_train,
                num_test=event.num_test,
                steps_per_epoch=event.steps_per_epoch,
            )
            self._run_info.setdefault("started_at", datetime.now().isoformat(timespec="seconds"))
            self._write("run.json", _json_bytes(self._run_info))
            self._pictures.prepare()
        elif isinstance(event, Compiled):
            self._run_info["compile_seconds"] = event.seconds
            self._write("run.json", _json_bytes(self._run_info))
        elif isinstance(event, EpochEnd):
            self._epoch_ends[event.epoch] = event
            self._add_row_if_complete(event.epoch)
        elif isinstance(event, Evaluation):
            self._evaluations[event.epoch] = event
            self._add_row_if_complete(event.epoch)
        elif isinstance(event, Predictions):
            self.predictions = event
            self._pictures.predictions(event)
        elif isinstance(event, Report):
            for name, data in event.artifacts.items():
                self._write(Path(name).name, data)
        elif isinstance(event, Finished):
            if len(event.history) > len(self.history):
                self.history = [dict(row) for row in event.history]
            self._run_info["seconds"] = event.seconds
            self.close("completed")
        elif isinstance(event, Failed):
            self.error = event.message
            self.close("failed")

    def _add_row_if_complete(self, epoch: int) -> None:
        if epoch not in self._epoch_ends or epoch not in self._evaluations:
            return
        row = history_row(self._epoch_ends.pop(epoch), self._evaluations.pop(epoch))
        self.history.append(row)
        self._write_metrics()
        self._tensorboard.write(row)
        self._pictures.curves(self.history)

    def _write_metrics(self) -> None:
        metrics: dict[str, Any] = {"status": self.status, "history": self.history}
        if self.error is not None:
            metrics["error"] = self.error
        self._write("metrics.json", _json_bytes(metrics))
        self._write("metrics.csv", _csv_bytes(self.history))

    def close(self, status: Status = "interrupted") -> None:
        """Finish the folder with ``status``; later calls do nothing.

        Afterwards metrics.json and metrics.csv hold the epochs completed so
        far and the status, curves.png exists if at least one epoch did,
        predictions.png if any predictions arrived, and the TensorBoard
        writer is closed. Half-finished epochs (training without its
        evaluation) are left out.
        """
        if self._closed:
            return
        self._closed = True
        self.status = status
        self._run_info["status"] = status
        self._run_info["finished_at"] = datetime.now().isoformat(timespec="seconds")
        try:
            self._write_metrics()
            self._write("run.json", _json_bytes(self._run_info))
            self._pictures.curves(self.history)  # a no-op unless Finished brought rows not drawn yet
        finally:
            self._pictures.close(quiet=status == "failed")
            self._tensorboard.close()

    def mark(self, status: Status) -> None:
        """Write ``status`` into metrics.json and run.json now, and nothing else (for a process about to end)."""
        if self._closed:
            return
        self.status = status
        self._run_info["status"] = status
        self._run_info["finished_at"] = datetime.now().isoformat(timespec="seconds")
        self._write_metrics()
        self._write("run.json", _json_bytes(self._run_info))


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass
