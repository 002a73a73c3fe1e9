"""`mnistkit run` as a user meets it: one line and exit 2 for mistakes, a run folder otherwise."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mnistkit.cli import main

HEAVY = ("jax", "flax", "tensorflow", "textual", "matplotlib")


def mnistkit(*args: str, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mnistkit", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=os.environ.copy())


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


@pytest.mark.parametrize("code", ["import mnistkit", "import mnistkit.cli; mnistkit.cli.build_parser().format_help()"])
def test_importing_the_package_and_help_load_no_heavy_library(code):
    check = f"import sys; {code}; print([m for m in {HEAVY!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_help_lists_the_commands():
    out = subprocess.run([sys.executable, "-m", "mnistkit", "--help"], capture_output=True, text=True, check=True).stdout
    assert "run" in out and "data" in out and "plugins" in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--epochs", "0"], "--epochs: must be above 0"),
        (["--epochs", "two"], "expected a number of epochs such as 10 or 0.5"),
        (["--dtype", "float8"], "invalid choice: 'float8'"),
        (["--batch-size", "-3"], "--batch-size: must be at least 1"),
        (["--learning-rate", "nan"], "--learning-rate: must be a positive number"),
        (["--data", "floppy"], "invalid choice: 'floppy'"),
    ],
)
def test_bad_numbers_get_one_line_and_exit_2(args, expected, capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--out", str(tmp_path / "runs"), *args])
    assert exit_info.value.code == 2
    assert expected in one_error_line(capsys)
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--epochs", "1.5", "--engine", "tutorial"], "--engine tutorial trains whole epochs only"),
        (["--dtype", "bfloat16", "--engine", "tutorial"], "--engine tutorial computes in float32 only"),
    ],
)
def test_options_the_tutorial_engine_lacks_are_refused(args, expected, capsys, tmp_path):
    assert main(["run", "--out", str(tmp_path / "runs"), *args]) == 2
    assert expected in one_error_line(capsys)
    assert not (tmp_path / "runs").exists()


def test_unknown_model_lists_the_known_ones(capsys, tmp_path):
    assert main(["run", "--model", "transformer", "--out", str(tmp_path / "runs")]) == 2
    line = one_error_line(capsys)
    assert "unknown model 'transformer'" in line and "cnn" in line
    assert not (tmp_path / "runs").exists()


def test_unknown_optimizer_lists_the_known_ones(capsys, tmp_path):
    assert main(["run", "--optimizer", "rmsprop", "--out", str(tmp_path / "runs")]) == 2
    line = one_error_line(capsys)
    assert "unknown optimizer 'rmsprop'" in line and "adamw" in line and "sgd" in line


def test_a_typo_in_a_model_name_gets_the_close_names(capsys, tmp_path):
    assert main(["run", "--model", "cnnn", "--out", str(tmp_path / "runs")]) == 2
    assert "unknown model 'cnnn'; did you mean cnn" in one_error_line(capsys)
    assert not (tmp_path / "runs").exists()


def test_names_that_differ_only_in_case_train_the_registered_ones_and_resume(tmp_path):
    out = tmp_path / "runs"
    assert main(["run", "--model", "MLP", "--optimizer", "AdamW", "--metric", "Confusion", "--data", "sample",
                 "--epochs", "0.05", "--out", str(out)]) == 0
    (run_dir,) = out.iterdir()
    config = json.loads((run_dir / "config.json").read_text())
    assert (config["model"], config["optimizer"], config["metrics"]) == ("mlp", "adamw", ["confusion"])
    assert run_dir.name.endswith("-mlp")

    assert main(["run", "--resume", str(run_dir), "--model", "Mlp", "--epochs", "0.1"]) == 0  # the run's own model


def test_batch_larger_than_the_data_is_refused(capsys, tmp_path):
    assert main(["run", "--data", "sample", "--batch-size", "7000", "--out", str(tmp_path / "runs")]) == 2
    assert "larger than the 6,000 training images" in one_error_line(capsys)
    assert not (tmp_path / "runs").exists()


def test_missing_data_dir_is_refused_with_its_path(capsys, tmp_path):
    missing = tmp_path / "nowhere"
    assert main(["run", "--data-dir", str(missing), "--out", str(tmp_path / "runs")]) == 2
    assert str(missing) in one_error_line(capsys)
    assert not (tmp_path / "runs").exists()


def test_unwritable_out_is_refused_before_training(capsys, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    assert main(["run", "--data", "sample", "--out", str(blocker / "runs")]) == 2
    assert str(blocker) in one_error_line(capsys)


def test_bad_model_option_names_the_choices(capsys, tmp_path):
    assert main(["run", "--model-opt", "depth=3", "--out", str(tmp_path / "runs")]) == 2
    line = one_error_line(capsys)
    assert "no option 'depth'" in line and "features" in line


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    """One real epoch on the bundled sample through the whole CLI."""
    cwd = tmp_path_factory.mktemp("cli-run")
    result = mnistkit("run", "--data", "sample", "--epochs", "1", "--out", "runs", cwd=cwd)
    assert result.returncode == 0, result.stderr
    (run_dir,) = (cwd / "runs").iterdir()
    return result, run_dir


def test_run_on_the_sample_learns_far_above_chance(sample_run):
    _, run_dir = sample_run
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "completed"
    assert metrics["history"][0]["test_accuracy"] > 0.85


def test_run_prints_backend_epoch_line_and_prediction_grid(sample_run):
    result, _ = sample_run
    out = result.stdout
    assert "Backend: cpu" in out
    assert "epoch 1/1" in out and "test loss" in out
    assert "Predictions on 25 test digits" in out
    assert "█" in out or "▀" in out


def test_run_directory_has_every_promised_file(sample_run):
    _, run_dir = sample_run
    for name in ("config.json", "run.json", "metrics.json", "metrics.csv", "curves.png", "predictions.png"):
        assert (run_dir / name).stat().st_size > 0, name
    assert any((run_dir / "tensorboard").iterdir())
    config = json.loads((run_dir / "config.json").read_text())
    assert config["model"] == "cnn" and config["optimizer"] == "adamw" and config["batch_size"] == 32
    assert run_dir.name.endswith("-cnn")


def test_a_run_without_full_mnist_names_its_data_once_in_lines_that_fit_80_columns(data_isolated_env, tmp_path, capsys):
    assert main(["run", "--model", "mlp", "--epochs", "0.05", "--out", str(tmp_path / "runs")]) == 0
    captured = capsys.readouterr()
    header = captured.err.splitlines() + captured.out.splitlines()[:3]  # before the epoch lines
    assert sum("MNIST sample" in line for line in header) == 1
    assert "Data: bundled MNIST sample (6,000 train, 1,000 test images)" in header
    assert any("mnistkit data import DIR" in line for line in header)
    assert all(len(line) <= 80 for line in header), header


def test_json_mode_prints_one_event_per_line_schema_first(tmp_path):
    result = mnistkit("run", "--data", "sample", "--epochs", "1", "--batch-size", "200", "--json", "--out", "runs", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0] == {"event": "Schema", "schema": "mnistkit.engine.events", "version": 1}
    kinds = [line["event"] for line in lines]
    assert kinds[1] == "RunStarted" and kinds[-1] == "Finished"
    assert {"Progress", "EpochEnd", "Evaluation", "Predictions"} <= set(kinds)


def test_half_an_epoch_in_bfloat16_is_recorded_as_asked(tmp_path):
    result = mnistkit("run", "--data", "sample", "--epochs", "0.5", "--batch-size", "200", "--dtype", "bfloat16",
                      "--json", "--out", "runs", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert {e["steps"] for e in events if e["event"] == "Progress"} == {15}  # half of 6,000 / 200
    assert [e["epoch"] for e in events if e["event"] == "Evaluation"] == [1]
    (run_dir,) = (tmp_path / "runs").iterdir()
    config = json.loads((run_dir / "config.json").read_text())
    assert config["epochs"] == 0.5 and config["dtype"] == "bfloat16"


def test_ctrl_c_stops_cleanly_and_keeps_a_consistent_run_directory(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "mnistkit", "run", "--data", "sample", "--epochs", "50", "--batch-size", "300", "--json", "--out", "runs"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 180
    for line in proc.stdout:
        if '"event": "Evaluation"' in line or time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "Interrupted" in err and "Traceback" not in err
    (run_dir,) = (tmp_path / "runs").iterdir()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "interrupted"
    assert len(metrics["history"]) >= 1
    assert (run_dir / "curves.png").stat().st_size > 0


def test_a_recipe_fills_in_what_the_user_did_not_give(tmp_path):
    result = mnistkit("run", "--recipe", "speedrun", "--data", "sample", "--batch-size", "100", "--out", "runs", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    config = json.loads((run_dir / "config.json").read_text())
    assert (config["model"], config["optimizer"], config["schedule"]) == ("speedrun", "adam", "one-cycle")
    assert config["label_smoothing"] == 0.1 and config["epochs"] == 0.75
    assert config["batch_size"] == 100  # given on the command line, so the recipe's 128 does not apply
    assert json.loads((run_dir / "metrics.json").read_text())["history"][0]["test_accuracy"] > 0.8


def test_an_unknown_recipe_lists_the_known_ones(capsys, tmp_path):
    assert main(["run", "--recipe", "fastest", "--out", str(tmp_path / "runs")]) == 2
    line = one_error_line(capsys)
    assert "unknown recipe 'fastest'" in line and "speedrun" in line
