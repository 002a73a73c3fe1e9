"""Exercise model-call: the forward pass of the lesson's CNN.

Check your work with:  mnistkit exercise check model-call
"""

import jax.numpy as jnp
from flax import nnx


def halve(x):
    """Average each 2x2 patch: half the height, half the width."""
    return nnx.avg_pool(x, window_shape=(2, 2), strides=(2, 2))


class DigitCNN(nnx.Module):
    def __init__(self, rngs: nnx.Rngs):
        self.conv1 = nnx.Conv(1, 32, kernel_size=(3, 3), rngs=rngs)
        self.conv2 = nnx.Conv(32, 64, kernel_size=(3, 3), rngs=rngs)
        # TODO: 28 * 28 * 64 is the wrong size: how many numbers per image are left after two halvings?
        self.hidden = nnx.Linear(28 * 28 * 64, 256, rngs=rngs)
        self.logits = nnx.Linear(256, 10, rngs=rngs)

    def __call__(self, x):
        """Images (B, 28, 28, 1) in, logits (B, 10) out."""
        # TODO: conv1, relu, halve; conv2, relu, halve; flatten each image; hidden, relu; logits.
        raise NotImplementedError("write DigitCNN.__call__")
