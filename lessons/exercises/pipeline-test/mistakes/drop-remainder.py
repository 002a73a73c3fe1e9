"""The original tutorial's test pipeline: the training pipeline's drop_remainder=True, copied over."""

import tensorflow as tf


def scale(images, labels):
    images = tf.cast(images, tf.float32)[..., tf.newaxis] / 255.0
    return {"image": images, "label": tf.cast(labels, tf.int32)}


def test_pipeline(images, labels, batch_size):
    return (
        tf.data.Dataset.from_tensor_slices((images, labels))
        .batch(batch_size, drop_remainder=True)
        .map(scale, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )
