"""Exercise model-call, a reference solution."""

from flax import nnx


def halve(x):
    """Average each 2x2 patch: half the height, half the width."""
    return nnx.avg_pool(x, window_shape=(2, 2), strides=(2, 2))


class DigitCNN(nnx.Module):
    def __init__(self, rngs: nnx.Rngs):
        self.conv1 = nnx.Conv(1, 32, kernel_size=(3, 3), rngs=rngs)
        self.conv2 = nnx.Conv(32, 64, kernel_size=(3, 3), rngs=rngs)
        self.hidden = nnx.Linear(7 * 7 * 64, 256, rngs=rngs)
        self.logits = nnx.Linear(256, 10, rngs=rngs)

    def __call__(self, x):
        """Images (B, 28, 28, 1) in, logits (B, 10) out."""
        x = halve(nnx.relu(self.conv1(x)))  # (B, 14, 14, 32)
        x = halve(nnx.relu(self.conv2(x)))  # (B, 7, 7, 64)
        x = x.reshape(x.shape[0], -1)  # (B, 3136)
        return self.logits(nnx.relu(self.hidden(x)))
