"""Checker of pipeline-test: every image through the test pipeline exactly once, in order, the last partial batch kept."""

import numpy as np

from mnistkit.curriculum.checks import Failed, function, sample


def _numbered(count: int):
    """``count`` sample images whose pixels (0, 0) and (0, 1) hold their index (low and high byte), and their labels."""
    data = sample()
    images = np.concatenate([data.test_images, data.train_images])[:count].copy()
    labels = np.concatenate([data.test_labels, data.train_labels])[:count].copy()
    index = np.arange(count)
    images[:, 0, 0], images[:, 0, 1] = index % 256, index // 256
    return images, labels


def _batches(test_pipeline, images, labels, batch_size):
    import tensorflow as tf

    dataset = test_pipeline(images, labels, batch_size)
    if not isinstance(dataset, tf.data.Dataset):
        raise Failed(f"test_pipeline returned a {type(dataset).__name__}; it must return the tf.data.Dataset it builds.")
    batches = list(dataset.as_numpy_iterator())
    if not batches:
        raise Failed("your test pipeline yields nothing at all: start from the examples and batch them.")
    first = batches[0]
    if isinstance(first, tuple) and len(first) == 2:
        shape = np.shape(first[0])
        if len(shape) == 2:
            raise Failed(f"your dataset yields single images of shape {shape}, not batches: add .batch(batch_size), "
                         "then .map(scale) over the batches.")
        raise Failed("your dataset yields (images, labels) pairs, not scale's dicts: map scale over the batches.")
    if not isinstance(first, dict) or set(first) != {"image", "label"}:
        raise Failed('each batch must be the dict scale returns, with the keys "image" and "label".')
    shape = first["image"].shape
    if len(shape) == 3:
        raise Failed(f"your dataset yields single images of shape {shape}, not batches: add .batch(batch_size).")
    if len(shape) != 4 or shape[1:] != (28, 28, 1) or first["image"].dtype != np.float32:
        raise Failed(f"the batches hold {first['image'].dtype} images of shape {shape}; map the starter's scale over them "
                     "to get float32 (B, 28, 28, 1).")
    return batches


def _run(test_pipeline, count: int, batch_size: int) -> None:
    images, labels = _numbered(count)
    batches = _batches(test_pipeline, images, labels, batch_size)
    sizes = [len(batch["label"]) for batch in batches]
    if any(size != batch_size for size in sizes[:-1]) or sizes[-1] > batch_size:
        raise Failed(f"with batch_size={batch_size} your batches hold {sorted(set(sizes))} images; every batch but the last "
                     "must hold batch_size images: pass batch_size to .batch.")
    pixels = np.concatenate([batch["image"][:, 0, :2, 0] for batch in batches])
    if pixels.max() > 1.0:
        raise Failed("the pixels are not in [0, 1]: map the starter's scale over the batches.")
    ids = np.rint(pixels[:, 0] * 255).astype(int) + 256 * np.rint(pixels[:, 1] * 255).astype(int)
    got_labels = np.concatenate([batch["label"] for batch in batches])
    if ids.max() >= count or not np.array_equal(got_labels, labels[ids]):
        raise Failed("some images come out with the wrong labels: keep each image paired with its label.")
    seen = np.bincount(ids, minlength=count)
    if seen.max() > 1:
        image = int(seen.argmax())
        raise Failed(f"image #{image} comes out {int(seen.max())} times: a test pipeline gives every image exactly once "
                     "(no repeat).")
    missing = np.flatnonzero(seen == 0)
    if len(missing):
        full, left = divmod(count, batch_size)
        if np.array_equal(missing, np.arange(count - left, count)):
            raise Failed(f"your test pipeline drops the last {left} of the {count:,} images ({count:,} = {full} x {batch_size} "
                         f"+ {left}), so they are never scored: keep the last partial batch, .batch(batch_size) without "
                         "drop_remainder=True.")
        raise Failed(f"your test pipeline drops {len(missing)} of the {count:,} images (image #{int(missing[0])} among them); "
                     "every test image must be scored once.")
    if not np.array_equal(ids, np.arange(count)):
        shown = ", ".join(f"#{i}" for i in ids[:4])
        raise Failed(f"every image comes out once, but not in order (the first batch starts with images {shown}): the "
                     "score would not change, but a shuffle buys nothing here and costs time (its buffer fills before the "
                     "first batch), and in order result i belongs to images[i]. Remove the shuffle.")


def check(learner):
    test_pipeline = function(learner, "test_pipeline")
    _run(test_pipeline, 1000, 32)
    _run(test_pipeline, 203, 50)
    return "test_pipeline gives every image exactly once, in order, with the last partial batch kept."
