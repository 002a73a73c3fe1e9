"""Exercise forward-probabilities, a reference solution."""

import jax


def classify(model, images):
    """(probs (B, 10), each row summing to 1; guesses (B,), the most likely digit) for a batch of images."""
    logits = model(images)
    return jax.nn.softmax(logits, axis=-1), logits.argmax(axis=-1)
