"""The spelling of older Flax: nnx.Optimizer without wrt=."""

import optax
from flax import nnx


def make_optimizer(model):
    return nnx.Optimizer(model, optax.adamw(learning_rate=0.005, b1=0.9))
