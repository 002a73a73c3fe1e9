"""Exercise optimizer-adamw, a reference solution."""

import optax
from flax import nnx


def make_optimizer(model):
    """An nnx.Optimizer that trains model's nnx.Param variables with AdamW (learning rate 0.005, b1 0.9)."""
    tx = optax.adamw(learning_rate=0.005, b1=0.9)
    return nnx.Optimizer(model, tx, wrt=nnx.Param)
