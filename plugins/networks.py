"""The builtin plugins' networks: the tutorial's CNN, an MLP, LeNet-5, a CNN with BatchNorm and Dropout, the speedrun CNN.

Each class maps a float32 batch ``(B, 28, 28, 1)`` to ``(B, 10)`` logits.
``BatchNormCNN`` is the one with train/eval state: its BatchNorm layers use
batch statistics and update their running averages in ``model.train()`` mode
and use the running averages in ``model.eval()`` mode; its Dropout is active
only in train mode.

The plugins that register them (``mnistkit_plugins.models`` and
``mnistkit_plugins.speedrun``) import this module inside their factories, so
listing plugins never imports JAX or Flax.
"""

from __future__ import annotations

import itertools
from functools import partial

import jax
from flax import nnx

from mnistkit.engine.layers import avg_pool_2x2, max_pool_2x2, resolve_conv
from mnistkit.engine.layers import conv as make_conv
from mnistkit.specs import IMAGE_SHAPE, NUM_CLASSES

_avg_pool = partial(nnx.avg_pool, window_shape=(2, 2), strides=(2, 2))
_max_pool = partial(nnx.max_pool, window_shape=(2, 2), strides=(2, 2))
_PIXELS = IMAGE_SHAPE[0] * IMAGE_SHAPE[1] * IMAGE_SHAPE[2]


class TutorialCNN(nnx.Module):
    """The tutorial's network: two convolution stages, then two dense layers.

    Each stage is a 3x3 convolution, a ReLU and a 2x2 average pool, so the
    28x28 image shrinks to 14x14 and then 7x7 while the channels grow to 32 and
    then 64. The 7*7*64 features feed a 256-unit hidden layer and the 10 logits.
    ``conv="patches"`` computes the same convolutions as matrix products over
    image patches (same parameters; see ``mnistkit.engine.layers``), which also lets
    the engine fuse several steps into one call on a CPU; ``"auto"``, the
    default, picks it on a CPU and Flax's ``nnx.Conv`` (``"xla"``) elsewhere.
    """

    def __init__(self, rngs: nnx.Rngs, *, features: int = 32, hidden: int = 256, conv: str = "auto"):
        self.conv1 = make_conv(conv, IMAGE_SHAPE[-1], features, (3, 3), rngs=rngs)
        self.conv2 = make_conv(conv, features, 2 * features, (3, 3), rngs=rngs)
        self.fuse_steps = resolve_conv(conv) == "patches"
        flat = (IMAGE_SHAPE[0] // 4) * (IMAGE_SHAPE[1] // 4) * 2 * features
        self.hidden = nnx.Linear(flat, hidden, rngs=rngs)
        self.logits = nnx.Linear(hidden, NUM_CLASSES, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        x = avg_pool_2x2(nnx.relu(self.conv1(x)))
        x = avg_pool_2x2(nnx.relu(self.conv2(x)))
        x = x.reshape(x.shape[0], -1)
        return self.logits(nnx.relu(self.hidden(x)))


class MLP(nnx.Module):
    """Flatten the image and apply ``layers`` dense ReLU layers of ``hidden`` units.

    It sees the 784 pixels as an unordered list: nothing tells it which pixels
    are neighbours, which is what the convolutional models add.
    """

    def __init__(self, rngs: nnx.Rngs, *, hidden: int = 256, layers: int = 2):
        if layers < 1 or hidden < 1:
            raise ValueError(f"layers and hidden must be at least 1, got layers={layers}, hidden={hidden}")
        sizes = [_PIXELS] + [hidden] * layers
        self.hidden = nnx.List([nnx.Linear(a, b, rngs=rngs) for a, b in itertools.pairwise(sizes)])
        self.logits = nnx.Linear(hidden, NUM_CLASSES, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        x = x.reshape(x.shape[0], -1)
        for layer in self.hidden:
            x = nnx.relu(layer(x))
        return self.logits(x)


class LeNet5(nnx.Module):
    """LeCun et al.'s LeNet-5 (1998) as it is usually rebuilt today.

    conv 6 (5x5, padded) -> pool -> conv 16 (5x5, unpadded) -> pool, then
    dense 120, 84 and 10. The original used scaled tanh units and trainable
    subsampling; ``activation="tanh"`` with average pooling gets close to it,
    the default ReLU with max pooling trains faster.
    """

    def __init__(self, rngs: nnx.Rngs, *, activation: str = "relu"):
        if activation not in ("relu", "tanh"):
            raise ValueError(f"activation must be 'relu' or 'tanh', got {activation!r}")
        self.act = nnx.relu if activation == "relu" else nnx.tanh
        self.pool = _max_pool if activation == "relu" else _avg_pool
        self.c1 = nnx.Conv(IMAGE_SHAPE[-1], 6, kernel_size=(5, 5), padding="SAME", rngs=rngs)
        self.c3 = nnx.Conv(6, 16, kernel_size=(5, 5), padding="VALID", rngs=rngs)
        self.f5 = nnx.Linear(5 * 5 * 16, 120, rngs=rngs)
        self.f6 = nnx.Linear(120, 84, rngs=rngs)
        self.logits = nnx.Linear(84, NUM_CLASSES, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        x = self.pool(self.act(self.c1(x)))  # 28x28x6 -> 14x14x6
        x = self.pool(self.act(self.c3(x)))  # 10x10x16 -> 5x5x16
        x = x.reshape(x.shape[0], -1)
        return self.logits(self.act(self.f6(self.act(self.f5(x)))))


class ConvBN(nnx.Module):
    """3x3 convolution without bias, BatchNorm, ReLU: the unit of most modern CNNs."""

    def __init__(self, channels_in: int, channels_out: int, rngs: nnx.Rngs):
        self.conv = nnx.Conv(channels_in, channels_out, kernel_size=(3, 3), use_bias=False, rngs=rngs)
        self.norm = nnx.BatchNorm(channels_out, momentum=0.9, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        return nnx.relu(self.norm(self.conv(x)))


class BatchNormCNN(nnx.Module):
    """Three conv-BatchNorm-ReLU stages, global average pooling, Dropout, dense 10.

    Average pools after the first two stages take 28x28 to 7x7 (max pooling
    learns about as well but its backward pass is twice as slow on a CPU);
    the third stage's ``2 * features`` channels are averaged over the 7x7
    positions, so the classifier sees one number per channel wherever the
    stroke was.
    """

    def __init__(self, rngs: nnx.Rngs, *, features: int = 32, dropout: float = 0.3):
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.stage1 = ConvBN(IMAGE_SHAPE[-1], features, rngs)
        self.stage2 = ConvBN(features, 2 * features, rngs)
        self.stage3 = ConvBN(2 * features, 2 * features, rngs)
        self.dropout = nnx.Dropout(dropout, rngs=rngs)
        self.logits = nnx.Linear(2 * features, NUM_CLASSES, rngs=rngs)

    def __call__(self, x: jax.Array) -> jax.Array:
        x = _avg_pool(self.stage1(x))
        x = _avg_pool(self.stage2(x))
        x = self.stage3(x).mean(axis=(1, 2))
        return self.logits(self.dropout(x))


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
