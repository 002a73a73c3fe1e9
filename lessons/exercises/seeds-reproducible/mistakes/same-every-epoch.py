"""A key from the seed alone: every epoch visits the images in the same order."""

import jax
from flax import nnx
from mnistkit_plugins.networks import TutorialCNN


def make_model(seed):
    return TutorialCNN(nnx.Rngs(seed))


def epoch_order(seed, epoch, n):
    return jax.random.permutation(jax.random.key(seed), n)
