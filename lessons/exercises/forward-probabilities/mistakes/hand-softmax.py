"""Softmax by hand: exp overflows for large logits and inf / inf is nan."""

import jax.numpy as jnp


def classify(model, images):
    logits = model(images)
    exps = jnp.exp(logits)
    probs = exps / exps.sum(axis=-1, keepdims=True)
    return probs, probs.argmax(axis=-1)
