"""One default for a lesson's train stage: the TUI's `r` key and `mnistkit lesson run` train LESSON_EPOCHS epochs."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path

from test_tui_support import small_curriculum, small_registry, wait_for

from mnistkit.cli import main
from mnistkit.runs.config import LESSON_EPOCHS
from mnistkit.tui.app import MnistkitApp
from mnistkit.tui.widgets.run_pane import RunPane


def trained_epochs(runs: Path) -> float:
    (run_dir,) = [p for p in runs.iterdir() if p.is_dir()]
    return json.loads((run_dir / "config.json").read_text())["epochs"]


def test_the_tui_stage_key_trains_the_lesson_epochs(tmp_path, data_make_idx_dir):
    data_dir = data_make_idx_dir(n_train=64, n_test=20)
    registry = small_registry(tmp_path / "plugins")

    async def scenario():
        app = MnistkitApp(registry, curriculum=small_curriculum(tmp_path / "plugins"), data="idx",
                          data_dir=str(data_dir), runs_dir=str(tmp_path / "runs"))
        async with app.run_test(size=(100, 30)) as pilot:
            # The tiny plugin's model, as it is quick; the number of epochs stays the app's own.
            app.config = replace(app.config, model="tiny", optimizer="plain-sgd", learning_rate=0.1, batch_size=16)
            app.open_lesson("training")
            await pilot.press("r")
            pane = app.main.query_one(RunPane)
            runs = tmp_path / "runs"
            await wait_for(pilot, lambda: runs.is_dir() and any(runs.iterdir()) and not pane.running,
                           what="the train stage")

    asyncio.run(scenario())
    assert trained_epochs(tmp_path / "runs") == LESSON_EPOCHS


def test_lesson_run_trains_the_lesson_epochs(tmp_path, data_make_idx_dir):
    data_dir = data_make_idx_dir(n_train=200, n_test=20)
    assert main(["lesson", "run", "train", "--model", "mlp", "--data", "idx", "--data-dir", str(data_dir),
                 "--batch-size", "50", "--out", str(tmp_path / "runs")]) == 0
    assert trained_epochs(tmp_path / "runs") == LESSON_EPOCHS
