"""The example plugin's network: a tiny residual CNN.

``mnistkit_example.plugin`` imports this module inside its factory, so
``mnistkit plugins`` lists the plugin without importing JAX or Flax.
"""

from __future__ import annotations

from functools import partial

import jax
from flax import nnx

_pool = partial(nnx.avg_pool, window_shape=(2, 2), strides=(2, 2))


class ResidualBlock(nnx.Module):
    """Two 3x3 convolutions whose output is added to the block's input: ``x + f(x)``."""

    def __init__(self, channels: int, rngs: nnx.Rngs):
        self.conv1 = nnx.Conv(channels, channels, kernel_size=(3, 3), rngs=rngs)
        self.conv2 = nnx.Conv(channels, channels, kernel_size=(3, 3), rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        return nnx.relu(x + self.conv2(nnx.relu(self.conv1(x))))


class TinyResNet(nnx.Module):
    """A stem convolution, ``blocks`` residual blocks at 14x14, pooling, and a dense layer to 10 logits."""

    def __init__(self, rngs: nnx.Rngs, *, channels: int = 16, blocks: int = 1):
        if channels < 1 or blocks < 0:
            raise ValueError(f"channels must be at least 1 and blocks at least 0, got {channels}, {blocks}")
        self.stem = nnx.Conv(1, channels, kernel_size=(3, 3), rngs=rngs)
        self.blocks = nnx.List([ResidualBlock(channels, rngs) for _ in range(blocks)])
        self.logits = nnx.Linear(7 * 7 * channels, 10, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        x = _pool(nnx.relu(self.stem(x)))  # (B, 14, 14, C)
        for block in self.blocks:
            x = block(x)
        x = _pool(x)  # (B, 7, 7, C)
        return self.logits(x.reshape(x.shape[0], -1))
