"""`mnistkit plugins`, `mnistkit run --model/--optimizer/--metric/--schedule` and plugin options, as a user meets them."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mnistkit.cli import main
from mnistkit.errors import ConfigError
from mnistkit.runs.config import RunConfig
from mnistkit.runs.schedules import build_schedule, learning_rate_for

LOCAL_PLUGIN = '''
import jax.numpy as jnp
from mnistkit.hookspecs import hookimpl
from mnistkit.specs import MetricSpec


@hookimpl
def register_metrics(register):
    register(MetricSpec("always_half", "lesson.md", "Half, always.",
                        per_example=lambda logits, labels: jnp.full(labels.shape, 0.5)))
'''

LESSON = """---
id: plugin-local-test
title: Local test lesson
order: 991
minutes: 1
prerequisites: []
---

# Local

A lesson body with enough words in it to be a body for the tests of the local plugin here.
"""


@pytest.fixture
def local_plugin(tmp_path: Path) -> str:
    (tmp_path / "lesson.md").write_text(LESSON)
    path = tmp_path / "halfmetric.py"
    path.write_text(textwrap.dedent(LOCAL_PLUGIN))
    return str(path)


def test_help_imports_no_plugin_and_no_plugin_machinery():
    code = ("import sys\nfrom mnistkit.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pluggy', 'mnistkit_plugins', 'jax')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


HEAVY = ("jax", "flax", "optax", "orbax", "tensorflow", "tensorflow_datasets", "clu")


@pytest.mark.parametrize("command", [["plugins"], ["plugins", "--json"], ["lessons"], ["lessons", "--json"],
                                     ["lesson", "show", "pipeline"], ["--help"]], ids=" ".join)
def test_discovering_and_listing_never_import_the_heavy_stack(command, tmp_path):
    """Every plugin installed here (the builtins and the example) loads without JAX, Flax, optax, orbax or TF."""
    code = ("import sys\nfrom mnistkit.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))")
    done = subprocess.run([sys.executable, "-c", code, *command], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "COLUMNS": "100"}, timeout=120)
    assert done.returncode == 0, done.stderr
    if command[0] == "plugins":
        assert "tiny-resnet" in done.stdout and "speedrun" in done.stdout  # the example and every builtin were loaded
    assert done.stdout.strip().splitlines()[-1] == "[]", f"mnistkit {' '.join(command)} imported the heavy stack"


def test_plugins_lists_each_plugin_with_its_source_kinds_lessons_and_fits_80_columns(capsys):
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    for name, kinds in (("models", "models"), ("optimizers", "optimizers"), ("metrics", "metrics")):
        header = next(line for line in lines if line.startswith(f"{name}  "))
        assert "from mnistkit 0.1.0" in header and "loaded" in header and f"({kinds})" in header
    for item in ("cnn", "mlp", "lenet5", "cnn-bn", "adamw", "adam", "sgd", "lion", "accuracy", "loss", "top2", "confusion", "ece"):
        assert any(line.split()[1:2] == [item] for line in lines if line.startswith("  ")), item
    assert "lesson: mnistkit_lessons:lenet5.md" in out and "options: features=32, hidden=256" in out
    assert max(len(line.rstrip()) for line in lines) <= 80


def test_plugins_json_gives_distribution_version_lesson_files_and_loaded(capsys):
    assert main(["plugins", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    plugins = {p["name"]: p for p in listing["plugins"]}
    models = plugins["models"]
    assert models["distribution"] == "mnistkit" and models["version"] == "0.1.0" and models["loaded"] is True
    assert models["kinds"] == ["model"] and models["problems"] == []
    cnn = next(item for item in models["provides"] if item["name"] == "cnn")
    assert cnn["lesson"] == "mnistkit_lessons:cnn.md" and Path(cnn["lesson_file"]).is_file()
    assert cnn["options"] == {"features": 32, "hidden": 256, "conv": "auto"}
    assert {item["name"] for item in listing["provides"] if item["kind"] == "optimizer"} >= {"adamw", "adam", "sgd", "lion"}
    assert listing["problems"] == []


def test_local_plugins_load_from_the_flag_and_the_environment_and_can_be_disabled(local_plugin, capsys, monkeypatch):
    assert main(["plugins", "--json", "--plugin", local_plugin]) == 0
    local = next(p for p in json.loads(capsys.readouterr().out)["plugins"] if p["name"] == "halfmetric")
    assert local["version"] == "local" and local["source"] == local_plugin and local["kinds"] == ["metric"]

    monkeypatch.setenv("MNISTKIT_PLUGINS", local_plugin)
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert f"halfmetric  local, from {local_plugin}" in out.replace("\n", "") or "halfmetric  local" in out

    assert main(["plugins", "--json", "--disable-plugin", "halfmetric", "--disable-plugin", "metrics"]) == 0
    names = [p["name"] for p in json.loads(capsys.readouterr().out)["plugins"]]
    assert "halfmetric" not in names and "metrics" not in names and "models" in names


def test_run_takes_metrics_a_schedule_and_the_optimizers_own_learning_rate(tmp_path, capsys, local_plugin):
    code = main(["run", "--model", "mlp", "--optimizer", "sgd", "--optimizer-opt", "nesterov=true",
                 "--metric", "confusion", "--metric", "top2", "--metric", "ece", "--metric", "always_half",
                 "--plugin", local_plugin, "--schedule", "warmup-cosine", "--warmup-epochs", "0.5",
                 "--epochs", "1", "--data", "sample", "--out", str(tmp_path / "runs")])
    assert code == 0
    out = capsys.readouterr().out
    assert "confusion after epoch 1:" in out and "true  accuracy" in out and "(columns: predicted)" in out
    assert "ece after epoch 1:" in out and "Expected calibration error" in out
    [run_dir] = (tmp_path / "runs").iterdir()
    config = json.loads((run_dir / "config.json").read_text())
    assert config["learning_rate"] == 0.05 and config["schedule"] == "warmup-cosine"
    assert config["metrics"] == ["confusion", "top2", "ece", "always_half"]
    assert config["optimizer_options"] == {"momentum": 0.9, "nesterov": True}
    [row] = list(csv.DictReader((run_dir / "metrics.csv").open()))
    assert float(row["test_accuracy"]) > 0.8
    for column in ("train_top2", "test_top2", "test_ece", "test_min_class_accuracy"):
        assert 0.0 <= float(row[column]) <= 1.0, column
    assert float(row["test_top2"]) >= float(row["test_accuracy"])
    assert float(row["train_always_half"]) == 0.5
    assert (run_dir / "confusion.png").read_bytes().startswith(b"\x89PNG")
    assert (run_dir / "confusion.csv").read_text().startswith("true,pred_0,")


@pytest.mark.parametrize(("args", "message"), [
    (["--model-opt", "layers=two"], "model 'mlp' option 'layers' must be a whole number, got 'two'"),
    (["--model-opt", "depth=3"], "model 'mlp' has no option 'depth' (options: hidden, layers)"),
    (["--optimizer-opt", "nesterov=maybe"], "optimizer 'adamw' has no option 'nesterov'"),
    (["--metric", "f1"], "unknown metric 'f1' (known metrics: accuracy, "),
    (["--optimizer", "rmsprop"], "unknown optimizer 'rmsprop' (known optimizers: adam, adamw, lion, sgd"),
])
def test_plugin_choices_and_options_are_validated_in_one_line(args, message, capsys, tmp_path):
    assert main(["run", "--model", "mlp", "--out", str(tmp_path / "runs"), *args]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("mnistkit: error: ") and message in line
    assert not (tmp_path / "runs").exists()


def test_warmup_cosine_rises_to_the_peak_then_falls_to_zero():
    schedule = build_schedule("warmup-cosine", 0.01, total_steps=100, warmup_steps=10)
    assert float(schedule(0)) == 0.0
    assert float(schedule(10)) == pytest.approx(0.01)
    assert float(schedule(55)) == pytest.approx(0.005, rel=1e-3)
    assert float(schedule(100)) == 0.0


def test_one_cycle_peaks_at_30_percent_and_constant_is_a_number():
    schedule = build_schedule("one-cycle", 0.1, total_steps=1000)
    rates = [float(schedule(step)) for step in range(0, 1001, 50)]
    assert max(rates) == pytest.approx(0.1) and rates.index(max(rates)) * 50 == 300
    assert rates[-1] < 1e-4
    assert build_schedule("constant", 0.1, total_steps=1000) == 0.1


def test_the_schedule_spans_the_whole_run_and_warmup_is_capped_at_half():
    config = RunConfig(epochs=4, learning_rate=0.02, schedule="warmup-cosine", warmup_epochs=3.0)
    schedule = learning_rate_for(config, steps_per_epoch=50)
    assert float(schedule(100)) == pytest.approx(0.02)
    assert float(schedule(200)) == 0.0
    with pytest.raises(ConfigError, match="unknown --schedule 'linear'"):
        build_schedule("linear", 0.1, total_steps=10)


def test_plugin_new_refuses_bad_names_and_existing_folders(tmp_path, capsys):
    assert main(["plugin", "new", "Bad_Name", "--dir", str(tmp_path)]) == 2
    assert "must be lowercase letters and digits" in capsys.readouterr().err
    (tmp_path / "mnistkit-taken").mkdir()
    assert main(["plugin", "new", "taken", "--dir", str(tmp_path)]) == 2
    assert "exists already" in capsys.readouterr().err


TF_PLUGIN = '''
import sys
import time

import tensorflow  # noqa: F401  (what a careless plugin does at import)

from mnistkit.hookspecs import hookimpl
from mnistkit.specs import MetricSpec

print("hello from the plugin", file=sys.stderr)


def per_example(logits, labels):
    return (logits.argmax(-1) == labels).astype("float32")


@hookimpl
def register_metrics(register):
    register(MetricSpec(name="tfmetric", lesson="lesson.md", per_example=per_example))
'''


def test_a_plugin_importing_tensorflow_keeps_its_log_lines_quiet_and_is_named_as_slow(tmp_path):
    (tmp_path / "lesson.md").write_text("---\nid: plugin-tf\ntitle: TF\norder: 190\nminutes: 1\n---\nA test.\n")
    (tmp_path / "tfplug.py").write_text(TF_PLUGIN)
    env = {**os.environ, "MNISTKIT_HOME": str(tmp_path / "home")}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    done = subprocess.run([sys.executable, "-m", "mnistkit", "plugins", "--plugin", "tfplug.py"], cwd=tmp_path,
                          capture_output=True, text=True, env=env, timeout=180)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "hello from the plugin\n"  # the plugin's own words pass; absl's and oneDNN's do not
    assert "slow: importing it took" in done.stdout and "inside its factories" in done.stdout


def test_plugin_check_without_pytest_says_how_to_get_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pytest", None)  # what `import pytest` meets in a plain `pip install .`
    assert main(["plugin", "check", "models"]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "pip install 'mnistkit[test]'" in err[0] and "Traceback" not in err[0]
