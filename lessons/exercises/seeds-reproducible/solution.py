"""Exercise seeds-reproducible, a reference solution."""

import jax
from flax import nnx
from mnistkit_plugins.networks import TutorialCNN


def make_model(seed):
    """The lesson's TutorialCNN with weights drawn from nnx.Rngs(seed)."""
    return TutorialCNN(nnx.Rngs(seed))


def epoch_order(seed, epoch, n):
    """The order of the n training images in `epoch`: a permutation of 0 .. n-1 decided by seed and epoch."""
    key = jax.random.fold_in(jax.random.key(seed), epoch)
    return jax.random.permutation(key, n)
