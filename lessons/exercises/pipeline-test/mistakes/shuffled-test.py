"""The training pipeline's shuffle kept in the test pipeline: every image once, but not in order."""

import tensorflow as tf


def scale(images, labels):
    images = tf.cast(images, tf.float32)[..., tf.newaxis] / 255.0
    return {"image": images, "label": tf.cast(labels, tf.int32)}


def test_pipeline(images, labels, batch_size):
    return (
        tf.data.Dataset.from_tensor_slices((images, labels))
        .shuffle(1024, seed=0)
        .batch(batch_size)
        .map(scale, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )
