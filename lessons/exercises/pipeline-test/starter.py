"""Exercise pipeline-test: a test pipeline that scores every test image, in order.

Check your work with:  mnistkit exercise check pipeline-test
"""

import tensorflow as tf


def scale(images, labels):
    images = tf.cast(images, tf.float32)[..., tf.newaxis] / 255.0
    return {"image": images, "label": tf.cast(labels, tf.int32)}


def test_pipeline(images, labels, batch_size):
    """Batches of every (image, label), in order, the last batch smaller if need be, scaled by `scale`."""
    examples = tf.data.Dataset.from_tensor_slices((images, labels))
    # TODO: batch the examples (keep the last, smaller batch), map scale over the batches, then prefetch.
    return examples
