"""Exercise pipeline-scale, a reference solution."""

import tensorflow as tf


def scale(images, labels):
    """Turn a batch of uint8 images (B, 28, 28) into float32 (B, 28, 28, 1) in [0, 1]; labels as int32."""
    images = tf.cast(images, tf.float32)[..., tf.newaxis] / 255.0
    return {"image": images, "label": tf.cast(labels, tf.int32)}
