"""The tutorial loop and the default engine compute the same thing."""

import jax
import numpy as np
import optax
from flax import nnx
from mnistkit_plugins.networks import TutorialCNN

from mnistkit import engine
from mnistkit.data import MnistArrays
from mnistkit.engine import events as ev
from mnistkit.engine import tutorial as tutorial_loop
from tests.test_engine import bars


def small_data():
    (a, b), (c, d) = bars(320, 0), bars(100, 1)
    return MnistArrays(a, b, c, d, "test", "synthetic bars", False)


def run(train, data, tx=None, label_smoothing=0.0, **kwargs):
    # Flax's own convolution in both engines, so both run the same arithmetic. With
    # conv="patches" each engine compiles its matrix products its own way; the sums
    # round differently, a pre-activation near zero can land on the other side of a
    # ReLU, and over 20 momentum steps that grows to about 3% of a weight.
    model = TutorialCNN(nnx.Rngs(0), conv="xla")
    settings = engine.Settings(epochs=2, batch_size=32, eval_batch_size=100, progress_every=5,
                               label_smoothing=label_smoothing)
    events = list(train(model, tx or optax.adamw(0.005, b1=0.9), data, settings, **kwargs))
    return model, events


def test_same_batches_in_give_the_same_parameters_out():
    # SGD with momentum: Adam's g/sqrt(v) would amplify float reassociation in near-zero gradients.
    data = small_data()
    fast, fast_events = run(engine.train, data, optax.sgd(0.05, momentum=0.9))
    slow, slow_events = run(tutorial_loop.train, data, optax.sgd(0.05, momentum=0.9), order="engine")
    for a, b in zip(jax.tree.leaves(nnx.state(fast, nnx.Param)), jax.tree.leaves(nnx.state(slow, nnx.Param)), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    fast_hist, slow_hist = fast_events[-1].history, slow_events[-1].history
    for f, s in zip(fast_hist, slow_hist, strict=True):
        assert abs(f["train_loss"] - s["train_loss"]) < 1e-4
        assert abs(f["test_accuracy"] - s["test_accuracy"]) < 1e-6


def test_tutorial_loop_speaks_the_same_events_and_scores_every_test_image():
    _, events = run(tutorial_loop.train, small_data())
    kinds = [type(e).__name__ for e in events if not isinstance(e, ev.Progress)]
    assert kinds == ["RunStarted", "Compiled", "EpochEnd", "Evaluation", "Predictions",
                     "EpochEnd", "Evaluation", "Predictions", "Finished"]
    assert events[-1].history[-1]["test_accuracy"] > 0.9


def test_both_engines_honour_label_smoothing_alike():
    data = small_data()
    plain, _ = run(engine.train, data, optax.sgd(0.05, momentum=0.9))
    fast, fast_events = run(engine.train, data, optax.sgd(0.05, momentum=0.9), label_smoothing=0.3)
    slow, slow_events = run(tutorial_loop.train, data, optax.sgd(0.05, momentum=0.9), order="engine", label_smoothing=0.3)
    for a, b in zip(jax.tree.leaves(nnx.state(fast, nnx.Param)), jax.tree.leaves(nnx.state(slow, nnx.Param)), strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    moved = [float(np.abs(np.asarray(a) - np.asarray(b)).max())
             for a, b in zip(jax.tree.leaves(nnx.state(fast, nnx.Param)), jax.tree.leaves(nnx.state(plain, nnx.Param)))]
    assert max(moved) > 1e-3  # smoothing changed what was learnt
    assert abs(fast_events[-1].history[0]["train_loss"] - slow_events[-1].history[0]["train_loss"]) < 1e-4


def test_the_tutorial_loop_stops_on_a_loss_that_is_not_finite():
    _, events = run(tutorial_loop.train, small_data(), optax.sgd(1e30))
    failed = events[-1]
    assert isinstance(failed, ev.Failed) and "NaN or infinite in epoch 1" in failed.message
    assert not any(isinstance(event, ev.Finished) for event in events)
