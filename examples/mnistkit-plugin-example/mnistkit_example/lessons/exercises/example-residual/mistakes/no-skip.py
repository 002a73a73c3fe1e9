"""Exercise example-residual, forgetting the skip connection."""

import jax
from flax import nnx


class ResidualBlock(nnx.Module):
    """Two 3x3 convolutions whose output is added to the block's input."""

    def __init__(self, channels: int, rngs: nnx.Rngs):
        self.conv1 = nnx.Conv(channels, channels, kernel_size=(3, 3), rngs=rngs)
        self.conv2 = nnx.Conv(channels, channels, kernel_size=(3, 3), rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        return nnx.relu(self.conv2(nnx.relu(self.conv1(x))))
