"""Checker of optimizer-adamw: three updates on a tiny model, compared with optax.adamw applied by hand."""

import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from mnistkit.curriculum.checks import Failed, function

LEARNING_RATE = 0.005
WEIGHT_DECAY = 1e-4  # optax.adamw's default
START = {"w": [0.5, -1.0, 2.0, 1000.0, -0.25, -1000.0], "b": [0.1, -0.2]}
# The gradients of the three steps; w[3] and w[5] (large weights) get a zero gradient on the first one.
GRADIENTS = [
    {"w": [0.3, -2.0, 1e-3, 0.0, 4.0, 0.0], "b": [0.05, -0.7]},
    {"w": [-0.1, 0.5, 0.02, 0.3, 1.0, -0.2], "b": [0.3, 0.1]},
    {"w": [0.2, 0.2, -0.4, 0.0, -2.0, 0.1], "b": [-0.5, 0.01]},
]
SMALL = np.array([True, True, True, False, True, False])  # the weights with a gradient on the first step
LARGE = ~SMALL


class Tiny(nnx.Module):
    def __init__(self):
        self.w = nnx.Param(jnp.array(START["w"], jnp.float32))
        self.b = nnx.Param(jnp.array(START["b"], jnp.float32))


def _weights(model):
    return {"w": np.array(model.w[...]), "b": np.array(model.b[...])}


def _update(optimizer, model, gradient):
    """One optimizer.update with the gradients of a linear loss, sum(c * weights), whose gradient is c."""
    c_w, c_b = jnp.array(gradient["w"], jnp.float32), jnp.array(gradient["b"], jnp.float32)
    grads = nnx.grad(lambda m: jnp.sum(c_w * m.w[...]) + jnp.sum(c_b * m.b[...]))(model)
    optimizer.update(model, grads)
    return _weights(model)


def _reference():
    """The weights after each step of optax.adamw(learning_rate=0.005, b1=0.9), applied by hand."""
    tx = optax.adamw(learning_rate=LEARNING_RATE, b1=0.9)
    params = {k: jnp.array(v, jnp.float32) for k, v in START.items()}
    state = tx.init(params)
    found = []
    for gradient in GRADIENTS:
        grads = {k: jnp.array(v, jnp.float32) for k, v in gradient.items()}
        updates, state = tx.update(grads, state, params)
        params = optax.apply_updates(params, updates)
        found.append({k: np.array(v) for k, v in params.items()})
    return found


def _same(a, b):
    return all(np.allclose(a[k], b[k], rtol=1e-6, atol=1e-7) for k in a)


def check(learner):
    make_optimizer = function(learner, "make_optimizer")
    model = Tiny()
    try:
        optimizer = make_optimizer(model)
    except TypeError as err:
        if "wrt" in str(err):
            raise Failed("nnx.Optimizer raised a TypeError because wrt= is missing: since Flax 0.11 you must say which "
                         "variables to train, nnx.Optimizer(model, tx, wrt=nnx.Param).") from None
        raise
    if not isinstance(optimizer, nnx.Optimizer):
        raise Failed(f"make_optimizer returned a {type(optimizer).__name__}, not an nnx.Optimizer: wrap the optax "
                     "optimizer with nnx.Optimizer(model, tx, wrt=nnx.Param).")
    start = _weights(model)
    first = _update(optimizer, model, GRADIENTS[0])
    step = np.abs(first["w"] - start["w"])
    if not (step > 0).any():
        raise Failed("one optimizer.update(model, grads) left every weight where it was; build the optimizer on the "
                     "model it is given, with a learning rate above 0.")
    moved = np.concatenate([step[SMALL], np.abs(first["b"] - start["b"])])
    if moved.max() > 1.5 * moved.min():
        raise Failed("on the first step each weight moved in proportion to its gradient, as plain gradient descent "
                     "(optax.sgd) does; Adam moves every weight by about the learning rate. Use optax.adamw.")
    rate = float(np.median(moved))
    if not np.isclose(rate, LEARNING_RATE, rtol=0.01):
        raise Failed(f"the first step moved each weight by about {rate:.2g}, so your learning rate is {rate:.2g}, not "
                     "the lesson's 0.005: pass learning_rate=0.005 (and b1=0.9, by name, so the two cannot swap).")
    decay = first["w"][LARGE] - start["w"][LARGE]
    if (decay == 0).all():
        raise Failed("a weight with a zero gradient did not move at all: there is no weight decay, which is what "
                     "optax.adam lacks and optax.adamw adds. Use optax.adamw.")
    expected = -LEARNING_RATE * WEIGHT_DECAY * start["w"][LARGE]
    if not np.allclose(decay, expected, rtol=0.2):
        raise Failed(f"a weight of 1000 with a zero gradient moved by {decay[0]:.3g} instead of {expected[0]:.3g}: "
                     "keep optax.adamw's default weight decay (1e-4).")
    reference = _reference()
    if not _same(first, reference[0]):
        raise Failed("your first step differs from optax.adamw(learning_rate=0.005, b1=0.9) applied by hand; "
                     "build exactly that optimizer.")
    for number, gradient in enumerate(GRADIENTS[1:], start=2):
        if not _same(_update(optimizer, model, gradient), reference[number - 1]):
            raise Failed(f"the first step matches AdamW but step {number} does not: the running averages are steered "
                         "by other values than the lesson's; pass b1=0.9 and leave b2 at its default.")
    return "make_optimizer builds AdamW at learning rate 0.005 with b1 0.9, and its three updates match optax.adamw's."
