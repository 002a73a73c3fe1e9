"""The tutorial's tf.data input pipeline over in-memory MNIST arrays."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mnistkit.data import lazy
from mnistkit.errors import ConfigError

if TYPE_CHECKING:
    import tensorflow as tf

    from mnistkit.data.sources import MnistArrays


def make_tf_datasets(
    arrays: MnistArrays, batch_size: int, seed: int, *, shuffle_buffer: int = 1024
) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    """Build the train and test ``tf.data`` pipelines; one pass over each is an epoch.

    Both yield dicts ``{"image": float32 (B, 28, 28, 1) in [0, 1], "label":
    int32 (B,)}``. Train examples are shuffled (buffer ``shuffle_buffer``,
    ``seed``; a new order on each pass, the same sequence of orders for the
    same seed) before batching, and the last partial batch is dropped so every
    train step has the same shape. Test examples keep their order and the last
    batch may be smaller, so evaluation sees every test image exactly once.
    There is no ``repeat``: iterate the train dataset once per epoch.

    Raises ``ConfigError`` when ``batch_size`` is below 1 or larger than the
    training set (which would give no train batch at all).
    """
    num_train = len(arrays.train_labels)
    if batch_size < 1:
        raise ConfigError(f"batch size must be at least 1, not {batch_size}")
    if batch_size > num_train:
        raise ConfigError(
            f"batch size {batch_size} is larger than the {num_train:,} training images "
            f"({arrays.description}); choose a smaller one"
        )
    tf = lazy.import_tensorflow()
    autotune = tf.data.AUTOTUNE

    def scale(images, labels):  # tf.Tensors, inside tf.data's graph
        images = tf.cast(images, tf.float32)[..., tf.newaxis] / 255.0
        return {"image": images, "label": tf.cast(labels, tf.int32)}

    train = (
        tf.data.Dataset.from_tensor_slices((arrays.train_images, arrays.train_labels))
        .shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size, drop_remainder=True)
        .map(scale, num_parallel_calls=autotune)
        .prefetch(autotune)
    )
    test = (
        tf.data.Dataset.from_tensor_slices((arrays.test_images, arrays.test_labels))
        .batch(batch_size)
        .map(scale, num_parallel_calls=autotune)
        .prefetch(autotune)
    )
    return train, test
