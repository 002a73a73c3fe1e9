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
from functools import partial
from typing import TYPE_CHECKING, Any

import jax
import numpy as np
import optax
from flax import nnx, serialization
from jax.sharding import NamedSharding, PartitionSpec

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
from mnistkit.engine.settings import Settings, Snapshot, epoch_lengths
from mnistkit.engine.steps import (
    TraceLog,
    dtype_named,
    epoch_order,
    floats,
    make_eval_step,
    make_train_step,
    measure,
    metrics_type,
    nan_message,
    pad_to_batches,
    score_test_set,
)
from mnistkit.errors import ConfigError
from mnistkit.host.build import optimizer_in_one_program
from mnistkit.specs import MetricSpec

if TYPE_CHECKING:
    from mnistkit.data import MnistArrays


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


def devices_for(batch_size: int, requested: int | None) -> list:
    """``choose_devices``, and a batch that splits evenly over them; ``ConfigError`` otherwise (checked before a run starts)."""
    devices = choose_devices(requested)
    if batch_size % len(devices):
        raise ConfigError(f"--batch-size {batch_size} must be a multiple of the {len(devices)} devices it is split over")
    return devices


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
    devices = devices_for(batch_size, settings.devices)
    eval_bs = min(settings.eval_batch_size, len(data.test_images))
    eval_bs = -(-eval_bs // len(devices)) * len(devices)
    lengths = epoch_lengths(settings.epochs, steps)
    fused = choose_steps_per_dispatch(settings.steps_per_dispatch, model, lengths)

    optimizer = optimizer_in_one_program(model, tx)
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

        assert replicated is not None  # every process adds its devices, so there are several and the mesh exists
        # Each process holds the same host copy; device_put would compare them across processes first.
        put = partial(replicate, sharding=replicated)
    else:
        put = partial(jax.device_put, device=replicated or devices[0])

    smoothing, traces = settings.label_smoothing, TraceLog()
    low = dtype_named(settings.dtype)
    train_steps = make_train_step(graphdef, batch_size, kind, fused > 1, batch_sharding, smoothing, traces, low)
    eval_step = make_eval_step(graphdef, eval_bs, kind, traces, low)

    state = put(state)
    images, labels = put(data.train_images), put(np.asarray(data.train_labels, np.int32))
    test_x, test_y, test_mask, eval_batches = pad_to_batches(data.test_images, np.asarray(data.test_labels, np.int32), eval_bs)
    test_x, test_y, test_mask = put(test_x), put(test_y), put(test_mask)
    padded_test = (test_x, test_y, test_mask, eval_batches)
    shown = min(settings.num_predictions, len(data.test_images))

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
            if step and resume is not None and resume.running is not None:
                running = serialization.from_state_dict(running, resume.running)
            running = put(running)
            start_step = bar_at = step
            epoch_start = time.perf_counter()
            compile_seconds = 0.0
            next_progress = (step // settings.progress_every + 1) * settings.progress_every
            while step < epoch_steps:
                if should_stop is not None and should_stop():
                    if step != bar_at:  # the bar ends where the run stops, at the step the message names
                        update = measure(epoch, step, epoch_steps, running, last_finite,
                                         (step - start_step) * batch_size, time.perf_counter() - epoch_start - compile_seconds)
                        yield update
                        if isinstance(update, Failed):
                            return  # no checkpoint of a state whose loss is not finite
                    if checkpoint is not None:
                        checkpoint(snapshot(epoch, step, running))
                    yield Interrupted(epoch=epoch, step=step, history=tuple(history), steps=epoch_steps)
                    return
                count = min(fused, epoch_steps - step)
                previous = running
                state, running = train_steps(state, running, images, labels, order, step, count)
                step += count
                if not compiled:
                    jax.block_until_ready(state)
                    compile_seconds = time.perf_counter() - epoch_start
                    compiled = True
                    start_step = step  # the speed counts the images after the compiled call, over the time after it
                    yield Compiled(seconds=compile_seconds)
                # At most two dispatches queued (this one, and the one before it still finishing) so the
                # device never idles, yet a stop waits for at most two: without this wait the host would
                # run ahead to the next progress update, and a Ctrl-C would wait for all of that first.
                jax.block_until_ready(previous)
                yield from traces.drain()
                if step >= next_progress or step == epoch_steps:
                    next_progress = (step // settings.progress_every + 1) * settings.progress_every
                    update = measure(epoch, step, epoch_steps, running, last_finite,
                                     (step - start_step) * batch_size, time.perf_counter() - epoch_start - compile_seconds)
                    yield update
                    if isinstance(update, Failed):
                        return
                    last_finite, bar_at = update.loss, step
            epoch_end = EpochEnd(epoch=epoch, train=floats(running), seconds=time.perf_counter() - epoch_start)
            yield epoch_end

            eval_start = time.perf_counter()
            test, reports, predicted = score_test_set(eval_step, state, padded_test, kind, metrics, epoch, data.test_labels, shown)
            yield from traces.drain()
            if not math.isfinite(test["loss"]):
                yield Failed(nan_message(epoch, epoch_steps, last_finite), epoch=epoch, step=epoch_steps)
                return
            evaluation = Evaluation(epoch=epoch, test=test, seconds=time.perf_counter() - eval_start)
            yield evaluation
            yield from reports
            history.append(history_row(epoch_end, evaluation))
            yield Predictions(
                epoch=epoch,
                images=data.test_images[:shown],
                labels=np.asarray(data.test_labels[:shown], dtype=np.int64),
                predicted=predicted,
            )
            if checkpoint is not None:
                # A part epoch (the last of --epochs 2.5) is saved where it
                # stopped, so a later --resume with more epochs finishes it.
                whole = epoch_steps == steps
                checkpoint(snapshot(epoch + 1, 0, None) if whole else snapshot(epoch, epoch_steps, running))
    finally:
        nnx.update((model, optimizer), state)
    yield Finished(history=tuple(history), seconds=time.perf_counter() - run_start)
