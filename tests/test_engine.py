"""The engine trains, evaluates every test image and speaks only in events."""

import types

import numpy as np
import optax
import pytest
from flax import nnx
from mnistkit_plugins.networks import TutorialCNN

from mnistkit import engine
from mnistkit.engine import events as ev
from mnistkit.errors import ConfigError


def bars(n: int, seed: int = 0):
    """Synthetic digits: class c is a bright vertical bar at column 2c+3, plus noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.int32)
    images = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
    for i, c in enumerate(labels):
        images[i, 4:24, 2 * c + 3 : 2 * c + 6] = 220
    return images, labels


def dataset(n_train=640, n_test=250):
    train_x, train_y = bars(n_train, 0)
    test_x, test_y = bars(n_test, 1)
    return types.SimpleNamespace(
        train_images=train_x, train_labels=train_y, test_images=test_x, test_labels=test_y,
        description="synthetic bars", is_sample=False,
    )


def run(data, epochs=2, batch_size=32, seed=0, lr=0.005):
    model = TutorialCNN(nnx.Rngs(seed), conv="xla")  # one step per dispatch on a CPU: the tests count steps
    settings = engine.Settings(epochs=epochs, batch_size=batch_size, seed=seed, eval_batch_size=100, progress_every=5)
    events = list(engine.train(model, optax.adamw(lr, b1=0.9), data, settings, {"model": "cnn"}))
    return model, events


@pytest.fixture(scope="module")
def two_epochs():
    return run(dataset())


def test_event_stream_has_the_documented_order(two_epochs):
    _, events = two_epochs
    kinds = [type(e).__name__ for e in events if not isinstance(e, (ev.Progress, ev.Traced))]
    assert kinds == ["RunStarted", "Compiled", "EpochEnd", "Evaluation", "Predictions",
                     "EpochEnd", "Evaluation", "Predictions", "Finished"]
    started = events[0]
    assert started.steps_per_epoch == 640 // 32 and started.num_test == 250
    assert started.backend == "cpu" and started.devices


def test_each_compiled_function_is_traced_once_for_a_whole_run(two_epochs):
    _, events = two_epochs
    traced = [(e.function, e.count) for e in events if isinstance(e, ev.Traced)]
    assert traced == [("train_step", 1), ("eval_step", 1)]  # the prediction grid reuses the evaluation's logits
    assert all(e.reason.startswith("first call") for e in events if isinstance(e, ev.Traced))


def test_a_changed_input_shape_is_reported_as_the_retrace_reason():
    log = engine.TraceLog()
    log.record("f", np.zeros((32, 28, 28), np.uint8))
    log.record("f", np.zeros((16, 28, 28), np.uint8))
    _first, second = log.drain()
    assert (second.function, second.count) == ("f", 2)
    assert "uint8[32, 28, 28] -> uint8[16, 28, 28]" in second.reason


def test_progress_counts_steps_and_reports_throughput(two_epochs):
    _, events = two_epochs
    progress = [e for e in events if isinstance(e, ev.Progress) and e.epoch == 1]
    assert [p.step for p in progress] == [5, 10, 15, 20]
    assert all(p.steps == 20 and p.images_per_sec > 0 and 0 <= p.accuracy <= 1 for p in progress)


def test_training_learns_a_separable_task(two_epochs):
    _, events = two_epochs
    finished = events[-1]
    assert len(finished.history) == 2
    assert finished.history[-1]["test_accuracy"] > 0.9
    assert finished.history[-1]["train_loss"] < finished.history[0]["train_loss"] or finished.history[0]["train_loss"] < 0.1


def test_evaluation_scores_every_test_image_including_a_partial_batch():
    # 250 test images with evaluation batches of 100: the last batch is half padding.
    data = dataset()
    model, events = run(data, epochs=1)
    evaluation = next(e for e in events if isinstance(e, ev.Evaluation))
    logits = model(engine.scale(data.test_images))
    expected = float((np.asarray(logits).argmax(-1) == data.test_labels).mean())
    assert evaluation.test["accuracy"] == pytest.approx(expected, abs=1e-6)


def test_trained_parameters_are_written_back_to_the_model():
    data = dataset()
    fresh = TutorialCNN(nnx.Rngs(0))
    model, _ = run(data, epochs=1)
    before = np.asarray(fresh.logits.kernel[...])
    after = np.asarray(model.logits.kernel[...])
    assert not np.allclose(before, after)


def test_same_seed_gives_identical_history():
    data = dataset(n_train=320, n_test=100)
    _, first = run(data, epochs=1)
    _, second = run(data, epochs=1)
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]
    assert strip(first[-1].history) == strip(second[-1].history)


def test_predictions_show_fixed_test_digits_with_labels(two_epochs):
    _, events = two_epochs
    predictions = [e for e in events if isinstance(e, ev.Predictions)]
    assert predictions[0].images.shape == (25, 28, 28)
    np.testing.assert_array_equal(predictions[0].labels, predictions[1].labels)
    assert set(np.unique(predictions[-1].predicted)) <= set(range(10))


def test_predictions_are_the_trained_models_guesses(two_epochs):
    model, events = two_epochs
    last = [e for e in events if isinstance(e, ev.Predictions)][-1]
    model.eval()
    guesses = np.asarray(model(engine.scale(last.images)).argmax(axis=-1))
    np.testing.assert_array_equal(last.predicted, guesses)
    assert last.predicted.dtype == np.int64


def test_score_test_set_guesses_across_evaluation_batches():
    data = dataset(n_train=64, n_test=30)
    model = TutorialCNN(nnx.Rngs(0), conv="xla")
    graphdef, state = nnx.split((model, None))
    kind = engine.metrics_type(())
    padded = engine.pad_to_batches(data.test_images, data.test_labels, 8)  # four batches, the last padded
    scored = engine.score_test_set(engine.make_eval_step(graphdef, 8, kind), state, padded, kind, (), 1, data.test_labels, 20)
    model.eval()
    np.testing.assert_array_equal(scored.predicted, np.asarray(model(engine.scale(data.test_images[:20])).argmax(-1)))
    assert 0 <= scored.test["accuracy"] <= 1


def params(model):
    return [np.asarray(x) for x in __import__("jax").tree.leaves(nnx.state(model, nnx.Param))]


def strip_seconds(rows):
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


def train_with(data, epochs, *, resume=None, stop_after=None, steps_per_dispatch=None, devices=None, batch_size=32,
               tx=None):
    """Train a fresh seeded CNN; ``stop_after`` asks it to stop after that many stop checks."""
    model = TutorialCNN(nnx.Rngs(0), conv="xla")
    snapshots, calls = [], {"n": 0}

    def should_stop():
        calls["n"] += 1
        return stop_after is not None and calls["n"] > stop_after

    settings = engine.Settings(epochs=epochs, batch_size=batch_size, seed=0, eval_batch_size=100, progress_every=5,
                               steps_per_dispatch=steps_per_dispatch, devices=devices)
    events = list(engine.train(model, tx or optax.adamw(0.005, b1=0.9), data, settings, resume=resume,
                               checkpoint=snapshots.append, should_stop=should_stop))
    return model, events, snapshots


def test_resuming_after_epoch_one_matches_an_uninterrupted_run():
    data = dataset(n_train=320, n_test=100)
    full, full_events, _ = train_with(data, epochs=3)
    _, _, snapshots = train_with(data, epochs=1)
    assert snapshots[-1].epoch == 2 and snapshots[-1].step == 0
    resumed, resumed_events, _ = train_with(data, epochs=3, resume=snapshots[-1])
    for a, b in zip(params(full), params(resumed)):
        np.testing.assert_array_equal(a, b)
    assert strip_seconds(full_events[-1].history) == strip_seconds(resumed_events[-1].history)


def test_stopping_mid_epoch_snapshots_the_position_and_resume_matches():
    data = dataset(n_train=320, n_test=100)
    full, full_events, _ = train_with(data, epochs=2)
    _, events, snapshots = train_with(data, epochs=2, stop_after=14)  # 10 steps in epoch 1, then 4 of epoch 2
    assert isinstance(events[-1], ev.Interrupted)
    assert (snapshots[-1].epoch, snapshots[-1].step) == (2, 4)
    assert snapshots[-1].running is not None
    resumed, resumed_events, _ = train_with(data, epochs=2, resume=snapshots[-1])
    for a, b in zip(params(full), params(resumed)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    for a, b in zip(strip_seconds(full_events[-1].history), strip_seconds(resumed_events[-1].history), strict=True):
        assert a == pytest.approx(b, rel=1e-5)


def test_a_stop_between_progress_updates_ends_the_bar_at_the_step_it_stops_at():
    data = dataset(n_train=320, n_test=100)  # 10 steps an epoch, in dispatches of 3, 3, 3 and 1
    _, events, snapshots = train_with(data, epochs=2, stop_after=5, steps_per_dispatch=3)  # 4 in epoch 1, 1 in 2
    *_, bar, stopped = events
    assert isinstance(bar, ev.Progress) and (bar.epoch, bar.step, bar.steps) == (2, 3, 10)
    assert stopped == ev.Interrupted(epoch=2, step=3, history=stopped.history, steps=10)
    assert (snapshots[-1].epoch, snapshots[-1].step) == (2, 3)


def test_a_stop_right_after_a_progress_update_repeats_no_update():
    data = dataset(n_train=320, n_test=100)
    _, events, _ = train_with(data, epochs=2, stop_after=15)  # one step a dispatch; updates every 5 steps
    *_, bar, stopped = events
    assert isinstance(bar, ev.Progress) and (bar.epoch, bar.step) == (2, 5)
    assert [e.step for e in events if isinstance(e, ev.Progress) and e.epoch == 2] == [5]
    assert (stopped.epoch, stopped.step, stopped.steps) == (2, 5, 10)


def test_a_stop_before_a_diverged_loss_was_seen_fails_and_saves_no_bad_state():
    data = dataset(n_train=320, n_test=100)
    _, events, snapshots = train_with(data, epochs=3, stop_after=3, tx=optax.sgd(1e9))  # before the update at 5

    assert isinstance(events[-1], ev.Failed) and "NaN or infinite" in events[-1].message
    assert snapshots == []


def test_a_diverging_loss_fails_within_the_epoch_with_a_hint():
    data = dataset(n_train=320, n_test=100)
    model = TutorialCNN(nnx.Rngs(0), conv="xla")
    settings = engine.Settings(epochs=3, batch_size=32, progress_every=5, eval_batch_size=100)
    snapshots = []
    events = list(engine.train(model, optax.sgd(1e9), data, settings, checkpoint=snapshots.append))
    failed = events[-1]
    assert isinstance(failed, ev.Failed)
    assert failed.epoch == 1 and "NaN or infinite" in failed.message and "--learning-rate" in failed.message
    assert snapshots == []


def test_fusing_steps_gives_the_same_parameters_as_one_step_per_call():
    data = dataset(n_train=320, n_test=100)
    # Plain SGD: Adam's g/sqrt(v) would amplify float reassociation in near-zero gradients.
    single, _, _ = train_with(data, epochs=1, steps_per_dispatch=1, tx=optax.sgd(0.05))
    fused, events, _ = train_with(data, epochs=1, steps_per_dispatch=4, tx=optax.sgd(0.05))  # 10 steps: 4 + 4 + 1 + 1
    assert [e.step for e in events if isinstance(e, ev.Progress)] == [8, 10]
    assert [e.function for e in events if isinstance(e, ev.Traced)][:2] == ["train_step x4", "train_step x2"]
    for a, b in zip(params(single), params(fused)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_more_devices_than_exist_is_a_clear_error():
    with pytest.raises(ConfigError, match="--devices 64"):
        train_with(dataset(n_train=64, n_test=10), epochs=1, devices=64)


def test_automatic_fusing_prefers_a_chunk_that_divides_the_epoch():
    fusable = types.SimpleNamespace(fuse_steps=True)
    assert engine.choose_steps_per_dispatch(None, fusable, [234]) == 18  # 60,000 images at batch 256
    assert engine.choose_steps_per_dispatch(None, fusable, [1875]) == 15  # batch 32
    assert engine.choose_steps_per_dispatch(None, fusable, [234, 156]) == 13  # 1 2/3 epochs: divides both
    assert engine.choose_steps_per_dispatch(None, types.SimpleNamespace(), [234]) == 1  # lax.conv on CPU: never fused
    assert engine.choose_steps_per_dispatch(None, TutorialCNN(nnx.Rngs(0)), [1875]) == 15  # conv="auto": patches here
    assert engine.choose_steps_per_dispatch(3, types.SimpleNamespace(), [234]) == 3


def test_a_fractional_epoch_count_trains_that_part_of_the_last_epoch():
    data = dataset(n_train=320, n_test=100)  # 10 steps per epoch
    _, events, snapshots = train_with(data, epochs=1.5)
    ends = [e for e in events if isinstance(e, ev.EpochEnd)]
    assert [e.epoch for e in ends] == [1, 2]
    assert [e.step for e in events if isinstance(e, ev.Progress) and e.epoch == 2][-1] == 5
    assert {e.steps for e in events if isinstance(e, ev.Progress) and e.epoch == 2} == {5}
    assert len(events[-1].history) == 2  # the part-epoch is evaluated and recorded like a whole one
    # Saved where the part epoch stopped, with its running metrics, so more epochs can finish it.
    assert (snapshots[-1].epoch, snapshots[-1].step) == (2, 5) and snapshots[-1].running is not None
    # The first half of epoch 2 is exactly what a full run does first in epoch 2.
    stopped, _, _ = train_with(data, epochs=2, stop_after=15)  # 10 steps of epoch 1, 5 of epoch 2
    half, _, _ = train_with(data, epochs=1.5)
    for a, b in zip(params(half), params(stopped)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_a_fractional_run_stopped_inside_its_part_epoch_resumes_to_the_same_end():
    data = dataset(n_train=320, n_test=100)  # 10 steps per epoch; 1.5 epochs = 15 steps
    whole, _, _ = train_with(data, epochs=1.5)
    _, events, snapshots = train_with(data, epochs=1.5, stop_after=12)
    assert isinstance(events[-1], ev.Interrupted) and (snapshots[-1].epoch, snapshots[-1].step) == (2, 2)
    resumed, resumed_events, _ = train_with(data, epochs=1.5, resume=snapshots[-1])
    assert [e.step for e in resumed_events if isinstance(e, ev.Progress)][-1] == 5
    for a, b in zip(params(whole), params(resumed)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_epoch_lengths_split_a_run_into_whole_and_part_epochs():
    from mnistkit.engine.settings import epoch_lengths

    assert epoch_lengths(2, 100) == [100, 100]
    assert epoch_lengths(2.5, 100) == [100, 100, 50]
    assert epoch_lengths(2 / 3, 234) == [156]
    assert epoch_lengths(0.001, 100) == [1]  # never an empty epoch


def test_bfloat16_compute_keeps_float32_parameters_and_close_logits():
    import jax
    import jax.numpy as jnp
    from mnistkit_plugins.networks import BatchNormCNN

    x = jnp.asarray(bars(16)[0], jnp.float32)[..., None] / 255.0
    for make in (TutorialCNN, BatchNormCNN):
        full, low = make(nnx.Rngs(0)), make(nnx.Rngs(0))
        full.eval(), low.eval()
        reference = engine.forward(full, x)
        logits = engine.forward(low, x, jnp.bfloat16)
        assert logits.dtype == jnp.float32
        # bfloat16 keeps 8 bits of mantissa: about 2 significant digits.
        np.testing.assert_allclose(logits, reference, atol=0.05 * float(jnp.abs(reference).max()))
        low.train()
        (_, _), grads = nnx.value_and_grad(engine.loss_fn, has_aux=True)(low, x, jnp.zeros(16, jnp.int32), 0.0, jnp.bfloat16)
        assert {leaf.dtype for leaf in jax.tree.leaves(grads)} == {jnp.dtype("float32")}
        assert {leaf.dtype for leaf in jax.tree.leaves(nnx.state(low, nnx.Param))} == {jnp.dtype("float32")}


def test_bfloat16_training_learns_like_float32():
    data = dataset(n_train=320, n_test=100)
    model = TutorialCNN(nnx.Rngs(0), conv="xla")
    settings = engine.Settings(epochs=2, batch_size=32, eval_batch_size=100, progress_every=5, dtype="bfloat16")
    events = list(engine.train(model, optax.adamw(0.005, b1=0.9), data, settings))
    assert events[-1].history[-1]["test_accuracy"] >= 0.9
    with pytest.raises(ConfigError, match="--dtype"):
        engine.dtype_named("float8")
