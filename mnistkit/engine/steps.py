"""The training core as small functions: the metrics, the loss, the jitted train, eval and predict steps.

The step's metrics come from the same forward pass that produced the
gradients. Evaluation scores every test image: the last batch is padded and
masked. Each compiled function reports its traces to a ``TraceLog``, which
the loop turns into ``Traced`` events.
"""

import math
from collections.abc import Sequence
from functools import partial
from typing import NamedTuple, overload

import jax
import jax.numpy as jnp
import numpy as np
import optax
from clu import metrics as clu_metrics
from flax import nnx, struct

from mnistkit.engine.events import Failed, Progress, Report, Traced
from mnistkit.errors import ConfigError, PluginError
from mnistkit.specs import EvaluationOutputs, MetricSpec


@struct.dataclass
class Metrics(clu_metrics.Collection):
    """The tutorial's metrics: accuracy and the mean cross-entropy loss.

    clu reads these annotations at run time, which is why this module does not
    use ``from __future__ import annotations``.
    """

    accuracy: clu_metrics.Accuracy
    loss: clu_metrics.Average.from_output("loss")  # type: ignore[valid-type]  # clu builds the metric class in the annotation, as its docs do


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


class TraceLog:
    """Counts how often JAX traces each compiled function, and why.

    A jitted function's Python body runs only when JAX traces it (the first
    call, or a call whose argument shapes or dtypes differ from every cached
    one), so ``record`` called from inside the body sees exactly those
    moments. ``pending`` hands the new entries to the event stream.
    """

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.signatures: dict[str, list] = {}
        self.pending: list[Traced] = []

    def record(self, name: str, *args) -> None:
        signature = [f"{a.dtype}{list(a.shape)}" for a in jax.tree.leaves(args) if hasattr(a, "shape")]
        previous = self.signatures.get(name)
        if previous is None:
            reason = "first call: trace and compile"
        else:
            changed = [f"{b} -> {a}" for a, b in zip(signature, previous) if a != b]
            reason = "inputs changed: " + ", ".join(changed[:3]) if changed else "new static arguments or structure"
        self.signatures[name] = signature
        self.counts[name] = self.counts.get(name, 0) + 1
        self.pending.append(Traced(name, self.counts[name], reason))

    def drain(self) -> list[Traced]:
        out, self.pending = self.pending, []
        return out


@overload
def scale(images: jax.Array) -> jax.Array: ...
@overload
def scale(images: np.ndarray) -> np.ndarray: ...
def scale(images: jax.Array | np.ndarray) -> jax.Array | np.ndarray:
    """uint8 (B, 28, 28) -> float32 (B, 28, 28, 1) in [0, 1]."""
    return images.astype(jnp.float32)[..., None] / 255.0


def forward(model: nnx.Module, images: jax.Array, compute_dtype=None) -> jax.Array:
    """``model(images)``; with ``compute_dtype`` (say ``jnp.bfloat16``) the arithmetic runs in it.

    Mixed precision that works for any ``nnx.Module``: the float parameters
    and the images are cast for the forward pass only, so gradients flow back
    to the float32 parameters the optimizer keeps, and the logits come back as
    float32 for the loss. State the pass changes besides parameters (BatchNorm
    averages, random-stream counters) is written back in its own dtype.
    """
    if compute_dtype is None:
        return model(images)

    def low(x):
        return x.astype(compute_dtype) if jnp.issubdtype(x.dtype, jnp.floating) else x

    graphdef, params, rest = nnx.split(model, nnx.Param, ...)  # type: ignore[misc]  # flax types the result as variadic; two filters give exactly three parts
    view = nnx.merge(graphdef, jax.tree.map(low, params), rest)
    logits = view(low(images))
    changed = nnx.state(view, nnx.Not(nnx.Param))
    nnx.update(model, jax.tree.map(lambda new, old: new if new.dtype == old.dtype else new.astype(old.dtype), changed, rest))
    return logits.astype(jnp.float32)


def loss_fn(
    model: nnx.Module, images: jax.Array, labels: jax.Array, label_smoothing: float = 0.0, compute_dtype=None
) -> tuple[jax.Array, jax.Array]:
    """Mean softmax cross-entropy over the batch; the logits come back too.

    With ``label_smoothing`` the target puts that much probability mass
    evenly over all classes instead of only on the true one.
    """
    logits = forward(model, images, compute_dtype)
    if label_smoothing:
        targets = optax.smooth_labels(jax.nn.one_hot(labels, logits.shape[-1]), label_smoothing)
        return optax.softmax_cross_entropy(logits, targets).mean(), logits
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean(), logits


def epoch_order(seed: int, epoch: int, n: int) -> jax.Array:
    """The shuffled indices of epoch ``epoch``: the same for the same seed, always."""
    return jax.random.permutation(jax.random.fold_in(jax.random.key(seed), epoch), n)


def make_train_step(
    graphdef: nnx.GraphDef, batch_size: int, kind: type = Metrics, fused: bool = False, batch_sharding=None,
    label_smoothing: float = 0.0, traces: TraceLog | None = None, compute_dtype=None,
):
    """A compiled call running ``count`` train steps from step ``first`` of ``order``.

    Unfused, ``count`` must be 1. Fused, the steps run in a ``lax.scan``
    inside one compiled call; ``count`` is static, so each chunk length
    compiles once (the engine picks a length that divides the epoch).
    """

    def one_step(step, carry, images, labels, order):
        state, metrics = carry
        model, optimizer = nnx.merge(graphdef, state)
        model.train()
        index = jax.lax.dynamic_slice_in_dim(order, step * batch_size, batch_size)
        if batch_sharding is not None:
            index = jax.lax.with_sharding_constraint(index, batch_sharding)
        x, y = scale(images[index]), labels[index]
        (loss, logits), grads = nnx.value_and_grad(loss_fn, has_aux=True)(model, x, y, label_smoothing, compute_dtype)
        optimizer.update(model, grads)
        metrics = metrics.merge(kind.single_from_model_output(loss=loss, logits=logits, labels=y))
        return nnx.state((model, optimizer)), metrics

    # The state is donated (updated in place); the running metrics, a few scalars, are not, so the
    # loop can wait on the previous dispatch's while the next one is queued.
    @partial(jax.jit, donate_argnums=0, static_argnums=6)
    def train_steps(state, metrics, images, labels, order, first, count):
        if traces is not None:
            traces.record(f"train_step x{count}" if fused else "train_step", images, labels, order, first)
        if not fused:
            return one_step(first, (state, metrics), images, labels, order)

        def body(carry, i):
            return one_step(first + i, carry, images, labels, order), None

        return jax.lax.scan(body, (state, metrics), jnp.arange(count))[0]

    return train_steps


def make_eval_step(
    graphdef: nnx.GraphDef, batch_size: int, kind: type = Metrics, traces: TraceLog | None = None, compute_dtype=None
):
    """A compiled evaluation of batch ``i`` of the padded test set: masked metrics and the logits."""

    @jax.jit
    def eval_step(state, images, labels, mask, i):
        if traces is not None:
            traces.record("eval_step", images, labels, mask, i)
        model, _ = nnx.merge(graphdef, state)
        model.eval()
        take = partial(jax.lax.dynamic_slice_in_dim, start_index=i * batch_size, slice_size=batch_size)
        logits = forward(model, scale(take(images)), compute_dtype)
        y = take(labels)
        losses = optax.softmax_cross_entropy_with_integer_labels(logits, y)
        return kind.single_from_model_output(loss=losses, logits=logits, labels=y, mask=take(mask)), logits

    return eval_step


def pad_to_batches(images: np.ndarray, labels: np.ndarray, multiple: int):
    """Pad the test set to a whole number of batches; the mask marks real images."""
    n = len(images)
    total = -(-n // multiple) * multiple
    mask = np.zeros(total, dtype=bool)
    mask[:n] = True
    images = np.concatenate([images, np.zeros((total - n, *images.shape[1:]), images.dtype)])
    labels = np.concatenate([labels, np.zeros(total - n, labels.dtype)])
    return images, labels, mask, total // multiple


def floats(metrics: clu_metrics.Collection) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.compute().items()}


def measure(epoch: int, step: int, steps: int, running: clu_metrics.Collection, last_finite: float | None,
            images: int, seconds: float) -> Progress | Failed:
    """The bar's update at ``step`` (``images`` trained in ``seconds`` this epoch), or ``Failed`` if the loss is not finite."""
    values = floats(running)
    if not math.isfinite(values["loss"]):
        return Failed(nan_message(epoch, step, last_finite), epoch=epoch, step=step)
    return Progress(epoch=epoch, step=step, steps=steps, loss=values["loss"], accuracy=values["accuracy"],
                    images_per_sec=images / seconds if seconds > 0 else 0.0)


def metric_reports(specs: Sequence[MetricSpec], outputs: EvaluationOutputs) -> list[Report]:
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


class Scored(NamedTuple):
    """What ``score_test_set`` finds: the test metrics, the metric plugins' reports, the first guesses."""

    test: dict[str, float]
    reports: list[Report]
    predicted: np.ndarray
    """The predicted class of the first ``shown`` test images (argmax of the evaluation's own logits)."""


def score_test_set(
    eval_step, state, padded_test, kind: type[clu_metrics.Collection], specs: Sequence[MetricSpec], epoch: int, labels: np.ndarray,
    shown: int = 0,
) -> Scored:
    """Metrics over every test image, the metric plugins' end-of-evaluation reports, the guesses for the first ``shown``.

    ``padded_test`` is what ``pad_to_batches`` returns (images, labels, mask,
    number of batches); ``eval_step`` comes from ``make_eval_step``. The
    guesses come from the same logits as the metrics, so the prediction grid
    needs no forward pass (nor a compilation) of its own. Reports are
    skipped when the loss is not finite: the caller stops the run then.
    """
    images, padded_labels, mask, batches = padded_test
    total, logits = kind.empty(), []
    for i in range(batches):
        batch_metrics, batch_logits = eval_step(state, images, padded_labels, mask, i)
        total = total.merge(batch_metrics)
        logits.append(batch_logits)
    test = floats(total)
    needed = -(-shown // (len(images) // batches))  # the batches that hold the first ``shown`` images
    predicted = np.concatenate([np.asarray(x) for x in logits[:needed]] or [np.zeros((0, 1))])[:shown].argmax(axis=-1)
    reports: list[Report] = []
    if math.isfinite(test["loss"]) and any(spec.on_evaluation for spec in specs):
        all_logits = np.concatenate([np.asarray(x) for x in logits])[: len(labels)]
        reports = metric_reports(specs, EvaluationOutputs(epoch, all_logits, np.asarray(labels)))
        for report in reports:
            test.update(report.values)
    return Scored(test, reports, predicted.astype(np.int64))


DTYPES = {"float32": None, "bfloat16": jnp.bfloat16}
"""Compute dtypes ``--dtype`` offers; None means no casting at all."""


def dtype_named(name: str):
    if name not in DTYPES:
        raise ConfigError(f"unknown --dtype {name!r} (known: {', '.join(DTYPES)})")
    return DTYPES[name]


def nan_message(epoch: int, step: int, last_finite: float | None) -> str:
    """Why a run stopped on a loss that is not finite, and what to try."""
    last = f"{last_finite:.4g}" if last_finite is not None else "none yet"
    return (
        f"the loss became NaN or infinite in epoch {epoch} by step {step} (last finite loss: {last}); "
        "try a lower --learning-rate"
    )
