"""The seed argument is accepted and ignored: every model starts from nnx.Rngs(0)."""

import jax
from flax import nnx
from mnistkit_plugins.networks import TutorialCNN


def make_model(seed):
    return TutorialCNN(nnx.Rngs(0))


def epoch_order(seed, epoch, n):
    return jax.random.permutation(jax.random.fold_in(jax.random.key(seed), epoch), n)
