"""argmax with no axis: one index into the flattened batch, not a digit per image."""

import jax


def classify(model, images):
    logits = model(images)
    return jax.nn.softmax(logits, axis=-1), logits.argmax()
