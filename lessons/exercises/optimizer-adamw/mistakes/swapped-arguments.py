"""The numbers given by position, in the wrong order: 0.9 lands in learning_rate, 0.005 in b1."""

import optax
from flax import nnx


def make_optimizer(model):
    return nnx.Optimizer(model, optax.adamw(0.9, 0.005), wrt=nnx.Param)
