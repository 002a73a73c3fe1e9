"""The tutorial's training loop, kept for the lessons and as a reference: ``--engine tutorial``.

This is the shape the Flax MNIST tutorial teaches: a ``tf.data`` pipeline on
the host feeds one batch at a time to an ``nnx.jit``-compiled train step that
updates the model in place. It keeps the tutorial's fixes (metrics from the
same forward pass, a fresh shuffle per epoch, every test image scored),
honours label smoothing, stops on a loss that is not finite, and
yields the same events as ``mnistkit.engine.loop.train``, so the CLI, run folders
and TUI work unchanged. It is slower than the default engine: every batch is
prepared by TensorFlow and copied to the device, and ``nnx.jit`` checks the
model's structure on every call.

With ``order="engine"`` each epoch's batches are exactly the default
engine's (same permutation, same slices), which is how the tests check that
the two engines compute the same thing.
"""

import math
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import jax
import numpy as np
import optax
from flax import nnx

from mnistkit.engine.events import (
    Compiled,
    EpochEnd,
    Evaluation,
    Event,
    Failed,
    Finished,
    Interrupted,
    Predictions,
    RunStarted,
    history_row,
)
from mnistkit.engine.settings import Settings, Snapshot
from mnistkit.engine.steps import epoch_order, floats, loss_fn, measure, metric_reports, metrics_type, nan_message
from mnistkit.errors import ConfigError
from mnistkit.host.build import optimizer_in_one_program
from mnistkit.specs import EvaluationOutputs, MetricSpec

if TYPE_CHECKING:
    from mnistkit.data import MnistArrays


def _steps(kind: type, label_smoothing: float = 0.0):
    @nnx.jit
    def train_step(model, optimizer, metrics, batch):
        (loss, logits), grads = nnx.value_and_grad(loss_fn, has_aux=True)(model, batch["image"], batch["label"],
                                                                           label_smoothing)
        optimizer.update(model, grads)
        return metrics.merge(kind.single_from_model_output(loss=loss, logits=logits, labels=batch["label"]))

    @nnx.jit
    def eval_step(model, batch):
        logits = model(batch["image"])
        losses = optax.softmax_cross_entropy_with_integer_labels(logits, batch["label"])
        return kind.single_from_model_output(loss=losses, logits=logits, labels=batch["label"]), logits

    return train_step, eval_step


def train(
    model: nnx.Module,
    tx: optax.GradientTransformation,
    data: "MnistArrays",
    settings: Settings,
    config: dict[str, Any] | None = None,
    metrics: Sequence[MetricSpec] = (),
    *,
    should_stop: Callable[[], bool] | None = None,
    checkpoint: Callable[[Snapshot], None] | None = None,
    resume: Snapshot | None = None,
    order: str = "tf",
) -> Iterator[Event]:
    """Train like the tutorial, yielding the same events as the default engine.

    ``checkpoint`` gets a snapshot after every epoch; resuming is left to the
    default engine, whose data order is a pure function of seed and epoch.
    """
    from mnistkit.data import MnistArrays, make_tf_datasets

    if resume is not None:
        raise ConfigError("--engine tutorial cannot resume a run; resume with the default engine (--engine fast)")
    run_start = time.perf_counter()
    kind = metrics_type(metrics)
    train_step, eval_step = _steps(kind, settings.label_smoothing)
    optimizer = optimizer_in_one_program(model, tx)
    steps = len(data.train_images) // settings.batch_size
    shown = slice(0, min(settings.num_predictions, len(data.test_images)))
    yield RunStarted(
        config=dict(config or {}),
        backend=jax.default_backend(),
        devices=tuple(str(d) for d in jax.devices()[:1]),
        data_source=data.description,
        num_train=len(data.train_images),
        num_test=len(data.test_images),
        steps_per_epoch=steps,
    )
    history: list[dict[str, float]] = []
    train_ds, test_ds = make_tf_datasets(data, settings.batch_size, settings.seed)
    compiled = False
    last_finite: float | None = None
    for epoch in range(1, int(settings.epochs) + 1):
        if order == "engine":
            perm = np.asarray(epoch_order(settings.seed, epoch, len(data.train_images)))
            permuted = MnistArrays(data.train_images[perm], data.train_labels[perm], data.test_images,
                                   data.test_labels, data.source, data.description, data.is_sample)
            train_ds, test_ds = make_tf_datasets(permuted, settings.batch_size, settings.seed, shuffle_buffer=1)
        model.train()
        running = kind.empty()
        epoch_start = time.perf_counter()
        compile_seconds = 0.0
        bar_at = counted_from = 0  # the speed counts the steps after the compiled one, over the time after it
        for step, batch in enumerate(train_ds.as_numpy_iterator(), start=1):
            if should_stop is not None and should_stop():
                if step - 1 != bar_at:  # the bar ends where the run stops, at the step the message names
                    update = measure(epoch, step - 1, steps, running, last_finite, (step - 1 - counted_from) * settings.batch_size,
                                     time.perf_counter() - epoch_start - compile_seconds)
                    yield update
                    if isinstance(update, Failed):
                        return
                yield Interrupted(epoch=epoch, step=step - 1, history=tuple(history), steps=steps)
                return
            running = train_step(model, optimizer, running, batch)
            if not compiled:
                jax.block_until_ready(running)
                compiled, compile_seconds, counted_from = True, time.perf_counter() - epoch_start, step
                yield Compiled(seconds=compile_seconds)
            if step % settings.progress_every == 0 or step == steps:
                update = measure(epoch, step, steps, running, last_finite, (step - counted_from) * settings.batch_size,
                                 time.perf_counter() - epoch_start - compile_seconds)
                yield update
                if isinstance(update, Failed):
                    return
                last_finite, bar_at = update.loss, step
        epoch_end = EpochEnd(epoch=epoch, train=floats(running), seconds=time.perf_counter() - epoch_start)
        yield epoch_end

        model.eval()
        eval_start = time.perf_counter()
        test_metrics, logits = kind.empty(), []
        for batch in test_ds.as_numpy_iterator():
            batch_metrics, batch_logits = eval_step(model, batch)
            test_metrics = test_metrics.merge(batch_metrics)
            logits.append(np.asarray(batch_logits))
        test = floats(test_metrics)
        if not math.isfinite(test["loss"]):
            yield Failed(nan_message(epoch, steps, last_finite), epoch=epoch, step=steps)
            return
        all_logits = np.concatenate(logits)
        reports = metric_reports(metrics, EvaluationOutputs(epoch, all_logits, np.asarray(data.test_labels)))
        for report in reports:
            test.update(report.values)
        evaluation = Evaluation(epoch=epoch, test=test, seconds=time.perf_counter() - eval_start)
        yield evaluation
        yield from reports
        history.append(history_row(epoch_end, evaluation))
        yield Predictions(epoch, data.test_images[shown], np.asarray(data.test_labels[shown], np.int64),
                          all_logits[shown].argmax(-1).astype(np.int64))
        if checkpoint is not None:
            state = jax.device_get(nnx.state((model, optimizer)))
            checkpoint(Snapshot(epoch + 1, 0, nnx.to_pure_dict(state), None, tuple(history)))
    yield Finished(history=tuple(history), seconds=time.perf_counter() - run_start)
