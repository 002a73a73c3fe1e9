"""The runs folder as a list (the TUI's compare and resume read it): order, what each run was, what changed."""

import json
from pathlib import Path

from mnistkit.runs.catalog import differences, list_runs, read_run


def write_run(folder: Path, *, started: str, status: str, rate: float, epochs: int = 2, rows: int = 2,
              checkpoint: bool = False) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"model": "cnn", "optimizer": "adamw", "learning_rate": rate,
                                                    "epochs": epochs, "engine": "fast"}))
    (folder / "run.json").write_text(json.dumps({"started_at": started, "status": status}))
    history = [{"epoch": n, "train_loss": 1 / n, "test_loss": 1.1 / n, "test_accuracy": 0.9 + n / 100} for n in range(1, rows + 1)]
    (folder / "metrics.json").write_text(json.dumps({"status": status, "history": history}))
    if checkpoint:
        (folder / "checkpoints" / "1").mkdir(parents=True)
    return folder


def test_a_run_folder_reads_back_its_settings_and_history(tmp_path):
    run = read_run(write_run(tmp_path / "r", started="2026-12-01T10:00:00", status="completed", rate=0.005, rows=3))
    assert run is not None and run.config["learning_rate"] == 0.005 and len(run.history) == 3
    assert read_run(tmp_path) is None  # the runs folder itself is not a run


def test_runs_are_listed_newest_first_and_other_folders_are_skipped(tmp_path):
    write_run(tmp_path / "a", started="2026-12-01T10:00:00", status="completed", rate=0.005)
    write_run(tmp_path / "b", started="2026-12-01T11:00:00", status="interrupted", rate=0.05, rows=1, checkpoint=True)
    write_run(tmp_path / "c", started="2026-12-01T12:00:00", status="interrupted", rate=0.05, rows=0)
    (tmp_path / "not-a-run").mkdir()
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{not json")
    runs = list_runs(tmp_path)
    assert [run.name for run in runs] == ["c", "b", "a"]
    assert [run.name for run in list_runs(tmp_path, with_history=True)] == ["b", "a"]
    assert [run.resumable for run in runs] == [False, True, False]
    assert runs[2].describe() == "cnn · adamw lr 0.005 · 2 of 2 epochs · completed · test 92.0%"
    assert list_runs(tmp_path / "missing") == []


def test_differences_name_the_settings_that_changed():
    assert differences({"model": "cnn", "learning_rate": 0.005, "epochs": 2},
                       {"model": "cnn", "learning_rate": 0.05, "epochs": 3}) == ["learning rate 0.005 → 0.05", "epochs 2 → 3"]
    assert differences({"model": "cnn"}, {"model": "cnn"}) == []
