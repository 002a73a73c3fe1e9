"""Runs survive interrupts, resume exactly, stop on NaNs, and meet bad input with one clear line.

Most tests drive ``mnistkit.cli.main`` in-process on 500 tiny random digits
with a small MLP (5 steps per epoch); the signal tests start a real process.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import jax
import numpy as np
import pytest

from mnistkit.cli import main
from mnistkit.data import files, idx
from mnistkit.runs import checkpoints as ck
from mnistkit.runs.integrity import MANIFEST
from mnistkit.runs.interrupts import StopRequest

STEPS_PER_EPOCH = 5


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """The four IDX files with 500 train and 100 test random digits."""
    rng = np.random.default_rng(0)
    return files.write_dir(
        tmp_path_factory.mktemp("tiny-idx"),
        rng.integers(0, 256, (500, 28, 28), dtype=np.uint8), np.arange(500) % 10,
        rng.integers(0, 256, (100, 28, 28), dtype=np.uint8), np.arange(100) % 10,
    )


def run_args(tiny: Path, out: Path, epochs: int = 3, *extra: str) -> list[str]:
    return ["run", "--data", "idx", "--data-dir", str(tiny), "--model", "mlp", "--model-opt", "hidden=32",
            "--batch-size", "100", "--epochs", str(epochs), "--out", str(out), *extra]


def only_run(out: Path) -> Path:
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    return run_dir


def history(run_dir: Path) -> list[dict]:
    rows = json.loads((run_dir / "metrics.json").read_text())["history"]
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


def status(run_dir: Path) -> str:
    return json.loads((run_dir / "metrics.json").read_text())["status"]


def saved_state(run_dir: Path):
    """The newest checkpoint of ``run_dir``, read the way ``--resume`` reads it."""
    from mnistkit.host.build import build_model, build_optimizer
    from mnistkit.host.loading import load_registry
    from mnistkit.runs.resume import run_config

    config = run_config(run_dir)
    registry = load_registry()
    model = build_model(registry.model(config.model), config.model_options, config.seed)
    tx = build_optimizer(registry.optimizer(config.optimizer), config.learning_rate, config.optimizer_options)
    return ck.Checkpoints(run_dir).restore(ck.state_template(model, tx))


def leaves(state) -> list[np.ndarray]:
    return [np.asarray(x) for x in jax.tree.leaves(state)]


def error_lines(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.strip()]


def stop_after(monkeypatch, calls: int) -> None:
    """Make the run's Ctrl-C flag go up after ``calls`` polls (one poll per train step)."""
    count = {"n": 0}

    def requested(self) -> bool:
        count["n"] += 1
        return count["n"] > calls

    monkeypatch.setattr(StopRequest, "requested", requested)


@pytest.fixture(scope="module")
def uninterrupted(tiny, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("uninterrupted")
    assert main(run_args(tiny, out, 3)) == 0
    return only_run(out)


def test_a_run_checkpoints_every_epoch_into_its_folder(uninterrupted):
    saved = ck.Checkpoints(uninterrupted)
    assert saved.steps() == [5, 10, 15]
    meta = saved.newest_meta()
    assert (meta["epoch"], meta["step"], meta["format_version"]) == (4, 0, ck.FORMAT_VERSION)
    assert meta["config"]["model"] == "mlp" and meta["data"]["source"] == "idx"
    assert [row["epoch"] for row in meta["history"]] == [1, 2, 3]


def test_same_seed_same_data_gives_an_identical_history_and_identical_parameters(tiny, tmp_path, uninterrupted):
    assert main(run_args(tiny, tmp_path, 3)) == 0
    again = only_run(tmp_path)
    assert history(again) == history(uninterrupted)
    for a, b in zip(leaves(saved_state(again).snapshot.state), leaves(saved_state(uninterrupted).snapshot.state), strict=True):
        np.testing.assert_array_equal(a, b)


def test_interrupted_after_epoch_1_of_3_and_resumed_ends_like_an_uninterrupted_run(
        tiny, tmp_path, monkeypatch, capsys, uninterrupted):
    stop_after(monkeypatch, STEPS_PER_EPOCH)
    assert main(run_args(tiny, tmp_path, 3)) == 130
    run_dir = only_run(tmp_path)
    err = capsys.readouterr().err
    assert f"To resume: mnistkit run --resume {run_dir}" in err
    assert status(run_dir) == "interrupted" and len(history(run_dir)) == 1

    monkeypatch.undo()
    assert main(["run", "--resume", str(run_dir)]) == 0

    assert status(run_dir) == "completed"
    assert history(run_dir) == history(uninterrupted)
    for a, b in zip(leaves(saved_state(run_dir).snapshot.state), leaves(saved_state(uninterrupted).snapshot.state), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_stop_in_the_middle_of_an_epoch_resumes_from_that_step(tiny, tmp_path, monkeypatch, uninterrupted):
    stop_after(monkeypatch, STEPS_PER_EPOCH + 2)
    assert main(run_args(tiny, tmp_path, 3)) == 130
    run_dir = only_run(tmp_path)
    stopped = saved_state(run_dir)
    assert (stopped.snapshot.epoch, stopped.snapshot.step) == (2, 2) and stopped.snapshot.running is not None

    monkeypatch.undo()
    assert main(["run", "--resume", str(run_dir)]) == 0

    for a, b in zip(history(run_dir), history(uninterrupted), strict=True):
        assert a == pytest.approx(b, rel=1e-5)
    for a, b in zip(leaves(saved_state(run_dir).snapshot.state), leaves(saved_state(uninterrupted).snapshot.state), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)




def test_a_stop_mid_epoch_names_the_step_the_progress_bar_ends_at(tiny, tmp_path, monkeypatch, capsys):
    stop_after(monkeypatch, STEPS_PER_EPOCH + 2)
    assert main(run_args(tiny, tmp_path, 3, "--json")) == 130
    captured = capsys.readouterr()

    bars = [e for e in map(json.loads, captured.out.splitlines()) if e["event"] == "Progress"]
    assert (bars[-1]["epoch"], bars[-1]["step"], bars[-1]["steps"]) == (2, 2, STEPS_PER_EPOCH)
    assert f"Interrupted at step 2/{STEPS_PER_EPOCH} of epoch 2/3; saved a checkpoint and the history" in captured.err


def test_a_finished_part_epoch_resumes_with_more_epochs_and_ends_like_an_uninterrupted_run(
        tiny, tmp_path, capsys, uninterrupted):
    assert main(run_args(tiny, tmp_path, 1.4)) == 0  # epoch 2 is 2 of its 5 steps
    run_dir = only_run(tmp_path)
    part = saved_state(run_dir).snapshot
    assert (part.epoch, part.step) == (2, 2) and part.running is not None
    assert [row["epoch"] for row in history(run_dir)] == [1, 2]

    capsys.readouterr()
    assert main(["run", "--resume", str(run_dir), "--epochs", "1.4"]) == 2
    assert main(["run", "--resume", str(run_dir), "--epochs", "1.2"]) == 2
    same, fewer = error_lines(capsys)
    assert "already finished its 1.4 epochs (2 of epoch 2's 5 steps, trained and evaluated)" in same
    assert "pass --epochs 2 to finish epoch 2" in same
    assert "--epochs 1.2 is fewer than the 1 epochs and 2 steps of epoch 2" in fewer

    assert main(["run", "--resume", str(run_dir), "--epochs", "3"]) == 0
    assert status(run_dir) == "completed"
    # The part epoch's row is replaced by the whole epoch's: one row per epoch, as if never stopped.
    for a, b in zip(history(run_dir), history(uninterrupted), strict=True):
        assert a == pytest.approx(b, rel=1e-5)
    for a, b in zip(leaves(saved_state(run_dir).snapshot.state), leaves(saved_state(uninterrupted).snapshot.state), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def signal_after_first_checkpoint(monkeypatch, *signums: int) -> None:
    """Deliver real signals to this process right after the run's first checkpoint is written."""
    real_save = ck.Checkpoints.save
    pending = list(signums)

    def save(self, snapshot):
        real_save(self, snapshot)
        while pending:
            os.kill(os.getpid(), pending.pop(0))

    monkeypatch.setattr(ck.Checkpoints, "save", save)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_saves_a_checkpoint_and_the_history_prints_how_to_resume_and_exits_130(
        tiny, tmp_path, monkeypatch, capsys, signum):
    signal_after_first_checkpoint(monkeypatch, signum)
    assert main(run_args(tiny, tmp_path, 3)) == 130
    run_dir = only_run(tmp_path)

    err = capsys.readouterr().err
    assert "Interrupted after epoch 1/3; saved a checkpoint and the history" in err
    assert f"To resume: mnistkit run --resume {run_dir}" in err
    assert status(run_dir) == "interrupted" and len(history(run_dir)) == 1
    stopped = saved_state(run_dir).snapshot
    assert (stopped.epoch, stopped.step) == (2, 0)
    assert stopped.history == tuple(json.loads((run_dir / "metrics.json").read_text())["history"])


def test_a_second_signal_stops_at_once_keeping_the_last_checkpoint(tiny, tmp_path, monkeypatch, capsys):
    signal_after_first_checkpoint(monkeypatch, signal.SIGINT, signal.SIGINT)
    assert main(run_args(tiny, tmp_path, 3)) == 130
    run_dir = only_run(tmp_path)
    err = capsys.readouterr().err
    assert f"Stopped at once. The checkpoint after epoch 1 is kept in {run_dir / 'checkpoints'}" in err
    assert saved_state(run_dir).snapshot.epoch == 2


def test_ctrl_c_twice_on_a_real_process_exits_130_and_leaves_a_run_that_resumes(tiny, tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "mnistkit", *run_args(tiny, tmp_path, 500)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not [p for p in tmp_path.glob("*/checkpoints/*") if p.name.isdigit()]:
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1]
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)

    assert proc.returncode == 130, err
    assert "Traceback" not in err and "mnistkit run --resume" in err
    run_dir = only_run(tmp_path)
    assert status(run_dir) == "interrupted"  # recorded even when the second Ctrl-C ends the process at once
    assert json.loads((run_dir / "run.json").read_text())["status"] == "interrupted"
    stopped = saved_state(run_dir).snapshot
    assert main(["run", "--resume", str(run_dir), "--epochs", str(stopped.epoch + 1)]) == 0
    assert status(run_dir) == "completed"


def test_a_huge_learning_rate_stops_within_the_first_epoch_with_a_hint_and_saves_nothing_bad(tiny, tmp_path, capsys):
    assert main(run_args(tiny, tmp_path, 3, "--learning-rate", "1e9")) == 1
    (line,) = error_lines(capsys)
    assert "NaN or infinite in epoch 1 by step" in line and "last finite loss" in line and "--learning-rate" in line
    run_dir = only_run(tmp_path)
    assert status(run_dir) == "failed" and history(run_dir) == []
    assert ck.Checkpoints(run_dir).steps() == []


BOOM_OPTIMIZER = textwrap.dedent("""
    import optax
    from mnistkit.hookspecs import hookimpl
    from mnistkit.specs import OptimizerSpec

    def boom(learning_rate):
        # Sensible for the first epoch (5 steps), then a billion times too big.
        return optax.adam(optax.piecewise_constant_schedule(learning_rate, {5: 1e36}))

    @hookimpl
    def register_optimizers(register):
        register(OptimizerSpec(name="boom", factory=boom, lesson="lesson.md"))
""")

FLAKY_METRIC = textwrap.dedent("""
    from mnistkit.hookspecs import hookimpl
    from mnistkit.specs import MetricReport, MetricSpec

    def on_evaluation(outputs):
        if outputs.epoch >= 2:
            raise RuntimeError("the flaky metric gave up")
        return MetricReport(values={"flaky": 0.5})

    @hookimpl
    def register_metrics(register):
        register(MetricSpec(name="flaky", lesson="lesson.md", on_evaluation=on_evaluation))
""")

EVAL_SHY_MODEL = textwrap.dedent("""
    from flax import nnx
    from mnistkit.hookspecs import hookimpl
    from mnistkit.specs import ModelSpec

    class Shy(nnx.Module):
        def __init__(self, rngs):
            self.dense = nnx.Linear(784, 10, rngs=rngs)
            self.evaluating = False

        def eval(self, **kwargs):
            self.evaluating = True

        def train(self, **kwargs):
            self.evaluating = False

        def __call__(self, x):
            if self.evaluating and x.shape[0] > 2:
                raise ValueError("stage fright")
            return self.dense(x.reshape(x.shape[0], -1))

    @hookimpl
    def register_models(register):
        register(ModelSpec(name="shy", factory=Shy, lesson="lesson.md"))
""")


def plugin_file(tmp_path: Path, name: str, source: str) -> Path:
    (tmp_path / "lesson.md").write_text("---\nid: plugin-test\ntitle: Test\norder: 99\nminutes: 1\n---\nA test plugin.\n")
    path = tmp_path / f"{name}.py"
    path.write_text(source)
    return path


def test_a_loss_that_blows_up_in_epoch_2_keeps_the_checkpoint_of_epoch_1(tiny, tmp_path, capsys):
    plugin = plugin_file(tmp_path, "boomopt", BOOM_OPTIMIZER)
    out = tmp_path / "runs"
    assert main(run_args(tiny, out, 3, "--plugin", str(plugin), "--optimizer", "boom")) == 1
    (line,) = error_lines(capsys)
    run_dir = only_run(out)
    assert "NaN or infinite in epoch 2" in line and f"checkpoint after epoch 1 is kept in {run_dir / 'checkpoints'}" in line
    kept = ck.Checkpoints(run_dir).newest_meta()
    assert (kept["epoch"], kept["step"]) == (2, 0)
    assert len(history(run_dir)) == 1 and status(run_dir) == "failed"


def test_a_plugin_raising_mid_training_is_named_and_the_checkpoint_is_kept(tiny, tmp_path, capsys):
    plugin = plugin_file(tmp_path, "flaky", FLAKY_METRIC)
    out = tmp_path / "runs"
    assert main(run_args(tiny, out, 3, "--plugin", str(plugin), "--metric", "flaky")) == 2
    (line,) = error_lines(capsys)
    run_dir = only_run(out)
    assert line.startswith("mnistkit: error: plugin 'flaky' raised RuntimeError: the flaky metric gave up in epoch 2")
    assert f"checkpoint after epoch 1 is kept in {run_dir / 'checkpoints'}" in line and "--resume" in line
    assert saved_state(run_dir).snapshot.epoch == 2
    assert status(run_dir) == "failed"


def plugin_run_args(tiny: Path, out: Path, plugin: Path, model: str, epochs: int) -> list[str]:
    return ["run", "--data", "idx", "--data-dir", str(tiny), "--plugin", str(plugin), "--model", model,
            "--batch-size", "100", "--epochs", str(epochs), "--out", str(out)]


def test_a_model_raising_at_its_first_evaluation_is_named(tiny, tmp_path, capsys):
    plugin = plugin_file(tmp_path, "shy", EVAL_SHY_MODEL)
    assert main(plugin_run_args(tiny, tmp_path / "runs", plugin, "shy", 2)) == 2
    (line,) = error_lines(capsys)
    assert "plugin 'shy' raised ValueError: stage fright in epoch 1" in line and "no checkpoint was saved yet" in line


def damage_truncated(directory: Path) -> Path:
    path = directory / files.TRAIN_IMAGES.name
    path.write_bytes(path.read_bytes()[:-40])
    return path


def damage_magic(directory: Path) -> Path:
    path = directory / files.TEST_IMAGES.name
    idx.write_idx(path, np.arange(100) % 10)  # a labels file where images belong
    return path


def damage_counts(directory: Path) -> Path:
    path = directory / files.TRAIN_LABELS.name
    idx.write_idx(path, np.arange(499) % 10)
    return path


@pytest.mark.parametrize("damage", [damage_truncated, damage_magic, damage_counts],
                         ids=["truncated", "wrong-magic", "counts-disagree"])
def test_bad_idx_files_get_one_line_naming_the_file_and_exit_2(tiny, tmp_path, capsys, damage):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(tiny, data)
    bad = damage(data)
    out = tmp_path / "runs"

    assert main(run_args(data, out, 1)) == 2
    (line,) = error_lines(capsys)
    assert str(bad) in line
    assert not out.exists()


@pytest.fixture(scope="module")
def finished_one_epoch(tiny, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("one-epoch")
    assert main(run_args(tiny, out, 1)) == 0
    return only_run(out)


@pytest.fixture
def one_epoch_run(finished_one_epoch, tmp_path) -> Path:
    """A copy of a finished one-epoch run, for a test to resume or spoil."""
    import shutil

    return Path(shutil.copytree(finished_one_epoch, tmp_path / "runs" / finished_one_epoch.name))


def folder_bytes(run_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run_dir)): p.read_bytes() for p in sorted(run_dir.rglob("*")) if p.is_file()}


def rewrite_format_version(run_dir: Path) -> None:
    for meta_file in run_dir.glob("checkpoints/*/meta/metadata"):
        meta = json.loads(meta_file.read_text())
        meta["format_version"] = 0
        meta_file.write_text(json.dumps(meta))
        (meta_file.parent.parent / MANIFEST).unlink()


@pytest.mark.parametrize(
    ("change", "extra", "expected"),
    [
        (None, ["--model", "cnn"], "--model 'cnn' does not match run"),
        (None, ["--batch-size", "50"], "--batch-size 50 does not match run"),
        (None, ["--epochs", "1"], "already finished its 1 epochs; pass --epochs N with N above 1"),
        (None, ["--epochs", "0.5"], "already finished its 1 epochs; pass --epochs N with N above 1"),
        (rewrite_format_version, ["--epochs", "2"], "format version 0"),
        ("move-data", ["--epochs", "2"], "which cannot be loaded now"),
    ],
    ids=["other-model", "other-batch-size", "nothing-left", "part-of-what-is-done", "format-version", "data-gone"],
)
def test_a_resume_that_cannot_work_is_one_line_exit_2_and_changes_nothing(
        one_epoch_run, tmp_path, capsys, change, extra, expected):
    run_dir = one_epoch_run
    if change == "move-data":
        config = json.loads((run_dir / "config.json").read_text())
        config["data_dir"] = str(tmp_path / "gone")
        (run_dir / "config.json").write_text(json.dumps(config))
    elif change is not None:
        change(run_dir)
    capsys.readouterr()
    before = folder_bytes(run_dir)

    assert main(["run", "--resume", str(run_dir), *extra]) == 2

    (line,) = error_lines(capsys)
    assert expected in line, line
    assert folder_bytes(run_dir) == before


GROWING_MODEL = textwrap.dedent("""
    from flax import nnx
    from mnistkit.hookspecs import hookimpl
    from mnistkit.specs import ModelSpec

    WIDTH = {width}

    class Grow(nnx.Module):
        def __init__(self, rngs):
            self.hidden = nnx.Linear(784, WIDTH, rngs=rngs)
            self.logits = nnx.Linear(WIDTH, 10, rngs=rngs)

        def __call__(self, x):
            return self.logits(nnx.relu(self.hidden(x.reshape(x.shape[0], -1))))

    @hookimpl
    def register_models(register):
        register(ModelSpec(name="grow", factory=Grow, lesson="lesson.md"))
""")


def test_resuming_after_the_model_plugin_changed_its_architecture_names_the_array(tiny, tmp_path, capsys):
    plugin = plugin_file(tmp_path, "grow", GROWING_MODEL.format(width=16))
    out = tmp_path / "runs"
    assert main(plugin_run_args(tiny, out, plugin, "grow", 1)) == 0
    run_dir = only_run(out)
    plugin.write_text(GROWING_MODEL.format(width=24))
    capsys.readouterr()
    before = folder_bytes(run_dir)

    assert main(["run", "--resume", str(run_dir), "--epochs", "2", "--plugin", str(plugin)]) == 2

    (line,) = error_lines(capsys)
    assert ("was made by a different model: model.hidden.bias is float32[16] in the checkpoint "
            "but float32[24] in the model") in line
    assert folder_bytes(run_dir) == before


def test_resume_with_more_epochs_extends_a_finished_run_finding_its_data_where_it_moved_to(one_epoch_run, tiny, tmp_path):
    import shutil

    moved = tmp_path / "moved"
    shutil.copytree(tiny, moved)
    assert main(["run", "--resume", str(one_epoch_run), "--epochs", "2", "--data-dir", str(moved)]) == 0
    assert [row["epoch"] for row in history(one_epoch_run)] == [1, 2]
    assert status(one_epoch_run) == "completed"
    assert json.loads((one_epoch_run / "config.json").read_text())["epochs"] == 2


def test_resume_refuses_other_data_under_the_same_name(one_epoch_run, tmp_path, capsys):
    rng = np.random.default_rng(1)
    other = files.write_dir(
        tmp_path / "other",
        rng.integers(0, 256, (500, 28, 28), dtype=np.uint8), np.arange(500) % 10,
        rng.integers(0, 256, (100, 28, 28), dtype=np.uint8), np.arange(100) % 10,
    )
    capsys.readouterr()
    assert main(["run", "--resume", str(one_epoch_run), "--epochs", "2", "--data-dir", str(other)]) == 2
    assert "is different; point --data-dir" in error_lines(capsys)[0]


def test_checkpoints_and_config_of_different_runs_are_refused(one_epoch_run, capsys):
    config = json.loads((one_epoch_run / "config.json").read_text())
    config["seed"] = 7
    (one_epoch_run / "config.json").write_text(json.dumps(config))
    capsys.readouterr()
    assert main(["run", "--resume", str(one_epoch_run), "--epochs", "2"]) == 2
    assert "belong to different runs" in error_lines(capsys)[0]


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS], ids=["disk-full", "read-only"])
def test_a_full_or_read_only_disk_during_a_checkpoint_is_one_line_and_keeps_the_last_checkpoint(
        tiny, tmp_path, capsys, monkeypatch, code):
    real_rename = os.rename
    saves = {"n": 0}

    def rename(src, dst, *args, **kwargs):
        if str(src).endswith(ck.TMP_MARKER) and Path(src).parent.name == "checkpoints":
            saves["n"] += 1
            if saves["n"] >= 2:
                raise OSError(code, os.strerror(code), str(src))
        return real_rename(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "rename", rename)
    out = tmp_path / "runs"
    assert main(run_args(tiny, out, 3)) == 2
    monkeypatch.undo()

    (line,) = error_lines(capsys)
    run_dir = only_run(out)
    assert f"cannot write a checkpoint in {run_dir / 'checkpoints'}: {os.strerror(code)}" in line
    assert [p.name for p in (run_dir / "checkpoints").iterdir()] == ["5"]
    assert saved_state(run_dir).snapshot.epoch == 2
    assert status(run_dir) == "failed"


def test_resuming_into_a_read_only_run_folder_is_one_line_and_changes_nothing(one_epoch_run, capsys, monkeypatch):
    real_write_bytes = Path.write_bytes

    def write_bytes(self, data):
        if self.name.startswith(".write-test"):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
        return real_write_bytes(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)
    capsys.readouterr()
    before = folder_bytes(one_epoch_run)
    assert main(["run", "--resume", str(one_epoch_run), "--epochs", "2"]) == 2
    (line,) = error_lines(capsys)
    assert str(one_epoch_run) in line and "Read-only file system" in line
    assert "copy the run somewhere writable" in line and "--out" not in line
    assert folder_bytes(one_epoch_run) == before


def test_evaluate_recomputes_the_test_metrics_of_the_history(uninterrupted, capsys):
    capsys.readouterr()
    assert main(["evaluate", "--run", str(uninterrupted), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    last = json.loads((uninterrupted / "metrics.json").read_text())["history"][-1]
    assert result["epoch"] == 3
    assert result["test"]["accuracy"] == pytest.approx(last["test_accuracy"], rel=1e-6)
    assert result["test"]["loss"] == pytest.approx(last["test_loss"], rel=1e-6)


def test_predict_shows_a_grid_of_test_digits_and_writes_a_png(uninterrupted, tmp_path, capsys):
    out = tmp_path / "grid.png"
    assert main(["predict", "--run", str(uninterrupted), "--out", str(out), "--count", "10"]) == 0
    text = capsys.readouterr().out
    assert "on the first 10 test digits" in text and ("✓" in text or "✗" in text)
    assert out.read_bytes().startswith(b"\x89PNG")


def test_predict_reads_a_users_png_and_prints_the_probabilities(uninterrupted, tmp_path, capsys):
    from PIL import Image

    drawing = np.full((90, 60), 255, np.uint8)  # dark ink on white, not 28x28
    drawing[10:80, 27:33] = 0
    Image.fromarray(drawing).save(tmp_path / "one.png")
    capsys.readouterr()

    assert main(["predict", "--run", str(uninterrupted), "--image", str(tmp_path / "one.png"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert sum(result["probabilities"]) == pytest.approx(1.0, abs=1e-5)
    assert result["digit"] == int(np.argmax(result["probabilities"]))


def test_predict_on_an_image_that_is_not_one_is_one_line(uninterrupted, tmp_path, capsys):
    (tmp_path / "note.png").write_text("not a picture")
    capsys.readouterr()
    assert main(["predict", "--run", str(uninterrupted), "--image", str(tmp_path / "note.png")]) == 2
    (line,) = error_lines(capsys)
    assert "cannot read" in line and "note.png" in line


def test_the_soak_benchmark_runs_back_to_back_in_one_process(tiny, tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    try:
        import soak
    finally:
        sys.path.pop(0)
    rows = soak.soak(runs=2, data_dir=tiny, workdir=tmp_path, options=("hidden=32",))
    assert [row["run"] for row in rows] == [1, 2]
    assert all(row["rss_mb"] > 0 for row in rows)
