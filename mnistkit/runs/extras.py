"""The optional outputs of a run folder: TensorBoard scalars, and pictures drawn off the training thread.

Both are extras: a failure warns once (``RuntimeWarning``) and the run goes
on. ``Pictures`` draws ``curves.png`` after every evaluation and
``predictions.png`` when the predictions arrive, on one background thread,
so training never waits for matplotlib and the end of a run only waits for
the last drawing, already under way. ``close`` waits for what was asked.
"""

from __future__ import annotations

import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from mnistkit.engine.events import Predictions


def scalar_tag(key: str) -> str:
    """``train_loss`` -> ``loss/train``, so TensorBoard pairs train and test."""
    for split in ("train", "test"):
        if key.startswith(f"{split}_"):
            return f"{key[len(split) + 1 :]}/{split}"
    return f"time/{key}" if key == "seconds" else key


def warn(message: str) -> None:
    warnings.warn(message, RuntimeWarning, stacklevel=3)


class TensorBoardLog:
    """One scalar per history value and epoch, in ``FOLDER/tensorboard`` (tensorboardX)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._writer: Any = None
        self._broken = False

    def write(self, row: dict[str, float]) -> None:
        if self._broken:
            return
        try:
            if self._writer is None:
                from tensorboardX import SummaryWriter

                # tensorboardX writes from a background thread and its flush()
                # does not wait for it; flush_secs=1 gets each epoch to disk
                # within about a second. close() drains everything.
                self._writer = SummaryWriter(logdir=str(self.folder / "tensorboard"), flush_secs=1)
            step = int(row["epoch"])
            for key, value in row.items():
                if key != "epoch":
                    self._writer.add_scalar(scalar_tag(key), float(value), step)
            self._writer.flush()
        except Exception as err:  # noqa: BLE001 - TensorBoard is optional
            self._broken = True
            warn(f"TensorBoard logging stopped: {err}")

    def close(self) -> None:
        writer, self._writer = self._writer, None
        if writer is None:
            return
        try:
            writer.close()
        except Exception as err:  # noqa: BLE001 - TensorBoard is optional
            warn(f"could not close the TensorBoard log: {err}")


class Pictures:
    """``curves.png`` and ``predictions.png`` in ``folder``, drawn on a background thread in the order asked."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._thread: ThreadPoolExecutor | None = None
        self._pending: list[Future[None]] = []
        self._curves_rows = 0  # how many history rows the last curves asked for had
        self._failed = False

    def prepare(self) -> None:
        """Import matplotlib on the drawing thread now (about half a second), while the run trains."""
        self._submit(lambda: _plots().warm_up())

    def curves(self, history: list[dict[str, float]]) -> None:
        """Draw the curves of ``history`` (copied now) unless they are drawn already."""
        if not history or len(history) == self._curves_rows:
            return
        self._curves_rows = len(history)
        rows = [dict(row) for row in history]
        self._submit(lambda: _plots().plot_curves(rows, self.folder / "curves.png"))

    def predictions(self, event: Predictions) -> None:
        self._submit(lambda: _plots().plot_predictions(event.images, event.labels, event.predicted,
                                                       self.folder / "predictions.png"))

    def close(self, quiet: bool = False) -> None:
        """Wait for every drawing asked for; one warning if any failed, unless ``quiet``.

        A run that failed (say, on a full disk) passes ``quiet``: its own error
        is the one line the user needs, and a picture lost with it adds nothing.
        """
        pending, self._pending = self._pending, []
        for future in pending:
            try:
                future.result()
            except Exception as err:  # noqa: BLE001 - pictures are optional
                if not self._failed and not quiet:
                    self._failed = True
                    warn(f"could not draw the pictures in {self.folder}: {err}")
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None

    def _submit(self, draw) -> None:
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mnistkit-pictures")
        self._pending = [future for future in self._pending if not future.done() or future.exception() is not None]
        self._pending.append(self._thread.submit(draw))


def _plots():
    from mnistkit.report import plots

    return plots
