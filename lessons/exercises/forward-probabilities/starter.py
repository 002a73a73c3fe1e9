"""Exercise forward-probabilities: turn a model's logits into probabilities and guessed digits.

Check your work with:  mnistkit exercise check forward-probabilities
"""

import jax
import jax.numpy as jnp


def classify(model, images):
    """(probs (B, 10), each row summing to 1; guesses (B,), the most likely digit) for a batch of images."""
    logits = model(images)
    probs = logits  # TODO: turn each row of logits into probabilities
    guesses = jnp.zeros(len(images), dtype=jnp.int32)  # TODO: the most likely digit of each image
    return probs, guesses
