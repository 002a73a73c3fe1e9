"""Adam instead of AdamW: the same steps, but nothing pulls the weights towards zero."""

import optax
from flax import nnx


def make_optimizer(model):
    return nnx.Optimizer(model, optax.adam(learning_rate=0.005, b1=0.9), wrt=nnx.Param)
