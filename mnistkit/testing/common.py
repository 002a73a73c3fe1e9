"""What the contract checks share: the ``Target`` they check, failing with a
message, the fixed data, and the compiled steps.

The train and evaluation steps are module-level ``nnx.jit`` functions so a
model compiles them once for all its checks; ``TRACES`` records each trace.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

LEARN_TRAIN_IMAGES = 1200
LEARN_TEST_IMAGES = 500
LEARN_EPOCHS = 2
LEARN_BATCH = 32
MODEL_CHECK_OPTIMIZER = ("adamw", 0.005)
"""What ``check_model_learns`` trains with: optax.adamw at this learning rate."""


@dataclass(frozen=True)
class Target:
    """One thing a plugin registered: ``kind`` is model, optimizer, metric or plugin."""

    plugin: str
    kind: str
    name: str
    spec: Any = None
    lesson: Path | None = None
    registry: Any = None


def label(target: Target) -> str:
    """How a message names the target: ``model 'cnn' of plugin 'models'``, or ``plugin 'models'``."""
    if target.kind == "plugin":
        return f"plugin {target.plugin!r}"
    return f"{target.kind} {target.name!r} of plugin {target.plugin!r}"


def fail(target: Target, message: str) -> NoReturn:
    raise AssertionError(f"{label(target)}: {message}")


def calling(target: Target, what: str, function: Callable[..., Any], *args: Any) -> Any:
    """``function(*args)``; an exception from the plugin's code fails the check, naming ``what`` raised it."""
    try:
        return function(*args)
    except AssertionError:
        raise
    except Exception as exc:  # noqa: BLE001 - the plugin's code: any exception is its fault, a failed check
        fail(target, f"{what} raised {type(exc).__name__}: {exc}")


def require(condition: bool, target: Target, message: str) -> None:
    if not condition:
        fail(target, message)


@functools.lru_cache(maxsize=1)
def learning_data():
    """A fixed subset of the bundled sample: 1,200 training and 500 test images."""
    from mnistkit.data.sources import load_sample

    data = load_sample()
    return dataclasses.replace(
        data,
        train_images=data.train_images[:LEARN_TRAIN_IMAGES],
        train_labels=data.train_labels[:LEARN_TRAIN_IMAGES],
        test_images=data.test_images[:LEARN_TEST_IMAGES],
        test_labels=data.test_labels[:LEARN_TEST_IMAGES],
        description=f"the first {LEARN_TRAIN_IMAGES} train and {LEARN_TEST_IMAGES} test images of the bundled sample",
    )


def fixed_batch(n: int = LEARN_BATCH):
    """The first ``n`` training images as float32 (n, 28, 28, 1) in [0, 1], and their int32 labels."""
    data = learning_data()
    return _scale(data.train_images[:n]), jnp.asarray(data.train_labels[:n], jnp.int32)


def held_out_batch():
    """The 500 test images of ``learning_data`` as one batch."""
    data = learning_data()
    return _scale(data.test_images), jnp.asarray(data.test_labels, jnp.int32)


def _scale(images: np.ndarray) -> jax.Array:
    return jnp.asarray(images, jnp.float32)[..., None] / 255.0


def loss_of(model, x, y):
    return optax.softmax_cross_entropy_with_integer_labels(model(x), y).mean()


TRACES: list[str] = []
"""One entry per trace of ``train_step``: the checks read it to catch retracing."""


@nnx.jit
def train_step(model, optimizer, x, y):
    """One update, compiled with ``nnx.jit``; shared by the checks so each model compiles it once."""
    TRACES.append(type(model).__name__)
    loss, grads = nnx.value_and_grad(loss_of)(model, x, y)
    optimizer.update(model, grads)
    return loss


@nnx.jit
def eval_logits(model, x):
    return model(x)


TX_CACHE: dict[Any, Any] = {}


def adamw_for_checks():
    """One optax.adamw object for every model check, so the compiled ``train_step`` is reused."""
    name, rate = MODEL_CHECK_OPTIMIZER
    return TX_CACHE.setdefault(MODEL_CHECK_OPTIMIZER, getattr(optax, name)(rate))


def held_out_accuracy(model, tx, epochs: int = LEARN_EPOCHS) -> float:
    """Train ``model`` with ``tx`` on ``learning_data`` (seeded shuffles, batch 32) and score its test images."""
    data = learning_data()
    optimizer = nnx.Optimizer(model, tx, wrt=nnx.Param)
    images, labels = _scale(data.train_images), jnp.asarray(data.train_labels, jnp.int32)
    rng = np.random.default_rng(0)
    model.train()
    for _ in range(epochs):
        order = rng.permutation(len(labels))
        for start in range(0, len(labels) - LEARN_BATCH + 1, LEARN_BATCH):
            index = order[start : start + LEARN_BATCH]
            train_step(model, optimizer, images[index], labels[index])
    model.eval()
    x, y = held_out_batch()
    return float((eval_logits(model, x).argmax(axis=-1) == y).mean())
