"""Builtin models."""

from __future__ import annotations

from functools import partial

import jax
from flax import nnx

from mnistkit.hookspecs import hookimpl
from mnistkit.specs import IMAGE_SHAPE, NUM_CLASSES, ModelSpec

_pool = partial(nnx.avg_pool, window_shape=(2, 2), strides=(2, 2))


class TutorialCNN(nnx.Module):
    """The tutorial's network: two convolution stages, then two dense layers.

    Each stage is a 3x3 convolution, a ReLU and a 2x2 average pool, so the
    28x28 image shrinks to 14x14 and then 7x7 while the channels grow to 32 and
    then 64. The 7*7*64 features feed a 256-unit hidden layer and the 10 logits.
    """

    def __init__(self, rngs: nnx.Rngs, *, features: int = 32, hidden: int = 256):
        self.conv1 = nnx.Conv(IMAGE_SHAPE[-1], features, kernel_size=(3, 3), rngs=rngs)
        self.conv2 = nnx.Conv(features, 2 * features, kernel_size=(3, 3), rngs=rngs)
        flat = (IMAGE_SHAPE[0] // 4) * (IMAGE_SHAPE[1] // 4) * 2 * features
        self.hidden = nnx.Linear(flat, hidden, rngs=rngs)
        self.logits = nnx.Linear(hidden, NUM_CLASSES, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        x = _pool(nnx.relu(self.conv1(x)))
        x = _pool(nnx.relu(self.conv2(x)))
        x = x.reshape(x.shape[0], -1)
        return self.logits(nnx.relu(self.hidden(x)))


@hookimpl
def register_models(register):
    register(
        ModelSpec(
            name="cnn",
            factory=TutorialCNN,
            lesson="mnistkit_lessons:cnn.md",
            description="The tutorial's CNN: conv 32, conv 64 (3x3, ReLU, average pool), dense 256, dense 10.",
            options={"features": 32, "hidden": 256},
        )
    )
