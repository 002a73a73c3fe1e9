"""The training engine: a jitted train step, full evaluation, a stream of events.

The whole dataset sits on the device as uint8; each epoch draws a fresh
permutation of indices (a pure function of the seed and the epoch) and every
step gathers its batch and scales it to [0, 1] inside the compiled step, so
no images cross from the host after the start. The step's metrics come from
the same forward pass that produced the gradients. Evaluation scores every
test image (the last batch is padded and masked).

With several devices the batch is split across them (data parallelism over a
``jax.sharding`` mesh) and the parameters are replicated; XLA inserts the
gradient all-reduce. In a multi-process run (``mnistkit.engine.distributed``) the
mesh spans the devices of every process; each process calls ``train`` with
the same arguments and data, and its events carry the same numbers.

``train`` is a generator of ``mnistkit.engine.events``; it prints nothing and writes
nothing. To stop it cleanly, make ``should_stop()`` return True: it yields
``Interrupted`` after handing a ``Snapshot`` to ``checkpoint``.
"""

import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from clu import metrics as clu_metrics
from flax import nnx, serialization, struct
from jax.sharding import NamedSharding, PartitionSpec

from mnistkit.errors import ConfigError, PluginError
from mnistkit.runs.config import epoch_lengths
from mnistkit.engine.events import (
    Compiled,
    EpochEnd,
    Evaluation,
    Event,
    Failed,
    Finished,
    Interrupted,
    Predictions,
    Progress,
    Report,
    RunStarted,
    Traced,
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
    """How to train: the loop's knobs, separate from what is trained.

    ``devices``: how many local devices to split each batch over (None: all).
    ``dtype``: the compute dtype, ``"float32"`` or ``"bfloat16"`` (parameters,
    optimizer state and the loss stay float32; see ``forward``).
    ``steps_per_dispatch``: train steps fused into one compiled call with
    ``lax.scan`` (None: 1 on CPU, where XLA's convolutions fall off their fast
    path inside a loop body, unless the model sets ``fuse_steps = True``,
    then 16; 8 on GPU and TPU).
    """

    epochs: float = 10
    batch_size: int = 32
    seed: int = 0
    eval_batch_size: int = 1000
    progress_every: int = 50
    num_predictions: int = 25
    devices: int | None = None
    steps_per_dispatch: int | None = None
    label_smoothing: float = 0.0
    dtype: str = "float32"


@dataclass(frozen=True)
class Snapshot:
    """All a run needs to continue exactly where it was.

    ``epoch`` is the epoch in progress and ``step`` the steps of it already
    done (0 at an epoch boundary). ``state`` is the model and optimizer state
    and ``running`` the partial epoch's train metrics, both as pure nested
    dicts of numpy arrays (``running`` is None at a boundary). The data order
    is a pure function of the seed and the epoch, so ``step`` pins it down.
    """

    epoch: int
    step: int
    state: dict
    running: dict | None
    history: tuple[dict[str, float], ...]


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


def scale(images: jax.Array) -> jax.Array:
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

    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
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

    @partial(jax.jit, donate_argnums=(0, 1), static_argnums=6)
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


def make_predict(graphdef: nnx.GraphDef, traces: TraceLog | None = None, compute_dtype=None):
    @jax.jit
    def predict(state, images):
        if traces is not None:
            traces.record("predict", images)
        model, _ = nnx.merge(graphdef, state)
        model.eval()
        return forward(model, scale(images), compute_dtype).argmax(axis=-1)

    return predict


def _pad(images: np.ndarray, labels: np.ndarray, multiple: int):
    """Pad the test set to a whole number of batches; the mask marks real images."""
    n = len(images)
    total = -(-n // multiple) * multiple
    mask = np.zeros(total, dtype=bool)
    mask[:n] = True
    images = np.concatenate([images, np.zeros((total - n, *images.shape[1:]), images.dtype)])
    labels = np.concatenate([labels, np.zeros(total - n, labels.dtype)])
    return images, labels, mask, total // multiple


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


def score_test_set(
    eval_step, state, padded_test, kind: type, specs: Sequence[MetricSpec], epoch: int, labels: np.ndarray
) -> tuple[dict[str, float], list[Report]]:
    """Metrics over every test image, plus the metric plugins' end-of-evaluation reports.

    ``padded_test`` is what ``_pad`` returns (images, labels, mask, number of
    batches); ``eval_step`` comes from ``make_eval_step``. Reports are skipped
    when the loss is not finite: the caller stops the run then.
    """
    images, padded_labels, mask, batches = padded_test
    total, logits = kind.empty(), []
    for i in range(batches):
        batch_metrics, batch_logits = eval_step(state, images, padded_labels, mask, i)
        total = total.merge(batch_metrics)
        logits.append(batch_logits)
    test = _floats(total)
    reports: list[Report] = []
    if math.isfinite(test["loss"]) and any(spec.on_evaluation for spec in specs):
        all_logits = np.concatenate([np.asarray(x) for x in logits])[: len(labels)]
        reports = _reports(specs, EvaluationOutputs(epoch, all_logits, np.asarray(labels)))
        for report in reports:
            test.update(report.values)
    return test, reports


DTYPES = {"float32": None, "bfloat16": jnp.bfloat16}
"""Compute dtypes ``--dtype`` offers; None means no casting at all."""


def dtype_named(name: str):
    if name not in DTYPES:
        raise ConfigError(f"unknown --dtype {name!r} (known: {', '.join(DTYPES)})")
    return DTYPES[name]


def choose_devices(requested: int | None) -> list:
    """The devices to train on: all local ones, or the first ``requested``.

    In a multi-process run (``mnistkit.engine.distributed``) the same choice is made
    in every process and the list holds every process's share, process by
    process; ``requested`` beyond what the process with the fewest devices
    has is an error, raised alike in every process.
    """
    if jax.process_count() > 1:
        by_process: dict[int, list] = {}
        for device in jax.devices():
            by_process.setdefault(device.process_index, []).append(device)
        fewest = min(len(devices) for devices in by_process.values())
        if requested is not None and requested > fewest:
            raise ConfigError(f"--devices {requested}: a process of this run has only {fewest} {jax.default_backend()} device(s)")
        return [device for index in sorted(by_process) for device in by_process[index][:requested]]
    available = jax.local_devices()
    if requested is None:
        return available
    if not 1 <= requested <= len(available):
        raise ConfigError(f"--devices {requested}: this machine has {len(available)} {jax.default_backend()} device(s)")
    return available[:requested]


def choose_steps_per_dispatch(requested: int | None, model: nnx.Module, lengths: Sequence[int]) -> int:
    """Train steps per compiled call: as requested, else by backend and model (see ``Settings``).

    The automatic choice prefers a length that divides every epoch's step
    count (``lengths``), so no shorter last chunk needs a compilation of its own.
    """
    if requested is not None:
        return max(1, requested)
    if jax.default_backend() == "cpu" and not getattr(model, "fuse_steps", False):
        return 1
    target = 16 if jax.default_backend() == "cpu" else 8
    divisors = [k for k in range(target // 2, 2 * target + 1) if all(n % k == 0 for n in lengths)]
    return min(divisors, key=lambda k: abs(k - target)) if divisors else target


def _nan_message(epoch: int, step: int, last_finite: float | None) -> str:
    last = f"{last_finite:.4g}" if last_finite is not None else "none yet"
    return (
        f"the loss became NaN or infinite in epoch {epoch} by step {step} (last finite loss: {last}); "
        "try a lower --learning-rate"
    )


def train(
    model: nnx.Module,
    tx: optax.GradientTransformation,
    data: "MnistArrays",
    settings: Settings,
    config: dict[str, Any] | None = None,
    metrics: Sequence[MetricSpec] = (),
    *,
    resume: Snapshot | None = None,
    checkpoint: Callable[[Snapshot], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Iterator[Event]:
    """Train ``model`` in place with ``tx`` on ``data``, yielding events.

    ``checkpoint`` receives a ``Snapshot`` after every epoch and when the run
    stops early; ``resume`` continues from one. When the generator ends (or is
    closed) ``model`` holds the latest parameters.
    """
    run_start = time.perf_counter()
    batch_size = settings.batch_size
    n_train = len(data.train_images)
    steps = n_train // batch_size
    devices = choose_devices(settings.devices)
    if batch_size % len(devices):
        raise ConfigError(f"--batch-size {batch_size} must be a multiple of the {len(devices)} devices it is split over")
    eval_bs = min(settings.eval_batch_size, len(data.test_images))
    eval_bs = -(-eval_bs // len(devices)) * len(devices)
    lengths = epoch_lengths(settings.epochs, steps)
    fused = choose_steps_per_dispatch(settings.steps_per_dispatch, model, lengths)

    optimizer = nnx.Optimizer(model, tx, wrt=nnx.Param)
    graphdef, state = nnx.split((model, optimizer))
    if resume is not None:
        nnx.replace_by_pure_dict(state, resume.state)
    kind = metrics_type(metrics)

    replicated = batch_sharding = None
    if len(devices) > 1:
        mesh = jax.sharding.Mesh(np.array(devices), ("data",))
        replicated = NamedSharding(mesh, PartitionSpec())
        batch_sharding = NamedSharding(mesh, PartitionSpec("data"))
    if jax.process_count() > 1:
        from mnistkit.engine.distributed import replicate

        # Each process holds the same host copy; device_put would compare them across processes first.
        put = partial(replicate, sharding=replicated)
    else:
        put = partial(jax.device_put, device=replicated or devices[0])

    smoothing, traces = settings.label_smoothing, TraceLog()
    low = dtype_named(settings.dtype)
    train_steps = make_train_step(graphdef, batch_size, kind, fused > 1, batch_sharding, smoothing, traces, low)
    eval_step = make_eval_step(graphdef, eval_bs, kind, traces, low)
    predict = make_predict(graphdef, traces, low)

    state = put(state)
    images, labels = put(data.train_images), put(np.asarray(data.train_labels, np.int32))
    test_x, test_y, test_mask, eval_batches = _pad(data.test_images, np.asarray(data.test_labels, np.int32), eval_bs)
    test_x, test_y, test_mask = put(test_x), put(test_y), put(test_mask)
    padded_test = (test_x, test_y, test_mask, eval_batches)
    shown = slice(0, min(settings.num_predictions, len(data.test_images)))

    yield RunStarted(
        config=dict(config or {}),
        backend=jax.default_backend(),
        devices=tuple(str(d) for d in devices),
        data_source=data.description,
        num_train=n_train,
        num_test=len(data.test_images),
        steps_per_epoch=steps,
    )

    def snapshot(epoch: int, step: int, running) -> Snapshot:
        host_state = jax.device_get(state)
        pure_running = None if running is None else serialization.to_state_dict(jax.device_get(running))
        return Snapshot(epoch, step, nnx.to_pure_dict(host_state), pure_running, tuple(history))

    history: list[dict[str, float]] = list(resume.history) if resume else []
    first_epoch = resume.epoch if resume else 1
    compiled = False
    last_finite: float | None = None
    try:
        for epoch in range(first_epoch, len(lengths) + 1):
            epoch_steps = lengths[epoch - 1]
            order = put(epoch_order(settings.seed, epoch, n_train))
            step = resume.step if resume and epoch == first_epoch else 0
            running = kind.empty()
            if step and resume.running is not None:
                running = serialization.from_state_dict(running, resume.running)
            running = put(running)
            start_step = step
            epoch_start = time.perf_counter()
            compile_seconds = 0.0
            next_progress = (step // settings.progress_every + 1) * settings.progress_every
            while step < epoch_steps:
                if should_stop is not None and should_stop():
                    if checkpoint is not None:
                        checkpoint(snapshot(epoch, step, running))
                    yield Interrupted(epoch=epoch, step=step, history=tuple(history))
                    return
                count = min(fused, epoch_steps - step)
                state, running = train_steps(state, running, images, labels, order, step, count)
                step += count
                if not compiled:
                    jax.block_until_ready(state)
                    compile_seconds = time.perf_counter() - epoch_start
                    compiled = True
                    yield Compiled(seconds=compile_seconds)
                yield from traces.drain()
                if step >= next_progress or step == epoch_steps:
                    next_progress = (step // settings.progress_every + 1) * settings.progress_every
                    values = _floats(running)
                    if not math.isfinite(values["loss"]):
                        yield Failed(_nan_message(epoch, step, last_finite), epoch=epoch, step=step)
                        return
                    last_finite = values["loss"]
                    elapsed = time.perf_counter() - epoch_start - compile_seconds
                    yield Progress(
                        epoch=epoch,
                        step=step,
                        steps=epoch_steps,
                        loss=values["loss"],
                        accuracy=values["accuracy"],
                        images_per_sec=(step - start_step) * batch_size / elapsed if elapsed > 0 else 0.0,
                    )
            epoch_end = EpochEnd(epoch=epoch, train=_floats(running), seconds=time.perf_counter() - epoch_start)
            yield epoch_end

            eval_start = time.perf_counter()
            test, reports = score_test_set(eval_step, state, padded_test, kind, metrics, epoch, data.test_labels)
            yield from traces.drain()
            if not math.isfinite(test["loss"]):
                yield Failed(_nan_message(epoch, epoch_steps, last_finite), epoch=epoch, step=epoch_steps)
                return
            evaluation = Evaluation(epoch=epoch, test=test, seconds=time.perf_counter() - eval_start)
            yield evaluation
            yield from reports
            history.append(history_row(epoch_end, evaluation))

            predicted = predict(state, test_x[shown])
            yield from traces.drain()
            yield Predictions(
                epoch=epoch,
                images=data.test_images[shown],
                labels=np.asarray(data.test_labels[shown], dtype=np.int64),
                predicted=np.asarray(predicted, dtype=np.int64),
            )
            if checkpoint is not None:
                checkpoint(snapshot(epoch + 1, 0, None))
    finally:
        nnx.update((model, optimizer), state)
    yield Finished(history=tuple(history), seconds=time.perf_counter() - run_start)
