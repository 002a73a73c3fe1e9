"""Softmax applied first: the loss function gets probabilities where it wants logits."""

import optax
from flax import nnx


def loss_fn(model, images, labels):
    logits = model(images)
    probabilities = nnx.softmax(logits)
    loss = optax.softmax_cross_entropy_with_integer_labels(probabilities, labels).mean()
    return loss, logits
