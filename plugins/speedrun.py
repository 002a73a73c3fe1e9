"""The speedrun model: a small, fast CNN that reaches 99% on MNIST in under one epoch."""

from __future__ import annotations

import jax
from flax import nnx

from mnistkit.engine.layers import conv as make_conv
from mnistkit.engine.layers import max_pool_2x2, resolve_conv
from mnistkit.hookspecs import hookimpl
from mnistkit.specs import IMAGE_SHAPE, NUM_CLASSES, ModelSpec

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
"""Pixel mean and standard deviation of the MNIST training images (scaled to [0, 1])."""


class SpeedrunCNN(nnx.Module):
    """conv 24 (5x5) -> max-pool -> conv 32 (3x3) -> max-pool -> dense 256 -> dense 10.

    Inputs are standardised first (zero mean, unit variance over MNIST), which
    lets a high learning rate work from the first step. Max pooling keeps the
    strongest stroke response in each window, which lets a narrow network
    learn quickly; 24 and 32 channels keep every step
    cheap. ``conv="patches"`` computes the same convolutions as matrix
    products (faster on CPUs) and lets the engine fuse steps; ``"auto"``, the
    default, picks it on a CPU and ``nnx.Conv`` elsewhere.
    """

    def __init__(self, rngs: nnx.Rngs, *, conv: str = "auto", hidden: int = 256):
        self.conv1 = make_conv(conv, IMAGE_SHAPE[-1], 24, (5, 5), rngs=rngs)
        self.conv2 = make_conv(conv, 24, 32, (3, 3), rngs=rngs)
        self.hidden = nnx.Linear(7 * 7 * 32, hidden, rngs=rngs)
        self.logits = nnx.Linear(hidden, NUM_CLASSES, rngs=rngs)
        self.fuse_steps = resolve_conv(conv) == "patches"

    def __call__(self, x: jax.Array) -> jax.Array:
        x = (x - MNIST_MEAN) / MNIST_STD
        x = max_pool_2x2(nnx.relu(self.conv1(x)))
        x = max_pool_2x2(nnx.relu(self.conv2(x)))
        x = x.reshape(x.shape[0], -1)
        return self.logits(nnx.relu(self.hidden(x)))



@hookimpl
def register_models(register):
    register(
        ModelSpec(
            name="speedrun",
            factory=SpeedrunCNN,
            lesson="mnistkit_lessons:speedrun.md",
            description="A small fast CNN for the speedrun recipe: conv 24 (5x5), conv 32 (3x3), max pools, dense 256.",
            options={"conv": "auto", "hidden": 256},
            accuracy_floor=0.7,
        )
    )
