"""The lessons' runnable stages: real results, built on each other, jumpable and resettable."""

import io

import pytest
from rich.console import Console

from mnistkit.curriculum import stages
from mnistkit.curriculum.stages import Note, StageContext, lesson_config, plan, reset, run_stage
from mnistkit.curriculum.train_cache import restore_training
from mnistkit.engine import events as ev
from mnistkit.errors import ConfigError


def short(tmp_path, **changes) -> StageContext:
    """A context that trains one epoch on the bundled sample and keeps its files under ``tmp_path``."""
    return StageContext(config=lesson_config(data="sample", epochs=1, **changes), out_dir=tmp_path,
                        runs_dir=tmp_path / "runs")


@pytest.fixture(scope="module")
def walked(tmp_path_factory):
    """Every stage once, in the order of the lessons, in one context: what a learner's session does."""
    ctx = short(tmp_path_factory.mktemp("stages"))
    shown: dict[str, list] = {}
    for name in stages.STAGES:
        shown[name] = []
        run_stage(ctx, name, shown[name].append)
    return ctx, shown


def values(walked, name):
    return walked[0].results[name].values


def test_stages_follow_the_lessons():
    assert list(stages.STAGES) == ["setup", "data", "pipeline", "model", "forward", "metrics", "optimizer",
                                   "train_step", "evaluate", "seeds", "train", "curves", "predict"]


def test_setup_reports_versions_and_the_backend(walked):
    result = values(walked, "setup")
    assert {"jax", "flax", "optax"} <= set(result["versions"]) and result["backend"] == "cpu"


def test_data_shows_shapes_and_draws_a_digit(walked):
    result = values(walked, "data")
    assert result["train_shape"] == (6000, 28, 28) and result["test_shape"] == (1000, 28, 28)
    assert result["counts"] == [600] * 10
    text = render(walked[1]["data"])
    assert "(6000, 28, 28)" in text and "▀" in text and f"labelled {result['first_label']}" in text


def test_pipeline_batches_and_counts_the_test_set(walked):
    result = values(walked, "pipeline")
    assert result["image_shape"] == (32, 28, 28, 1) and result["image_dtype"] == "float32"
    assert (result["train_batches"], result["test_batches"], result["test_scored_with_drop_remainder"]) == (187, 32, 992)


def test_model_summary_counts_the_tutorials_parameters(walked):
    result = values(walked, "model")
    assert result["params"] == 824_458 and result["output_shape"] == (1, 10)
    assert result["layers"] == {"conv1": 320, "conv2": 18_496, "hidden": 803_072, "logits": 2_570}
    assert "824,458" in render(walked[1]["model"])


def test_forward_gives_logits_and_probabilities(walked):
    result = values(walked, "forward")
    assert result["logits_shape"] == (5, 10)
    assert result["prob_sums"] == pytest.approx([1.0] * 5, abs=1e-5)


def test_metrics_of_the_untrained_model_are_near_chance(walked):
    result = values(walked, "metrics")
    assert result["images"] == 1000 and result["accuracy"] < 0.2 and 2.0 < result["loss"] < 2.6


def test_optimizer_state_is_twice_the_parameters(walked):
    result = values(walked, "optimizer")
    assert result["state_numbers"] == 2 * 824_458 + 2 and result["learning_rate"] == 0.005


def test_a_train_step_lowers_the_loss_without_touching_the_shared_model(walked):
    ctx, _ = walked
    result = values(walked, "train_step")
    assert result["loss_after"] < result["loss_before"]
    assert int(ctx.optimizer.step[...]) == 0  # the stage trained copies


def test_evaluate_scores_every_test_image(walked):
    result = values(walked, "evaluate")
    assert (result["scored"], result["scored_with_drop_remainder"]) == (1000, 992)


def test_seeds_reproduce_weights_and_order(walked):
    result = values(walked, "seeds")
    assert result["same_params"] and result["other_seed_difference"] > 0
    assert result["order"] != result["other_order"]


def test_train_streams_the_engines_events_and_learns(walked):
    kinds = {type(item) for item in walked[1]["train"]}
    assert {ev.RunStarted, ev.Progress, ev.EpochEnd, ev.Evaluation, ev.Finished} <= kinds
    assert values(walked, "train")["test_accuracy"] > 0.9


def test_curves_and_predictions_are_saved_and_shown(walked):
    from pathlib import Path

    assert Path(values(walked, "curves")["path"]).stat().st_size > 0
    result = values(walked, "predict")
    assert result["shown"] == 25 and result["correct"] >= 20 and Path(result["path"]).is_file()
    assert "✓" in render(walked[1]["predict"])


def test_jumping_to_a_stage_runs_what_it_needs_first(tmp_path):
    ctx, shown = short(tmp_path), []
    run_stage(ctx, "forward", shown.append)
    notes = [item.text for item in shown if isinstance(item, Note)]
    assert any("'data' stage" in note for note in notes) and any("'model' stage" in note for note in notes)
    assert set(ctx.results) == {"data", "model", "forward"}


def test_a_later_program_restores_the_trained_model_instead_of_training(walked):
    ctx = StageContext(config=walked[0].config, out_dir=walked[0].out_dir, runs_dir=walked[0].runs_dir)
    shown = []
    run_stage(ctx, "predict", shown.append)
    assert not any(isinstance(item, ev.RunStarted) for item in shown)
    assert any(isinstance(item, Note) and "Restored" in item.text for item in shown)
    assert ctx.results["predict"].values["predicted"] == values(walked, "predict")["predicted"]


def test_a_cache_made_with_other_settings_is_not_restored(walked):
    ctx = short(walked[0].out_dir, seed=1)
    run_stage(ctx, "optimizer")
    assert restore_training(ctx, lambda item: None) is False and ctx.trained is None


def test_reset_forgets_a_stage_and_what_builds_on_it(tmp_path):
    ctx = short(tmp_path)
    run_stage(ctx, "forward")
    forgotten = reset(ctx, "model")
    assert {"model", "forward", "train", "predict"} <= set(forgotten)
    assert set(ctx.results) == {"data"} and ctx.model is None


def test_reset_of_train_deletes_its_cache(tmp_path):
    ctx = short(tmp_path)
    (tmp_path / "train-cache.json").write_text("{}")
    reset(ctx, "train")
    assert not (tmp_path / "train-cache.json").exists()


def test_rerunning_a_stage_forgets_the_stages_built_on_it(tmp_path):
    ctx = short(tmp_path)
    run_stage(ctx, "forward")
    run_stage(ctx, "model")
    assert "forward" not in ctx.results


def test_plan_puts_requirements_first():
    assert plan("predict") == ["data", "model", "optimizer", "train", "predict"]


def test_an_unknown_stage_names_the_stages():
    with pytest.raises(ConfigError, match="no stage 'fly'; the stages are: setup, data"):
        plan("fly")


def render(items) -> str:
    console = Console(width=100, record=True, file=io.StringIO())
    for item in items:
        if isinstance(item, (str, Note)) or hasattr(item, "__rich_console__") or hasattr(item, "__rich__"):
            console.print(item.text if isinstance(item, Note) else item)
    return console.export_text()
