"""The tutorial's stages, one per lesson: what ``mnistkit lesson run ID`` and the TUI run.

Each function receives the shared ``StageContext`` and an ``emit`` callback
(see ``mnistkit.curriculum.stages`` for what may be emitted) and returns plain values.
They are registered, in the order of the lessons, by the ``stage`` decorator.
"""

from __future__ import annotations

import importlib.metadata
import math
import time
from contextlib import contextmanager
from typing import Any

from mnistkit.curriculum.context import Emit, Note, StageContext, StageStopped, plugin_registry, stage
from mnistkit.curriculum.train_cache import save_training


@contextmanager
def _eval_mode(model):
    """Evaluation behaviour (no dropout, running batch statistics) for the block."""
    model.eval()
    try:
        yield model
    finally:
        model.train()


def _logits(model, images):
    """The model's logits for uint8 ``images``, through a compiled forward pass."""
    from flax import nnx

    from mnistkit.engine.steps import scale

    global _compiled_forward
    if _compiled_forward is None:
        _compiled_forward = nnx.jit(lambda model, x: model(scale(x)))
    return _compiled_forward(model, images)


_compiled_forward = None


def _table(*columns: str, title: str | None = None):
    from rich.table import Table

    return Table(*columns, title=title, title_justify="left", title_style="bold")


@stage("setup", "the stack: versions, backend, devices")
def _setup(ctx: StageContext, emit: Emit) -> dict[str, Any]:
    versions = {}
    for package in ("jax", "jaxlib", "flax", "optax", "clu", "tensorflow-cpu", "tensorflow", "tensorflow-datasets", "mnistkit"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    table = _table("package", "version", title="Installed")
    for package, version in versions.items():
        table.add_row(package, version)
    emit(table)
    import jax

    devices = [str(device) for device in jax.devices()]
    emit(f"JAX backend: {jax.default_backend()}; devices: {', '.join(devices)}")
    return {"versions": versions, "backend": jax.default_backend(), "devices": devices}


@stage("data", "load MNIST and look at it", produces=("data",))
def _data(ctx: StageContext, emit: Emit) -> dict[str, Any]:
    import numpy as np
    from rich.text import Text

    from mnistkit.data import load_mnist
    from mnistkit.report.digits import digit_lines

    s = ctx.config
    data = load_mnist(s.data, s.data_dir, notify=lambda message: emit(Note(message)))
    ctx.data = data
    emit(f"Data: {data.description}")
    table = _table("array", "shape", "dtype", "min", "max", title="The four arrays")
    for name in ("train_images", "train_labels", "test_images", "test_labels"):
        array = getattr(data, name)
        table.add_row(name, str(array.shape), str(array.dtype), str(array.min()), str(array.max()))
    emit(table)
    counts = np.bincount(data.train_labels, minlength=10)
    emit("Training images per digit: " + ", ".join(f"{d}: {n:,}" for d, n in enumerate(counts)))
    emit(Text("\n".join(digit_lines(data.train_images[0])) + f"\nthe first training image, labelled {data.train_labels[0]}"))
    return {
        "source": data.source,
        "train_shape": tuple(data.train_images.shape),
        "test_shape": tuple(data.test_images.shape),
        "dtype": str(data.train_images.dtype),
        "first_label": int(data.train_labels[0]),
        "counts": [int(n) for n in counts],
    }


@stage("pipeline", "the tf.data input pipeline", requires=("data",))
def _pipeline(ctx: StageContext, emit: Emit) -> dict[str, Any]:
    from mnistkit.data import make_tf_datasets

    s, data = ctx.config, ctx.data
    train, _test = make_tf_datasets(data, s.batch_size, s.seed)
    batch = next(train.as_numpy_iterator())
    table = _table("key", "shape", "dtype", "min", "max", title=f"One training batch (batch size {s.batch_size})")
    for key, array in batch.items():
        table.add_row(key, str(array.shape), str(array.dtype), f"{array.min():g}", f"{array.max():g}")
    emit(table)
    num_train, num_test = len(data.train_labels), len(data.test_labels)
    train_batches = num_train // s.batch_size
    test_batches = -(-num_test // s.batch_size)
    dropped = num_test % s.batch_size
    emit(
        f"Per epoch: {train_batches:,} training batches ({train_batches * s.batch_size:,} of {num_train:,} images; "
        f"the last {num_train % s.batch_size} wait for the next shuffle). Test: {test_batches:,} batches covering all "
        f"{num_test:,} images; with drop_remainder the last {dropped} would never be scored."
    )
    return {
        "image_shape": tuple(batch["image"].shape),
        "image_dtype": str(batch["image"].dtype),
        "label_shape": tuple(batch["label"].shape),
        "max_pixel": float(batch["image"].max()),
        "train_batches": train_batches,
        "test_batches": test_batches,
        "test_scored_with_drop_remainder": num_test - dropped,
    }


@stage("model", "define the CNN and count its parameters", produces=("model",))
def _model(ctx: StageContext, emit: Emit) -> dict[str, Any]:
    import jax
    import jax.numpy as jnp
    from flax import nnx

    from mnistkit.host.build import build_model

    s = ctx.config
    spec = plugin_registry(ctx).model(s.model)
    model = build_model(spec, s.model_options, s.seed)
    ctx.model = model
    with _eval_mode(model):
        out = jax.eval_shape(model, jax.ShapeDtypeStruct((1, 28, 28, 1), jnp.float32))
    layers: dict[str, list[tuple[str, tuple[int, ...]]]] = {}
    for path, variable in nnx.to_flat_state(nnx.state(model, nnx.Param)):
        layer = ".".join(str(part) for part in path[:-1]) or "(model)"
        layers.setdefault(layer, []).append((str(path[-1]), tuple(variable[...].shape)))
    table = _table("layer", "parameters", "count", title=f"{type(model).__name__}: (1, 28, 28, 1) -> {tuple(out.shape)}")
    counts = {}
    for layer, arrays in layers.items():
        counts[layer] = sum(math.prod(shape) for _, shape in arrays)
        table.add_row(layer, ", ".join(f"{name} {'x'.join(map(str, shape)) or 'scalar'}" for name, shape in arrays), f"{counts[layer]:,}")
    total = sum(counts.values())
    table.add_row("total", "", f"{total:,}")
    emit(table)
    emit(f"Model {s.model!r}: {total:,} parameters, initialised from seed {s.seed}.")
    return {"model": s.model, "params": int(total), "layers": counts, "output_shape": tuple(out.shape)}


@stage("forward", "a forward pass: logits and softmax", requires=("data", "model"))
def _forward(ctx: StageContext, emit: Emit) -> dict[str, Any]:
    import jax
    import numpy as np
    from rich.text import Text

    from mnistkit.report.digits import digit_lines

    images, labels = ctx.data.test_images[:5], ctx.data.test_labels[:5]
    which = "trained" if ctx.trained is not None else "untrained"
    with _eval_mode(ctx.trained if ctx.trained is not None else ctx.model) as model:
        logits = np.asarray(_logits(model, images))
    probs = np.asarray(jax.nn.softmax(logits, axis=-1))
    emit(Text("\n".join(digit_lines(images[0])) + f"\nthe first test image, labelled {labels[0]}"))
    emit(f"The {which} model maps 5 test images to logits of shape {logits.shape}. For the first:")
    table = _table("digit", "logit", "softmax")
    for digit in range(logits.shape[1]):
        table.add_row(str(digit), f"{logits[0, digit]:+.3f}", f"{probs[0, digit]:.3f}")
    emit(table)
    guesses = logits.argmax(axis=-1)
    emit("Guesses (largest logit) for the first 5 test images: "
         + ", ".join(f"{g} (true {y}, p={probs[i, g]:.2f})" for i, (g, y) in enumerate(zip(guesses, labels))))
    emit("Softmax turns each row of logits into probabilities that sum to 1; an untrained model gives every digit about 0.1.")
    return {
        "model": which,
        "logits_shape": tuple(logits.shape),
        "prob_sums": [float(x) for x in probs.sum(axis=-1)],
        "guesses": [int(x) for x in guesses],
    }


@stage("metrics", "clu metrics: accuracy and average loss", requires=("data", "model"))
def _metrics(ctx: StageContext, emit: Emit) -> dict[str, Any]:
    import math

    import optax

    from mnistkit.engine.steps import Metrics

    n = min(1000, len(ctx.data.test_labels))
    labels = ctx.data.test_labels[:n]
    with _eval_mode(ctx.model) as model:
        logits = _logits(model, ctx.data.test_images[:n])
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, labels)
    half = n // 2
    merged = Metrics.empty()
    for part in (slice(0, half), slice(half, n)):
        merged = merged.merge(Metrics.single_from_model_output(loss=loss[part], logits=logits[part], labels=labels[part]))
    values = {k: float(v) for k, v in merged.compute().items()}
    emit(
        f"Untrained model on {n:,} test images, merged from two batches: accuracy {values['accuracy']:.1%}, "
        f"loss {values['loss']:.3f} (guessing uniformly would give 10% and ln 10 = {math.log(10):.3f})."
    )
    return {"images": n, **values}


@stage("optimizer", "the optimizer and its state", requires=("model",), produces=("tx", "optimizer"))
def _optimizer(ctx: StageContext, emit: Emit) -> dict[str, Any]:
    import jax
    from flax import nnx

    from mnistkit.host.build import build_optimizer

    s = ctx.config
    spec = plugin_registry(ctx).optimizer(s.optimizer)
    rate = s.learning_rate
    ctx.tx = build_optimizer(spec, rate, s.optimizer_options)
    ctx.optimizer = nnx.Optimizer(ctx.model, ctx.tx, wrt=nnx.Param)
    params = sum(leaf.size for leaf in jax.tree.leaves(nnx.state(ctx.model, nnx.Param)))
    state = sum(leaf.size for leaf in jax.tree.leaves(nnx.state(ctx.optimizer)))
    options = ", ".join(f"{k}={v}" for k, v in s.optimizer_options.items())
    emit(f"Optimizer {s.optimizer!r}: learning rate {rate}, {options}.")
    emit(f"Its state holds {state:,} numbers for {params:,} parameters (step {int(ctx.optimizer.step[...])}).")
    return {"optimizer": s.optimizer, "learning_rate": rate, "state_numbers": int(state), "params": int(params)}


@stage("train_step", "the jitted train step, a few times", requires=("data", "model", "optimizer"))
def _train_step(ctx: StageContext, emit: Emit) -> dict[str, Any]:
    import jax
    import numpy as np
    from flax import nnx

    from mnistkit.engine.steps import loss_fn, scale

    s, data = ctx.config, ctx.data
    model, optimizer = nnx.clone((ctx.model, ctx.optimizer))

    @nnx.jit
    def train_step(model, optimizer, images, labels):
        (loss, _), grads = nnx.value_and_grad(loss_fn, has_aux=True)(model, images, labels)
        optimizer.update(model, grads)
        return loss

    order = np.random.default_rng(s.seed).permutation(len(data.train_labels))
    batches = [order[i * s.batch_size : (i + 1) * s.batch_size] for i in range(min(30, len(order) // s.batch_size))]
    x, y = scale(data.train_images[batches[0]]), data.train_labels[batches[0]]
    before = float(loss_fn(model, x, y)[0])
    start = time.perf_counter()
    first = float(train_step(model, optimizer, x, y))
    compile_seconds = time.perf_counter() - start
    after = float(loss_fn(model, x, y)[0])
    emit(f"One step on one batch: loss {before:.4f} before, {after:.4f} after (the first call took {compile_seconds:.2f} s: tracing and compiling).")
    losses, start = [first], time.perf_counter()
    for index in batches[1:]:
        losses.append(float(train_step(model, optimizer, scale(data.train_images[index]), data.train_labels[index])))
    jax.block_until_ready(nnx.state(model))
    step_ms = 1000 * (time.perf_counter() - start) / max(1, len(batches) - 1)
    emit(f"{len(losses)} steps on fresh batches, about {step_ms:.1f} ms a step once compiled:")
    table = _table("step", "loss")
    for i, loss in enumerate(losses):
        if i % 5 == 0 or i == len(losses) - 1:
            table.add_row(str(i + 1), f"{loss:.4f}")
    emit(table)
    return {"loss_before": before, "loss_after": after, "losses": losses, "compile_seconds": compile_seconds, "step_ms": step_ms}


@stage("evaluate", "score every test image", requires=("data", "model"))
def _evaluate(ctx: StageContext, emit: Emit) -> dict[str, Any]:
    import optax
    from flax import nnx

    from mnistkit.engine.steps import Metrics, scale

    s, data = ctx.config, ctx.data
    which = "trained" if ctx.trained is not None else "untrained"
    model = ctx.trained if ctx.trained is not None else ctx.model

    @nnx.jit
    def eval_step(model, images, labels):
        logits = model(scale(images))
        loss = optax.softmax_cross_entropy_with_integer_labels(logits, labels)
        return Metrics.single_from_model_output(loss=loss, logits=logits, labels=labels)

    n, size = len(data.test_labels), s.batch_size
    metrics, scored = Metrics.empty(), 0
    with _eval_mode(model):
        for start in range(0, n, size):
            metrics = metrics.merge(eval_step(model, data.test_images[start : start + size], data.test_labels[start : start + size]))
            scored += len(data.test_labels[start : start + size])
    values = {k: float(v) for k, v in metrics.compute().items()}
    emit(f"The {which} model scored {scored:,} of {n:,} test images: accuracy {values['accuracy']:.2%}, loss {values['loss']:.4f}.")
    emit(f"Batched with drop_remainder, as the original tutorial did, only {n - n % size:,} would count.")
    return {"model": which, "scored": scored, "scored_with_drop_remainder": n - n % size, **values}


@stage("seeds", "seeds and reproducibility", requires=("data",))
def _seeds(ctx: StageContext, emit: Emit) -> dict[str, Any]:
    import jax
    import numpy as np
    from flax import nnx

    from mnistkit.host.build import build_model

    s = ctx.config
    spec = plugin_registry(ctx).model(s.model)

    def params(seed: int) -> list[np.ndarray]:
        return [np.asarray(x) for x in jax.tree.leaves(nnx.state(build_model(spec, s.model_options, seed), nnx.Param))]

    a, b, c = params(s.seed), params(s.seed), params(s.seed + 1)
    same = all(np.array_equal(x, y) for x, y in zip(a, b))
    differs = max(float(np.abs(x - y).max()) for x, y in zip(a, c))

    def order(seed: int) -> list[int]:
        key = jax.random.fold_in(jax.random.key(seed), 1)
        return [int(i) for i in jax.random.permutation(key, len(ctx.data.train_labels))[:8]]

    emit(f"Two models from seed {s.seed}: identical parameters: {same}. Seed {s.seed + 1}: largest difference {differs:.3f}.")
    emit(f"First images of epoch 1 with seed {s.seed}: {order(s.seed)}; again: {order(s.seed)}; seed {s.seed + 1}: {order(s.seed + 1)}.")
    return {"same_params": same, "other_seed_difference": differs, "order": order(s.seed), "other_order": order(s.seed + 1)}


@stage("train", "train and evaluate, epoch by epoch", requires=("data", "model", "optimizer"), produces=("trained", "history", "predictions"))
def _train(ctx: StageContext, emit: Emit) -> dict[str, Any]:
    from mnistkit.engine import events as ev
    from mnistkit.errors import TrainingError
    from mnistkit.runs.assemble import prepare

    ctx.run = run = prepare(ctx.config, plugin_registry(ctx), out=ctx.runs_dir, data=ctx.data,
                            notify=lambda message: emit(Note(message)))
    try:
        for event in run.events(ctx.should_stop, progress_every=ctx.progress_every):
            emit(event)
            if isinstance(event, ev.Predictions):
                ctx.predictions = event
    finally:
        ctx.run = None
    assert run.outcome is not None  # events() sets it whenever it ends without raising
    if run.outcome.status == "interrupted":
        raise StageStopped(run.outcome.message)
    if run.outcome.status != "completed":
        raise TrainingError(run.outcome.message)
    ctx.trained, ctx.history, ctx.run_dir = run.model, run.history, run.path
    save_training(ctx)
    last = ctx.history[-1]
    emit(f"The run's folder, for `mnistkit predict --run` and `mnistkit run --resume`: {run.path}")
    return {"epochs": len(ctx.history), "history": [dict(row) for row in ctx.history], "run": str(run.path),
            "test_accuracy": last["test_accuracy"], "train_loss": last["train_loss"]}


@stage("curves", "plot the learning curves", requires=("train",))
def _curves(ctx: StageContext, emit: Emit) -> dict[str, Any]:
    from mnistkit.report.plots import plot_curves

    table = _table("epoch", "train loss", "train acc", "test loss", "test acc", title="Per epoch")
    for row in ctx.history:
        table.add_row(str(row["epoch"]), f"{row['train_loss']:.4f}", f"{row['train_accuracy']:.2%}",
                      f"{row['test_loss']:.4f}", f"{row['test_accuracy']:.2%}")
    emit(table)
    path = ctx.output_dir() / "curves.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    plot_curves(ctx.history, path)
    emit(f"Saved the curves in {path}")
    return {"path": str(path), "epochs": len(ctx.history)}


@stage("predict", "inference and the prediction grid", requires=("data", "train"), produces=("predictions",))
def _predict(ctx: StageContext, emit: Emit) -> dict[str, Any]:
    import numpy as np

    from mnistkit.engine import events as ev
    from mnistkit.report.digits import prediction_grid
    from mnistkit.report.plots import plot_predictions

    images, labels = ctx.data.test_images[:25], ctx.data.test_labels[:25]
    with _eval_mode(ctx.trained) as model:
        predicted = np.asarray(_logits(model, images).argmax(axis=-1))
    ctx.predictions = ev.Predictions(len(ctx.history), images, labels.astype(np.int64), predicted.astype(np.int64))
    correct = int((predicted == labels).sum())
    emit(f"The trained model's guesses for the first {len(labels)} test digits ({correct} right):")
    emit(prediction_grid(images, labels, predicted))
    path = ctx.output_dir() / "predictions.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    plot_predictions(images, labels, predicted, path)
    emit(f"Saved the grid in {path}")
    return {"shown": len(labels), "correct": correct, "predicted": [int(x) for x in predicted], "path": str(path)}
