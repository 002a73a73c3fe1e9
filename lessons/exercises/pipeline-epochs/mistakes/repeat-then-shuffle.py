"""The original tutorial's order: repeat first, shuffle the long stream afterwards."""

import tensorflow as tf


def scale(images, labels):
    images = tf.cast(images, tf.float32)[..., tf.newaxis] / 255.0
    return {"image": images, "label": tf.cast(labels, tf.int32)}


def train_pipeline(images, labels, batch_size, epochs, seed):
    return (
        tf.data.Dataset.from_tensor_slices((images, labels))
        .repeat(epochs)
        .shuffle(1024, seed=seed)
        .batch(batch_size, drop_remainder=True)
        .map(scale, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )
