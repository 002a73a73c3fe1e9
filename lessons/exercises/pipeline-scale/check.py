"""Checker of pipeline-scale: map the learner's scale over sample batches with tf.data."""

import numpy as np

from mnistkit.curriculum.checks import Failed, function, sample


def check(learner):
    import tensorflow as tf

    scale = function(learner, "scale")
    data = sample(train=64, test=0)
    images = data.train_images.copy()
    images[0, 0, 0], images[0, 0, 1] = 255, 0  # a white and a black pixel, whatever the digit
    dataset = tf.data.Dataset.from_tensor_slices((images, data.train_labels)).batch(32)
    try:
        batches = list(dataset.map(scale).as_numpy_iterator())
    except TypeError as err:
        if "uint8" in str(err) or "DType" in str(err) or "dtype" in str(err):
            raise Failed("TensorFlow refuses to divide a uint8 tensor by a float: divide before you cast and it raises "
                         "a TypeError. Cast to tf.float32 first, then divide by 255.0.") from None
        raise
    first = batches[0]
    if not isinstance(first, dict) or set(first) != {"image", "label"}:
        raise Failed("scale must return a dict with two keys, \"image\" and \"label\".")
    pixels, labels = first["image"], first["label"]
    if pixels.dtype == np.uint8:
        raise Failed("the images are still uint8: cast them with tf.cast(images, tf.float32) before dividing by 255.")
    if pixels.dtype != np.float32:
        raise Failed(f"the images are {pixels.dtype}, not float32: cast them with tf.cast(images, tf.float32).")
    if pixels.shape != (32, 28, 28, 1):
        raise Failed(f"the images have shape {pixels.shape}; the convolutions want (B, 28, 28, 1): add the channel "
                     "axis at the end with images[..., tf.newaxis].")
    low, high = float(pixels.min()), float(pixels.max())
    if low < 0 or high > 1:
        raise Failed(f"the pixels run from {low:g} to {high:g}; they must lie in [0, 1]: divide by 255.0.")
    if not np.isclose(pixels[0, 0, 0, 0], 1.0) or pixels[0, 0, 1, 0] != 0.0:
        raise Failed(f"a white pixel (255) became {pixels[0, 0, 0, 0]:g}, not 1.0: divide by 255.0, not another number.")
    expected = images[:32].astype(np.float32)[..., None] / 255.0
    if not np.allclose(pixels, expected, atol=1e-6):
        raise Failed("some pixels are not their value divided by 255: scale every pixel the same way, in order.")
    if labels.dtype != np.int32 or not np.array_equal(labels, data.train_labels[:32]):
        raise Failed("the labels must come back unchanged, as int32: tf.cast(labels, tf.int32).")
    return "scale gives float32 images in [0, 1] with a channel axis, and the labels unchanged."
