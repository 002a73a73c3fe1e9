"""Exercise optimizer-adamw: build the optimizer of the tutorial, AdamW wrapped in nnx.Optimizer.

Check your work with:  mnistkit exercise check optimizer-adamw
"""

import optax
from flax import nnx


def make_optimizer(model):
    """An nnx.Optimizer that trains model's nnx.Param variables with AdamW (learning rate 0.005, b1 0.9)."""
    # TODO: replace plain gradient descent with optax.adamw, at the lesson's learning rate and b1,
    #       both passed by name.
    tx = optax.sgd(learning_rate=0.005)
    return nnx.Optimizer(model, tx, wrt=nnx.Param)
