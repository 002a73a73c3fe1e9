"""The NumPy habit: shuffle with np.random, whose hidden global state moves on at every call."""

import numpy as np
from flax import nnx
from mnistkit_plugins.networks import TutorialCNN


def make_model(seed):
    return TutorialCNN(nnx.Rngs(seed))


def epoch_order(seed, epoch, n):
    return np.random.permutation(n)
