"""The run folder: layout after a run, after an interruption, and on bad paths."""

from __future__ import annotations

import csv
import json
import os
import struct
import time
import warnings
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from mnistkit.engine.events import (
    Compiled,
    EpochEnd,
    Evaluation,
    Event,
    Finished,
    Predictions,
    Progress,
    RunStarted,
    history_row,
)
from mnistkit.errors import OutputError
from mnistkit.runs.folder import RunRecorder, default_run_dir, write_atomic

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CONFIG = {"model": "cnn", "epochs": 2, "batch_size": 32, "learning_rate": 0.005}


def epoch_events(epoch: int) -> list[Event]:
    train = {"loss": 1.0 / epoch, "accuracy": 1 - 0.1 / epoch}
    test = {"loss": 1.1 / epoch, "accuracy": 1 - 0.12 / epoch}
    return [
        Progress(epoch=epoch, step=10, steps=10, loss=train["loss"], accuracy=0.9, images_per_sec=1e4),
        EpochEnd(epoch=epoch, train=train, seconds=2.0),
        Evaluation(epoch=epoch, test=test, seconds=0.5),
    ]


def predictions(epoch: int) -> Predictions:
    rng = np.random.default_rng(epoch)
    labels = rng.integers(0, 10, size=25)
    predicted = labels.copy()
    predicted[:3] = (labels[:3] + 1) % 10
    images = rng.integers(0, 256, size=(25, 28, 28), dtype=np.uint8)
    return Predictions(epoch=epoch, images=images, labels=labels, predicted=predicted)


def run_started() -> RunStarted:
    return RunStarted(
        config=CONFIG,
        backend="cpu",
        devices=("TFRT_CPU_0",),
        data_source="sample",
        num_train=640,
        num_test=320,
        steps_per_epoch=10,
    )


def fake_run(epochs: int) -> list[Event]:
    events: list[Event] = [run_started(), Compiled(seconds=1.5)]
    rows = []
    for epoch in range(1, epochs + 1):
        batch = epoch_events(epoch)
        events += [*batch, predictions(epoch)]
        rows.append(history_row(batch[1], batch[2]))  # type: ignore[arg-type]
    events.append(Finished(history=tuple(rows), seconds=6.0))
    return events


def read_scalars(logdir: Path) -> dict[str, list[tuple[int, float]]]:
    """Every scalar in the TensorBoard event files under ``logdir``, by tag.

    Event files are TFRecords: a little-endian u64 length, a u32 CRC, the
    serialized ``Event`` proto, a u32 CRC.
    """
    from tensorboardX.proto.event_pb2 import Event as EventProto

    scalars: dict[str, list[tuple[int, float]]] = {}
    for file in sorted(logdir.glob("events.out.tfevents.*")):
        data = file.read_bytes()
        offset = 0
        while offset < len(data):
            (length,) = struct.unpack_from("<Q", data, offset)
            record = data[offset + 12 : offset + 12 + length]
            offset += 12 + length + 4
            event = EventProto.FromString(record)
            for value in event.summary.value:
                scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
    return scalars


def wait_for_scalars(logdir: Path, tag: str, timeout: float = 10.0) -> list[tuple[int, float]]:
    """The scalars of ``tag`` once tensorboardX's background writer has flushed them."""
    deadline = time.monotonic() + timeout
    while not (found := read_scalars(logdir).get(tag)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found or []


def is_png(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 100 and path.read_bytes()[:8] == PNG_MAGIC


def test_completed_run_leaves_config_metrics_pictures_and_tensorboard(tmp_path: Path) -> None:
    run = tmp_path / "runs" / "r1"
    recorder = RunRecorder(run, CONFIG)
    recorder.create()
    for event in fake_run(epochs=2):
        recorder.handle(event)

    assert json.loads((run / "config.json").read_text()) == CONFIG
    info = json.loads((run / "run.json").read_text())
    assert info["backend"] == "cpu" and info["devices"] == ["TFRT_CPU_0"]
    assert info["data_source"] == "sample" and info["compile_seconds"] == 1.5
    assert info["status"] == "completed"

    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "completed"
    assert [row["epoch"] for row in metrics["history"]] == [1, 2]
    assert metrics["history"][1]["test_loss"] == pytest.approx(0.55)

    with open(run / "metrics.csv", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == [
            "epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "seconds",
        ]
        rows = list(reader)
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert float(rows[0]["seconds"]) == pytest.approx(2.5)

    assert is_png(run / "curves.png")
    assert is_png(run / "predictions.png")
    assert not list(run.glob(".*")), "temporary files were left behind"

    scalars = read_scalars(run / "tensorboard")
    assert {"loss/train", "loss/test", "accuracy/train", "accuracy/test"} <= set(scalars)
    assert [step for step, _ in scalars["loss/test"]] == [1, 2]
    assert scalars["accuracy/train"][0][1] == pytest.approx(0.9)


def test_metrics_are_on_disk_after_each_epoch(tmp_path: Path) -> None:
    recorder = RunRecorder(tmp_path / "run", CONFIG)
    recorder.create()
    assert json.loads((tmp_path / "run" / "metrics.json").read_text()) == {
        "status": "running",
        "history": [],
    }
    for event in epoch_events(1):
        recorder.handle(event)

    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["status"] == "running" and len(metrics["history"]) == 1
    assert wait_for_scalars(tmp_path / "run" / "tensorboard", "loss/train") == [(1, 1.0)]
    recorder.close("interrupted")


def test_interrupted_run_keeps_completed_epochs_and_status(tmp_path: Path) -> None:
    run = tmp_path / "run"
    recorder = RunRecorder(run, CONFIG)
    recorder.create()
    for event in [run_started(), *epoch_events(1), predictions(1), *epoch_events(2)[:2]]:
        recorder.handle(event)
    recorder.close("interrupted")

    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "interrupted"
    assert [row["epoch"] for row in metrics["history"]] == [1], "half an epoch is not a row"
    assert len((run / "metrics.csv").read_text().splitlines()) == 2
    assert is_png(run / "curves.png") and is_png(run / "predictions.png")
    assert json.loads((run / "run.json").read_text())["status"] == "interrupted"
    assert read_scalars(run / "tensorboard")["loss/test"] == [(1, pytest.approx(1.1))]


def test_close_before_any_epoch_records_status_without_curves(tmp_path: Path) -> None:
    run = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt), RunRecorder(run, CONFIG) as recorder:
        recorder.handle(run_started())
        raise KeyboardInterrupt

    assert json.loads((run / "metrics.json").read_text()) == {"status": "interrupted", "history": []}
    assert (run / "metrics.csv").read_text() == "epoch\n"
    assert not (run / "curves.png").exists()
    assert not (run / "tensorboard").exists()


def test_context_manager_records_failure_and_close_after_finish_changes_nothing(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), RunRecorder(tmp_path / "a", CONFIG):
        raise RuntimeError("boom")
    assert json.loads((tmp_path / "a" / "metrics.json").read_text())["status"] == "failed"

    recorder = RunRecorder(tmp_path / "b", CONFIG)
    recorder.create()
    for event in fake_run(epochs=1):
        recorder.handle(event)
    recorder.close("interrupted")
    assert json.loads((tmp_path / "b" / "metrics.json").read_text())["status"] == "completed"


def test_plugin_metrics_become_extra_columns_and_scalars(tmp_path: Path) -> None:
    run = tmp_path / "run"
    recorder = RunRecorder(run, CONFIG)
    recorder.create()
    recorder.handle(EpochEnd(epoch=1, train={"loss": 0.5, "accuracy": 0.8, "top3": 0.95}, seconds=1.0))
    recorder.handle(Evaluation(epoch=1, test={"loss": 0.6, "accuracy": 0.7, "top3": 0.9}, seconds=1.0))
    recorder.close("completed")

    header = (run / "metrics.csv").read_text().splitlines()[0].split(",")
    assert header[0] == "epoch" and {"train_top3", "test_top3"} <= set(header)
    assert "top3/test" in read_scalars(run / "tensorboard")
    assert is_png(run / "curves.png")


def test_broken_tensorboard_warns_once_and_training_goes_on(tmp_path: Path) -> None:
    run = tmp_path / "run"
    recorder = RunRecorder(run, CONFIG)
    recorder.create()
    (run / "tensorboard").write_text("a file where the log folder should be")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for event in fake_run(epochs=2):
            recorder.handle(event)

    tensorboard_warnings = [w for w in caught if "TensorBoard" in str(w.message)]
    assert len(tensorboard_warnings) == 1
    assert json.loads((run / "metrics.json").read_text())["status"] == "completed"


def test_output_under_a_regular_file_raises_and_creates_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    run = blocker / "runs" / "r1"

    with pytest.raises(OutputError) as excinfo:
        RunRecorder(run, CONFIG).create()

    message = str(excinfo.value)
    assert str(run) in message and "\n" not in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-folder"]


def test_output_in_a_read_only_folder_raises_and_creates_nothing(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("permissions do not stop this user from writing (running as root?)")
        run = locked / "runs" / "r1"
        with pytest.raises(OutputError) as excinfo:
            RunRecorder(run, CONFIG).create()
        assert str(run) in str(excinfo.value)
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def test_create_refuses_a_folder_that_holds_a_run(tmp_path: Path) -> None:
    RunRecorder(tmp_path / "run", CONFIG).create()
    with pytest.raises(OutputError, match="already holds a run"):
        RunRecorder(tmp_path / "run", {"model": "mlp"}).create()
    assert json.loads((tmp_path / "run" / "config.json").read_text()) == CONFIG


def test_default_run_dir_is_timestamped_and_unique(tmp_path: Path) -> None:
    now = datetime(2026, 11, 4, 14, 25, 1)
    first = default_run_dir(tmp_path, "cnn", now=now)
    assert first == tmp_path / "20261104-142501-cnn"
    first.mkdir()
    second = default_run_dir(tmp_path, "cnn", now=now)
    assert second == tmp_path / "20261104-142501-cnn-2"
    second.mkdir()
    assert default_run_dir(tmp_path, "cnn", now=now).name == "20261104-142501-cnn-3"


def test_default_run_dir_defaults_to_runs_and_sanitises_model_names() -> None:
    path = default_run_dir(None, "my plugin/cnn", now=datetime(2026, 1, 2, 3, 4, 5))
    assert path == Path("runs") / "20260102-030405-my-plugin-cnn"


def test_write_atomic_replaces_whole_file_and_cleans_up_on_error(tmp_path: Path) -> None:
    target = tmp_path / "metrics.json"
    target.write_text("old")
    write_atomic(target, b"new")
    assert target.read_text() == "new"

    with pytest.raises(OSError):
        write_atomic(tmp_path / "missing" / "x.json", b"data")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]


RACE = """
import sys, time
from datetime import datetime
from pathlib import Path
from mnistkit.runs.folder import RunRecorder, claim_run_dir
out, start, me = Path(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
while time.time() < start:
    pass
for i in range(25):
    path, made = claim_run_dir(out / str(i), "cnn", now=datetime(2026, 1, 1))
    RunRecorder(path, {"who": me}).create(made)
"""


def test_runs_started_in_the_same_instant_never_share_a_folder(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    start = time.time() + 4  # every process has imported mnistkit by then, and they start together
    racers = [subprocess.Popen([sys.executable, "-c", RACE, str(tmp_path), str(start), str(k)]) for k in range(4)]
    assert [racer.wait(120) for racer in racers] == [0, 0, 0, 0]
    for i in range(25):
        folders = sorted((tmp_path / str(i)).iterdir())
        assert [f.name for f in folders] == ["20260101-000000-cnn", *(f"20260101-000000-cnn-{n}" for n in (2, 3, 4))]
        assert sorted(json.loads((f / "config.json").read_text())["who"] for f in folders) == ["0", "1", "2", "3"]


def test_a_claimed_folder_that_cannot_start_a_run_is_removed(tmp_path: Path, monkeypatch) -> None:
    from mnistkit.runs.folder import claim_run_dir

    path, made = claim_run_dir(tmp_path / "new" / "runs", "cnn")
    recorder = RunRecorder(path, {"model": "cnn"})
    monkeypatch.setattr(RunRecorder, "_check_writable", lambda self: (_ for _ in ()).throw(OutputError("full")))
    with pytest.raises(OutputError):
        recorder.create(made)
    assert not (tmp_path / "new").exists()


def test_a_picture_lost_with_a_failed_run_adds_no_warning_to_its_error(tmp_path):
    """A run that failed says one line; a picture it could not draw (the same full disk, say) warns only otherwise."""
    from mnistkit.runs.extras import Pictures

    for quiet, warned in ((True, 0), (False, 1)):
        pictures = Pictures(tmp_path / "missing-folder")  # drawing there fails
        pictures.curves([{"train_loss": 1.0, "test_loss": 1.0, "train_accuracy": 0.5, "test_accuracy": 0.5}])
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            pictures.close(quiet=quiet)
        assert len([w for w in seen if "could not draw the pictures" in str(w.message)]) == warned
