"""One run API for every front end: the CLI, the TUI and the lesson stage train one config alike.

Also the problems users hit while each front end assembled its own run:
plugin lessons missing from the CLI, the tutorial engine's broken promises,
settings the TUI dropped, contradictions ``--resume`` missed, environment
variables read in some places only, and plugin faults named in some.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest

from mnistkit.cli import main
from mnistkit.data import files
from mnistkit.engine import events as ev
from mnistkit.host.loading import load_registry
from mnistkit.runs.assemble import prepare
from mnistkit.runs.checkpoints import Checkpoints
from mnistkit.runs.config import RunConfig, engine_settings, from_options


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """The four IDX files with 320 train and 64 test random digits."""
    rng = np.random.default_rng(1)
    return files.write_dir(
        tmp_path_factory.mktemp("tiny-idx"),
        rng.integers(0, 256, (320, 28, 28), dtype=np.uint8), np.arange(320) % 10,
        rng.integers(0, 256, (64, 28, 28), dtype=np.uint8), np.arange(64) % 10,
    )


@pytest.fixture(scope="module")
def registry():
    return load_registry()


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("MNISTKIT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MNISTKIT_OFFLINE", "1")
    monkeypatch.delenv("MNISTKIT_DATA_DIR", raising=False)
    monkeypatch.delenv("MNISTKIT_RUNS_DIR", raising=False)


def only_run(out: Path) -> Path:
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    return run_dir


def error_lines(capsys) -> list[str]:
    return capsys.readouterr().err.strip().splitlines()


def read(run_dir: Path, name: str) -> dict:
    return json.loads((run_dir / name).read_text())


def tiny_args(tiny: Path, out: Path, *extra: str) -> list[str]:
    return ["run", "--data", "idx", "--data-dir", str(tiny), "--model", "mlp", "--model-opt", "hidden=24",
            "--batch-size", "32", "--out", str(out), *extra]


def tiny_config(tiny: Path, **changes) -> RunConfig:
    return from_options({"data": "idx", "data_dir": str(tiny), "model": "mlp", "model_options": {"hidden": 24},
                         "batch_size": 32, **changes})


def plugin_file(folder: Path, name: str, source: str) -> Path:
    (folder / "lesson.md").write_text(f"---\nid: plugin-{name}\ntitle: The {name} plugin\norder: 190\nminutes: 1\n---\n"
                                      f"What {name} does.\n")
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(source))
    return path


# One configuration through every front end

SHARED = {"optimizer": "adam", "learning_rate": 0.003, "epochs": 1, "seed": 3, "schedule": "warmup-cosine",
          "warmup_epochs": 0.5, "label_smoothing": 0.1, "metrics": ("top2",)}
SHARED_ARGS = ["--optimizer", "adam", "--learning-rate", "0.003", "--epochs", "1", "--seed", "3",
               "--schedule", "warmup-cosine", "--warmup-epochs", "0.5", "--label-smoothing", "0.1", "--metric", "top2"]


def test_the_cli_the_tui_and_the_lesson_stage_record_the_same_run(tiny, registry, tmp_path):
    from mnistkit.curriculum.stages import StageContext, run_stage
    from mnistkit.tui.training import run_events

    assert main(tiny_args(tiny, tmp_path / "cli", *SHARED_ARGS)) == 0
    items = list(run_events(tiny_config(tiny, **SHARED), registry, lambda: False, out=str(tmp_path / "tui")))
    assert isinstance(items[-1], ev.Finished), items[-1]
    ctx = StageContext(config=tiny_config(tiny, **SHARED), registry=registry, out_dir=tmp_path / "files",
                       runs_dir=tmp_path / "lesson", cache=False)
    run_stage(ctx, "train")

    folders = [only_run(tmp_path / name) for name in ("cli", "tui", "lesson")]
    configs = [read(folder, "config.json") for folder in folders]
    assert configs[0] == configs[1] == configs[2]
    assert {key: configs[0][key] for key in SHARED} == {**SHARED, "metrics": ["top2"]}
    assert configs[0]["model_options"]["hidden"] == 24 and configs[0]["data_dir"] == str(tiny)
    firsts = [{k: v for k, v in read(folder, "metrics.json")["history"][0].items() if k != "seconds"}
              for folder in folders]
    assert firsts[0] == firsts[1] == firsts[2]
    assert "train_top2" in firsts[0]


def test_every_shared_setting_reaches_the_engine():
    config = RunConfig(epochs=2.5, batch_size=64, seed=4, devices=1, steps_per_dispatch=3, label_smoothing=0.2,
                       dtype="bfloat16")
    settings = engine_settings(config, progress_every=10)
    assert (settings.epochs, settings.batch_size, settings.seed, settings.devices, settings.steps_per_dispatch,
            settings.label_smoothing, settings.dtype, settings.progress_every) == (
        2.5, 64, 4, 1, 3, 0.2, "bfloat16", 10)


# 1. Plugin lessons in the CLI

LOCAL_MODEL = """
    from flax import nnx
    from mnistkit.hookspecs import hookimpl
    from mnistkit.specs import ModelSpec

    class Flat(nnx.Module):
        def __init__(self, rngs):
            self.dense = nnx.Linear(784, 10, rngs=rngs)

        def __call__(self, x):
            return self.dense(x.reshape(x.shape[0], -1))

    @hookimpl
    def register_models(register):
        register(ModelSpec(name="flat", factory=Flat, lesson="lesson.md"))
"""


def lesson_ids(text: str) -> list[str]:
    return re.findall(r"^│\s*\d+\s*│\s*(\S+)\s*│", text, flags=re.MULTILINE)


def test_a_local_plugins_lesson_is_listed_and_shown_and_disabling_the_plugin_hides_it(tmp_path, capsys):
    plugin = plugin_file(tmp_path, "flat", LOCAL_MODEL)
    assert main(["lessons", "--plugin", str(plugin)]) == 0
    assert "plugin-flat" in lesson_ids(capsys.readouterr().out)
    assert main(["lesson", "show", "plugin-flat", "--plugin", str(plugin)]) == 0
    shown = capsys.readouterr().out
    assert "The flat plugin" in shown and "What flat does." in shown and "plugin flat" in shown
    assert main(["lessons", "--plugin", str(plugin), "--disable-plugin", "flat"]) == 0
    assert "plugin-flat" not in lesson_ids(capsys.readouterr().out)
    assert main(["lesson", "show", "plugin-flat"]) == 2
    assert "no lesson 'plugin-flat'" in error_lines(capsys)[-1]


def test_an_installed_third_party_plugins_lesson_is_in_the_cli(capsys):
    """The example plugin package (installed by `make test`) pairs its model with a lesson."""
    assert main(["lessons"]) == 0
    assert "plugin-example-tiny-resnet" in lesson_ids(capsys.readouterr().out)
    assert main(["lesson", "show", "plugin-example-tiny-resnet"]) == 0


def test_the_tui_sidebar_and_mnistkit_lessons_list_the_same_lessons_in_the_same_order(registry, capsys):
    from mnistkit.tui.app import MnistkitApp

    app = MnistkitApp(registry)
    assert main(["lessons"]) == 0
    assert lesson_ids(capsys.readouterr().out) == [lesson.id for lesson in app.curriculum.ordered()]


# 2. The tutorial engine keeps the fast engine's promises, or refuses

def test_the_tutorial_engine_stops_on_a_loss_that_is_not_finite(tiny, tmp_path, capsys):
    out = tmp_path / "runs"
    assert main(tiny_args(tiny, out, "--engine", "tutorial", "--epochs", "2", "--learning-rate", "1e9")) == 1
    (line,) = error_lines(capsys)
    assert "NaN or infinite in epoch 1" in line and "--learning-rate" in line
    assert read(only_run(out), "metrics.json")["status"] == "failed"


def stop_after_first_epoch(run):
    ended = []
    for event in run.events(lambda: bool(ended)):
        if isinstance(event, ev.EpochEnd):
            ended.append(event)
    return run.outcome


def test_a_stopped_tutorial_run_says_which_checkpoint_it_kept_and_offers_no_resume(tiny, registry, tmp_path, capsys):
    run = prepare(tiny_config(tiny, engine="tutorial", epochs=3), registry, out=tmp_path / "runs")
    outcome = stop_after_first_epoch(run)
    assert outcome.status == "interrupted" and outcome.exit_code == 130 and outcome.resume is None
    assert f"checkpoint after epoch 1 is kept in {run.path / 'checkpoints'}" in outcome.message
    assert "cannot be resumed" in outcome.message and "--resume" not in outcome.message
    meta = Checkpoints(run.path).newest_meta()
    assert (meta["epoch"], meta["step"]) == (2, 0)

    before = run_files(run.path)
    assert main(["run", "--resume", str(run.path)]) == 2
    (line,) = error_lines(capsys)
    assert "--engine tutorial, which cannot resume" in line
    assert run_files(run.path) == before
    assert read(run.path, "metrics.json")["status"] == "interrupted"


def test_the_tutorial_engine_refuses_what_it_cannot_honour_before_training(tiny, tmp_path, capsys):
    for extra, expected in ((["--steps-per-dispatch", "4"], "one step per call"), (["--devices", "2"], "one device")):
        assert main(tiny_args(tiny, tmp_path / "runs", "--engine", "tutorial", *extra)) == 2
        assert expected in error_lines(capsys)[-1]
        assert not (tmp_path / "runs").exists()


# 3. The TUI keeps every setting chosen in the form

def test_r_in_the_tui_trains_the_lesson_stage_with_the_forms_settings(tiny, registry, tmp_path):
    import asyncio

    from test_tui_support import wait_for

    from mnistkit.tui.app import MnistkitApp
    from mnistkit.tui.training import StageDone

    app = MnistkitApp(registry, runs_dir=str(tmp_path / "runs"))
    seen = []

    async def scenario():
        async with app.run_test(size=(100, 30)) as pilot:
            app.config = tiny_config(tiny, epochs=1, schedule="one-cycle", metrics=("top2",), optimizer="adam",
                                     learning_rate=0.002, label_smoothing=0.05)
            app.open_lesson("train")
            original = app.main.handle_run_item
            app.main.handle_run_item = lambda item: (seen.append(item), original(item))
            await pilot.press("r")
            await wait_for(pilot, lambda: any(isinstance(i, (StageDone, ev.Failed)) for i in seen), timeout=240,
                           what="the train stage")

    asyncio.run(scenario())
    assert not [i for i in seen if isinstance(i, ev.Failed)]
    config = read(only_run(tmp_path / "runs"), "config.json")
    assert (config["model"], config["model_options"], config["schedule"], config["metrics"], config["optimizer"],
            config["learning_rate"], config["label_smoothing"]) == (
        "mlp", {"hidden": 24, "layers": 2}, "one-cycle", ["top2"], "adam", 0.002, 0.05)


# 4. --resume checks every option given, against the run, before touching it

def run_files(run_dir: Path) -> dict[str, bytes]:
    """What a run folder holds, but for its lock file (which names the last process to hold it)."""
    return {path.name: path.read_bytes() for path in run_dir.iterdir() if path.is_file() and path.name != ".lock"}


@pytest.fixture
def finished(tiny, tmp_path) -> Path:
    assert main(tiny_args(tiny, tmp_path / "runs", "--epochs", "1", "--seed", "1")) == 0
    return only_run(tmp_path / "runs")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--seed", "0"], "--seed 0 does not match"),
        (["--label-smoothing", "0.1"], "--label-smoothing 0.1 does not match"),
        (["--engine", "tutorial"], "--engine 'tutorial' does not match"),
        (["--recipe", "speedrun"], "--recipe speedrun sets --model 'speedrun'"),
        (["--batch-size", "32", "--model", "cnn"], "--model 'cnn' does not match"),
        (["--out", "elsewhere"], "--out cannot go with --resume"),
    ],
)
def test_resume_refuses_an_option_that_contradicts_the_run_and_leaves_it_untouched(finished, extra, expected, capsys):
    before = run_files(finished)
    assert main(["run", "--resume", str(finished), "--epochs", "2", *extra]) == 2
    (line,) = error_lines(capsys)
    assert expected in line
    assert run_files(finished) == before


def test_resume_accepts_options_that_repeat_the_run(finished, tiny, capsys):
    args = ["run", "--resume", str(finished), "--epochs", "2", "--seed", "1", "--model", "mlp", "--batch-size", "32",
            "--data", "idx", "--engine", "fast", "--label-smoothing", "0"]
    assert main(args) == 0
    assert [row["epoch"] for row in read(finished, "metrics.json")["history"]] == [1, 2]


HOLD = ("import sys, time\nfrom mnistkit.runs.lock import RunLock\nRunLock(sys.argv[1]).acquire().announce('a test run')\n"
        "print('held', flush=True)\ntime.sleep(120)\n")


def test_a_run_folder_in_use_is_refused_naming_its_holder_and_a_killed_holder_blocks_nothing(finished, capsys):
    import subprocess
    import sys

    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(finished)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        before = run_files(finished)
        assert main(["run", "--resume", str(finished), "--epochs", "2"]) == 2
        (line,) = error_lines(capsys)
        assert f"run folder {finished} is in use by process {holder.pid} (a test run)" in line
        assert run_files(finished) == before
        assert main(["evaluate", "--run", str(finished)]) == 0  # reading needs no lock
    finally:
        holder.kill()
        holder.wait()
    assert main(["run", "--resume", str(finished), "--epochs", "2"]) == 0
    assert [row["epoch"] for row in read(finished, "metrics.json")["history"]] == [1, 2]


# 5. Environment variables, read in one place

def test_mnistkit_run_writes_its_run_under_MNISTKIT_RUNS_DIR(tiny, tmp_path, monkeypatch):
    monkeypatch.setenv("MNISTKIT_RUNS_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.chdir(tmp_path)
    args = [arg for arg in tiny_args(tiny, tmp_path) if arg not in ("--out", str(tmp_path))]
    assert main([*args, "--epochs", "1"]) == 0
    assert only_run(tmp_path / "elsewhere") and not (tmp_path / "runs").exists()


def test_MNISTKIT_DATA_DIR_does_not_stop_the_sample_from_loading(tiny, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MNISTKIT_DATA_DIR", str(tiny))
    assert main(["lesson", "run", "data", "--data", "sample"]) == 0
    assert "Data: bundled MNIST sample" in capsys.readouterr().out
    assert main(["run", "--data", "sample", "--model", "mlp", "--epochs", "0.05", "--out", str(tmp_path / "runs")]) == 0
    assert read(only_run(tmp_path / "runs"), "config.json")["data_dir"] is None


# 6. A plugin at fault is named the same way everywhere

FLAKY_METRIC = """
    from mnistkit.hookspecs import hookimpl
    from mnistkit.specs import MetricReport, MetricSpec

    def on_evaluation(outputs):
        if outputs.epoch >= 2:
            raise ValueError("the flaky metric gave up")
        return MetricReport(values={"flaky": 0.5})

    @hookimpl
    def register_metrics(register):
        register(MetricSpec(name="flaky", lesson="lesson.md", on_evaluation=on_evaluation))
"""


def test_a_tui_run_stopped_midway_resumes_through_the_run_api_to_the_uninterrupted_parameters(tiny, registry, tmp_path):
    """What u does: the stopped run's folder is named resumable; resuming it draws its earlier epochs and ends as
    `mnistkit run` without a stop ends (the same history)."""
    from mnistkit.tui.training import Resumed, RunFolder, run_events

    config = tiny_config(tiny, epochs=3)
    whole = list(run_events(config, registry, lambda: False, out=str(tmp_path / "whole")))
    polls = iter(range(10_000))
    stopped = list(run_events(config, registry, lambda: next(polls) > 5, out=str(tmp_path / "stopped")))
    folders = [item for item in stopped if isinstance(item, RunFolder)]
    assert isinstance(stopped[-1], ev.Interrupted) and stopped[-1].epoch >= 1
    assert [folder.resumable for folder in folders] == [False, True] and folders[0].path == folders[1].path
    assert [item.resumable for item in whole if isinstance(item, RunFolder)] == [False, False]

    resumed = list(run_events(None, registry, lambda: False, resume=folders[1].path))
    kinds = [type(item) for item in resumed]
    assert kinds.index(Resumed) == kinds.index(ev.RunStarted) + 1
    (back,) = [item for item in resumed if isinstance(item, Resumed)]
    assert (back.epoch, back.step) == (stopped[-1].epoch, stopped[-1].step)
    finished = resumed[-1]
    assert isinstance(finished, ev.Finished)
    untimed = [[{k: v for k, v in row.items() if k != "seconds"} for row in items[-1].history] for items in (whole, resumed)]
    assert untimed[0] == untimed[1]


def test_the_tui_names_a_plugin_that_raises_mid_training_as_the_cli_does(tiny, tmp_path, capsys):
    from mnistkit.tui.training import run_events

    plugin = plugin_file(tmp_path, "flaky", FLAKY_METRIC)
    assert main(tiny_args(tiny, tmp_path / "cli", "--epochs", "3", "--plugin", str(plugin), "--metric", "flaky")) == 2
    (cli_line,) = error_lines(capsys)
    registry = load_registry([str(plugin)])
    config = tiny_config(tiny, epochs=3, metrics=("flaky",))
    items = list(run_events(config, registry, lambda: False, out=str(tmp_path / "tui")))
    failed = items[-1]
    assert isinstance(failed, ev.Failed)
    said = "plugin 'flaky' raised ValueError: the flaky metric gave up in epoch 2; training stopped and the checkpoint after epoch 1"
    assert cli_line.startswith(f"mnistkit: error: {said}") and failed.message.startswith(said)
    cli_run, tui_run = only_run(tmp_path / "cli"), only_run(tmp_path / "tui")
    assert cli_line.replace(str(cli_run), "R") == f"mnistkit: error: {failed.message}".replace(str(tui_run), "R")


GRUMPY = """
    from mnistkit.hookspecs import hookimpl
    from mnistkit.specs import ModelSpec, OptimizerSpec

    def grumpy_model(rngs):
        raise RuntimeError("no GPU here")

    def grumpy_optimizer(learning_rate):
        raise KeyError("momentum")

    @hookimpl
    def register_models(register):
        register(ModelSpec(name="grumpy", factory=grumpy_model, lesson="lesson.md"))

    @hookimpl
    def register_optimizers(register):
        register(OptimizerSpec(name="grumpy-sgd", factory=grumpy_optimizer, lesson="lesson.md"))
"""


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (["--model", "grumpy"], "plugin 'grumpy': model 'grumpy' could not be built: RuntimeError: no GPU here"),
        (["--optimizer", "grumpy-sgd"], "plugin 'grumpy': optimizer 'grumpy-sgd' could not be built: KeyError: 'momentum'"),
    ],
)
def test_a_factory_raising_any_error_is_one_line_naming_the_plugin(tiny, tmp_path, choice, expected, capsys):
    plugin = plugin_file(tmp_path, "grumpy", GRUMPY)
    args = ["run", "--data", "idx", "--data-dir", str(tiny), "--plugin", str(plugin), "--out", str(tmp_path / "runs"),
            *choice]
    assert main(args) == 2
    assert error_lines(capsys) == [f"mnistkit: error: {expected}"]
    assert not (tmp_path / "runs").exists()


def test_a_lessons_place_reads_the_same_in_the_cli_and_the_tui(registry, capsys):
    from mnistkit.tui.app import MnistkitApp

    curriculum = MnistkitApp(registry).curriculum
    assert main(["lesson", "show", "stack"]) == 0
    assert "lesson 1 of 13" in capsys.readouterr().out
    assert curriculum.position(curriculum.lesson("stack")) == "lesson 1 of 13"
    first_plugin_lesson = curriculum.plugin_lessons()[0]
    assert main(["lesson", "show", first_plugin_lesson.id]) == 0
    assert f"plugin lesson 1 of {len(curriculum.plugin_lessons())}" in capsys.readouterr().out


def test_cancelling_the_tuis_train_stage_saves_a_checkpoint_and_says_how_to_resume(tiny, registry, tmp_path):
    from mnistkit.curriculum.stages import StageContext
    from mnistkit.tui.training import DataNotice, run_stage_into

    ctx = StageContext(config=tiny_config(tiny, epochs=3), registry=registry, out_dir=tmp_path / "files",
                       runs_dir=tmp_path / "runs", cache=False)
    shown: list[object] = []
    stop = []

    def emit(item):
        shown.append(item)
        if isinstance(item, ev.EpochEnd):
            stop.append(True)

    run_stage_into(ctx, "train", emit, lambda: bool(stop))
    stopped = [item for item in shown if isinstance(item, ev.Interrupted)]
    assert len(stopped) == 1 and stopped[0].epoch == 2
    assert isinstance(shown[-1], DataNotice) and "To resume: mnistkit run --resume" in shown[-1].text
    run_dir = only_run(tmp_path / "runs")
    assert read(run_dir, "metrics.json")["status"] == "interrupted"
    meta = Checkpoints(run_dir).newest_meta()
    assert (meta["epoch"], meta["step"]) == (2, 0)


def test_a_resume_line_names_the_local_plugins_the_run_needs(tiny, tmp_path):
    plugin = plugin_file(tmp_path, "flat", LOCAL_MODEL)
    registry = load_registry([str(plugin)])
    run = prepare(tiny_config(tiny, model="flat", model_options={}, epochs=2), registry, out=tmp_path / "runs")
    outcome = stop_after_first_epoch(run)
    assert outcome.resume == f"mnistkit run --resume {run.path} --plugin {plugin}"
    assert outcome.resume in outcome.message


def test_a_devices_mistake_is_refused_before_a_run_folder_is_made(tiny, tmp_path, capsys):
    assert main(tiny_args(tiny, tmp_path / "runs", "--devices", "64")) == 2
    assert "--devices 64" in error_lines(capsys)[-1]
    assert not (tmp_path / "runs").exists()


def test_verbose_shows_the_traceback_of_a_plugin_that_raises_mid_training(tiny, tmp_path, capsys):
    plugin = plugin_file(tmp_path, "flaky", FLAKY_METRIC)
    args = tiny_args(tiny, tmp_path / "runs", "--epochs", "3", "--plugin", str(plugin), "--metric", "flaky")
    assert main([*args, "--verbose"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mnistkit: error: plugin 'flaky' raised ValueError")
    assert "Traceback" in err and 'raise ValueError("the flaky metric gave up")' in err and str(plugin) in err


BROKEN_MODELS = """
    import jax.numpy as jnp
    from flax import nnx
    from mnistkit.hookspecs import hookimpl
    from mnistkit.specs import ModelSpec

    class NanNet(nnx.Module):
        def __init__(self, rngs):
            self.dense = nnx.Linear(784, 10, rngs=rngs)

        def __call__(self, x):
            return self.dense(x.reshape(x.shape[0], -1)) * jnp.nan

    class NineNet(nnx.Module):
        def __init__(self, rngs):
            self.dense = nnx.Linear(784, 9, rngs=rngs)

        def __call__(self, x):
            return self.dense(x.reshape(x.shape[0], -1))

    @hookimpl
    def register_models(register):
        register(ModelSpec(name="nan-net", factory=NanNet, lesson="lesson.md"))
        register(ModelSpec(name="nine-net", factory=NineNet, lesson="lesson.md"))
"""


def test_logits_that_are_nan_from_the_start_name_the_model_not_the_learning_rate(tiny, tmp_path, capsys):
    plugin = plugin_file(tmp_path, "broken", BROKEN_MODELS)
    args = ["run", "--data", "idx", "--data-dir", str(tiny), "--plugin", str(plugin), "--model", "nan-net",
            "--epochs", "1", "--out", str(tmp_path / "runs")]
    assert main(args) == 2
    (line,) = error_lines(capsys)
    assert "plugin 'broken': model 'nan-net' gives logits that are not finite" in line and "at initialisation" in line
    assert "--learning-rate" not in line
    assert read(only_run(tmp_path / "runs"), "metrics.json")["status"] == "failed"


def test_plugins_check_flags_nan_logits_and_a_class_count_other_than_10(tmp_path, capsys):
    plugin = plugin_file(tmp_path, "broken", BROKEN_MODELS)
    assert main(["plugins", "--check", "--plugin", str(plugin), "--json"]) == 1
    problems = [p["message"] for p in json.loads(capsys.readouterr().out)["problems"] if p["plugin"] == "broken"]
    assert any("model 'nan-net' gives logits that are not finite" in p for p in problems), problems
    assert any("model 'nine-net' maps a (2, 28, 28, 1) batch to shape (2, 9); expected (2, 10)" in p for p in problems)


def test_a_finished_part_epoch_run_is_evaluated_against_its_history_and_resumes_to_finish_the_epoch(tiny, tmp_path, capsys):
    assert main(tiny_args(tiny, tmp_path / "runs", "--epochs", "0.1")) == 0
    run_dir = only_run(tmp_path / "runs")
    capsys.readouterr()
    assert main(["evaluate", "--run", str(run_dir), "--json"]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["epoch"] == 1 and evaluated["history"]["accuracy"] == pytest.approx(evaluated["test"]["accuracy"])
    assert main(["run", "--resume", str(run_dir), "--epochs", "0.1"]) == 2
    (line,) = error_lines(capsys)
    assert "already finished its 0.1 epochs" in line and "pass --epochs 1 to finish epoch 1" in line
    assert "its 1 epochs" not in line
    assert main(["run", "--resume", str(run_dir), "--epochs", "1"]) == 0
    assert [row["epoch"] for row in read(run_dir, "metrics.json")["history"]] == [1]
