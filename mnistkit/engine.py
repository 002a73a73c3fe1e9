"""The training engine: a jitted train step, full evaluation, a stream of events.

The whole dataset sits on the device as uint8; each epoch draws a fresh
permutation of indices and every step gathers its batch and scales it to
[0, 1] inside the compiled step, so no images cross from the host after the
start. The step's metrics come from the same forward pass that produced the
gradients. Evaluation scores every test image (the last batch is padded and
masked) so accuracy is out of the full test set.

``train`` is a generator of ``mnistkit.events``; it prints nothing and writes
nothing. Stop iterating it to cancel.
"""


import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from clu import metrics as clu_metrics
from flax import nnx, struct

from mnistkit.errors import PluginError
from mnistkit.events import (
    Compiled,
    EpochEnd,
    Evaluation,
    Event,
    Finished,
    Predictions,
    Progress,
    Report,
    RunStarted,
    history_row,
)
from mnistkit.specs import EvaluationOutputs, MetricSpec

if TYPE_CHECKING:
    from mnistkit.data import MnistArrays


@struct.dataclass
class Metrics(clu_metrics.Collection):
    """The tutorial's metrics: accuracy and the mean cross-entropy loss.

    clu reads these annotations at run time, which is why this module does not
    use ``from __future__ import annotations``.
    """

    accuracy: clu_metrics.Accuracy
    loss: clu_metrics.Average.from_output("loss")


def metrics_type(specs: Sequence[MetricSpec] = ()) -> type[clu_metrics.Collection]:
    """``Metrics`` plus one clu ``Average`` per plugin metric with ``per_example``.

    ``accuracy`` and ``loss`` are always computed by the tutorial's clu
    metrics, whatever the specs say.
    """
    extra = {
        spec.name: clu_metrics.Average.from_fun(_per_example(spec.per_example))
        for spec in specs
        if spec.per_example is not None and spec.name not in ("accuracy", "loss")
    }
    if not extra:
        return Metrics
    return clu_metrics.Collection.create(accuracy=clu_metrics.Accuracy, loss=clu_metrics.Average.from_output("loss"), **extra)


def _per_example(fn):
    def values(logits, labels, **_):
        return fn(logits, labels)

    return values


@dataclass(frozen=True)
class Settings:
    """How to train: the loop's knobs, separate from what is trained."""

    epochs: int = 10
    batch_size: int = 32
    seed: int = 0
    eval_batch_size: int = 1000
    progress_every: int = 50
    num_predictions: int = 25


def scale(images: jax.Array) -> jax.Array:
    """uint8 (B, 28, 28) -> float32 (B, 28, 28, 1) in [0, 1]."""
    return images.astype(jnp.float32)[..., None] / 255.0


def loss_fn(model: nnx.Module, images: jax.Array, labels: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Mean softmax cross-entropy over the batch; the logits come back too."""
    logits = model(images)
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()
    return loss, logits


def make_train_step(graphdef: nnx.GraphDef, batch_size: int, kind: type = Metrics):
    """A compiled step: gather batch ``step`` of ``order``, update, merge metrics."""

    @partial(jax.jit, donate_argnums=(0, 1))
    def train_step(state, metrics, images, labels, order, step):
        model, optimizer = nnx.merge(graphdef, state)
        model.train()
        index = jax.lax.dynamic_slice_in_dim(order, step * batch_size, batch_size)
        x, y = scale(images[index]), labels[index]
        (loss, logits), grads = nnx.value_and_grad(loss_fn, has_aux=True)(model, x, y)
        optimizer.update(model, grads)
        metrics = metrics.merge(kind.single_from_model_output(loss=loss, logits=logits, labels=y))
        return nnx.state((model, optimizer)), metrics

    return train_step


def make_eval_step(graphdef: nnx.GraphDef, batch_size: int, kind: type = Metrics):
    """A compiled evaluation of batch ``i`` of the padded test set: masked metrics and the logits."""

    @jax.jit
    def eval_step(state, images, labels, mask, i):
        model, _ = nnx.merge(graphdef, state)
        model.eval()
        take = partial(jax.lax.dynamic_slice_in_dim, start_index=i * batch_size, slice_size=batch_size)
        logits = model(scale(take(images)))
        y = take(labels)
        losses = optax.softmax_cross_entropy_with_integer_labels(logits, y)
        return kind.single_from_model_output(loss=losses, logits=logits, labels=y, mask=take(mask)), logits

    return eval_step


def make_predict(graphdef: nnx.GraphDef):
    @jax.jit
    def predict(state, images):
        model, _ = nnx.merge(graphdef, state)
        model.eval()
        return model(scale(images)).argmax(axis=-1)

    return predict


def _pad(images: np.ndarray, labels: np.ndarray, multiple: int):
    """Pad the test set to a whole number of batches; the mask marks real images."""
    n = len(images)
    total = -(-n // multiple) * multiple
    mask = np.zeros(total, dtype=bool)
    mask[:n] = True
    images = np.concatenate([images, np.zeros((total - n, *images.shape[1:]), images.dtype)])
    labels = np.concatenate([labels, np.zeros(total - n, labels.dtype)])
    return jnp.asarray(images), jnp.asarray(labels), jnp.asarray(mask), total // multiple


def _floats(metrics: clu_metrics.Collection) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.compute().items()}


def _reports(specs: Sequence[MetricSpec], outputs: EvaluationOutputs) -> list[Report]:
    """Run every ``on_evaluation`` hook; a bad value is the plugin's error."""
    reports = []
    for spec in specs:
        if spec.on_evaluation is None:
            continue
        report = spec.on_evaluation(outputs)
        if report is None:
            continue
        low, high = spec.bounds
        for name, value in report.values.items():
            if not (np.isfinite(value) and low <= value <= high):
                raise PluginError(f"metric {spec.name!r} reported {name}={value}, outside its bounds [{low}, {high}]")
        reports.append(Report(outputs.epoch, spec.name, dict(report.values), report.text, dict(report.artifacts)))
    return reports


def train(
    model: nnx.Module,
    tx: optax.GradientTransformation,
    data: "MnistArrays",
    settings: Settings,
    config: dict[str, Any] | None = None,
    metrics: Sequence[MetricSpec] = (),
) -> Iterator[Event]:
    """Train ``model`` in place with ``tx`` on ``data``, yielding events.

    When the generator finishes (or is closed early) ``model`` holds the
    latest parameters.
    """
    run_start = time.perf_counter()
    batch_size = settings.batch_size
    steps = len(data.train_images) // batch_size
    eval_bs = min(settings.eval_batch_size, len(data.test_images))
    optimizer = nnx.Optimizer(model, tx, wrt=nnx.Param)
    graphdef, state = nnx.split((model, optimizer))
    kind = metrics_type(metrics)
    train_step = make_train_step(graphdef, batch_size, kind)
    eval_step = make_eval_step(graphdef, eval_bs, kind)
    predict = make_predict(graphdef)

    images, labels = jnp.asarray(data.train_images), jnp.asarray(data.train_labels, jnp.int32)
    test_images, test_labels, test_mask, eval_batches = _pad(data.test_images, data.test_labels.astype(np.int32), eval_bs)
    shown = slice(0, min(settings.num_predictions, len(data.test_images)))
    key = jax.random.key(settings.seed)

    yield RunStarted(
        config=dict(config or {}),
        backend=jax.default_backend(),
        devices=tuple(str(d) for d in jax.devices()),
        data_source=data.description,
        num_train=len(data.train_images),
        num_test=len(data.test_images),
        steps_per_epoch=steps,
    )
    history: list[dict[str, float]] = []
    try:
        for epoch in range(1, settings.epochs + 1):
            order = jax.random.permutation(jax.random.fold_in(key, epoch), len(data.train_images))
            running = kind.empty()
            epoch_start = time.perf_counter()
            compile_seconds = 0.0
            for step in range(steps):
                state, running = train_step(state, running, images, labels, order, step)
                if epoch == 1 and step == 0:
                    jax.block_until_ready(state)
                    compile_seconds = time.perf_counter() - epoch_start
                    yield Compiled(seconds=compile_seconds)
                done = step + 1
                if done % settings.progress_every == 0 or done == steps:
                    values = _floats(running)
                    elapsed = time.perf_counter() - epoch_start - compile_seconds
                    counted = done - (1 if compile_seconds else 0)
                    yield Progress(
                        epoch=epoch,
                        step=done,
                        steps=steps,
                        loss=values["loss"],
                        accuracy=values["accuracy"],
                        images_per_sec=counted * batch_size / elapsed if elapsed > 0 else 0.0,
                    )
            epoch_end = EpochEnd(epoch=epoch, train=_floats(running), seconds=time.perf_counter() - epoch_start)
            yield epoch_end

            eval_start = time.perf_counter()
            test_metrics, logits = kind.empty(), []
            for i in range(eval_batches):
                batch_metrics, batch_logits = eval_step(state, test_images, test_labels, test_mask, i)
                test_metrics = test_metrics.merge(batch_metrics)
                logits.append(batch_logits)
            test = _floats(test_metrics)
            reports = []
            if any(spec.on_evaluation for spec in metrics):
                all_logits = np.concatenate([np.asarray(x) for x in logits])[: len(data.test_labels)]
                reports = _reports(metrics, EvaluationOutputs(epoch, all_logits, np.asarray(data.test_labels)))
                for report in reports:
                    test.update(report.values)
            evaluation = Evaluation(epoch=epoch, test=test, seconds=time.perf_counter() - eval_start)
            yield evaluation
            yield from reports
            history.append(history_row(epoch_end, evaluation))

            predicted = predict(state, test_images[shown])
            yield Predictions(
                epoch=epoch,
                images=data.test_images[shown],
                labels=data.test_labels[shown].astype(np.int64),
                predicted=np.asarray(predicted, dtype=np.int64),
            )
    finally:
        nnx.update((model, optimizer), state)
    yield Finished(history=tuple(history), seconds=time.perf_counter() - run_start)
