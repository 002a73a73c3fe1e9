"""Checker of pipeline-epochs: a stream of epochs, each N // batch_size full batches with no image twice, in new orders."""

import numpy as np

from mnistkit.curriculum.checks import Failed, function

COUNT, BATCH, EPOCHS, SEED = 100, 8, 3, 5


def _numbered():
    """COUNT images whose first pixel is their index (the rest noise), labelled index % 10."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(COUNT, 28, 28)).astype(np.uint8)
    images[:, 0, 0] = np.arange(COUNT)
    return images, (np.arange(COUNT) % 10).astype(np.int32)


def _stream(train_pipeline, seed: int) -> tuple[list[int], np.ndarray]:
    """The sizes of the batches and the indices of the images, in the order the stream gives them."""
    import tensorflow as tf

    images, labels = _numbered()
    dataset = train_pipeline(images, labels, BATCH, EPOCHS, seed)
    if not isinstance(dataset, tf.data.Dataset):
        raise Failed(f"train_pipeline returned a {type(dataset).__name__}; it must return the tf.data.Dataset it builds.")
    if dataset.cardinality().numpy() == tf.data.INFINITE_CARDINALITY:
        raise Failed("your stream never ends: .repeat() without a count repeats forever; use .repeat(epochs).")
    batches = list(dataset.take(2 * EPOCHS * COUNT // BATCH + 10).as_numpy_iterator())
    if not batches:
        raise Failed("your training stream yields nothing at all.")
    first = batches[0]
    if not isinstance(first, dict) or set(first) != {"image", "label"}:
        raise Failed('each batch must be the dict scale returns, with the keys "image" and "label": map scale after batching.')
    shape = first["image"].shape
    if len(shape) != 4 or shape[1:] != (28, 28, 1) or first["image"].dtype != np.float32:
        raise Failed(f"the batches hold {first['image'].dtype} images of shape {shape}; batch the examples and map the "
                     "starter's scale over the batches to get float32 (B, 28, 28, 1).")
    ids = np.rint(np.concatenate([batch["image"][:, 0, 0, 0] for batch in batches]) * 255).astype(int)
    if not np.array_equal(np.concatenate([batch["label"] for batch in batches]), ids % 10):
        raise Failed("some images come out with the wrong labels: keep each image paired with its label.")
    return [len(batch["label"]) for batch in batches], ids


def _twice(ids: np.ndarray) -> int | None:
    """An index that occurs more than once in ``ids``, or None."""
    seen = np.bincount(ids, minlength=COUNT)
    return int(seen.argmax()) if seen.max() > 1 else None


def check(learner):
    train_pipeline = function(learner, "train_pipeline")
    sizes, ids = _stream(train_pipeline, SEED)
    per_epoch = COUNT // BATCH
    length = per_epoch * BATCH  # the examples of one epoch
    setting = f"{COUNT} images, batch_size={BATCH}, epochs={EPOCHS}"
    image = _twice(ids[:length])
    if image is not None:
        raise Failed(f"with {setting}, image #{image} comes out twice among the first {length} examples (the first epoch) "
                     "while others have not come out yet: shuffling after repeat lets the buffer mix neighbouring epochs. "
                     "Shuffle before repeat: .shuffle(...).batch(...).repeat(epochs).")
    if any(size != BATCH for size in sizes):
        raise Failed(f"with batch_size={BATCH} your stream has batches of {sorted(set(sizes))} images: drop the last partial "
                     "batch of each epoch with .batch(batch_size, drop_remainder=True), so every step has one shape.")
    expected = EPOCHS * per_epoch
    if len(sizes) != expected:
        if len(sizes) == per_epoch:
            raise Failed(f"with {setting} your stream holds {len(sizes)} batches, one epoch; it must hold {EPOCHS} epochs of "
                         f"{per_epoch}, {expected} batches: add .repeat(epochs) after batching.")
        passes = [ids[k * COUNT:(k + 1) * COUNT] for k in range(len(ids) // COUNT)]
        if len(sizes) == EPOCHS * COUNT // BATCH and any(_twice(chunk) is not None for chunk in passes):
            raise Failed(f"with {setting} the stream's passes of {COUNT} examples hold images twice: shuffling after repeat "
                         "lets the buffer mix neighbouring epochs. Shuffle before repeat: .shuffle(...).batch(...).repeat(epochs).")
        if len(sizes) == EPOCHS * COUNT // BATCH:
            raise Failed(f"with {setting} your stream holds {len(sizes)} batches, not {EPOCHS} x {per_epoch} = {expected}: "
                         "batching after repeat makes batches straddle the seam between two epochs. Batch (with "
                         "drop_remainder=True) before you repeat.")
        raise Failed(f"with {setting} your stream holds {len(sizes)} batches; {EPOCHS} epochs of {COUNT} // {BATCH} = "
                     f"{per_epoch} batches make {expected}.")
    epochs = ids.reshape(EPOCHS, length)
    for number, epoch in enumerate(epochs, start=1):
        image = _twice(epoch)
        if image is not None:
            raise Failed(f"image #{image} comes out twice in epoch {number} (batches {(number - 1) * per_epoch + 1} to "
                         f"{number * per_epoch}): the shuffle buffer mixes epochs. Shuffle before repeat, and batch "
                         "before repeat too.")
    if all(np.array_equal(epoch, epochs[0]) for epoch in epochs[1:]):
        raise Failed(f"all {EPOCHS} epochs come in the same order: shuffle with reshuffle_each_iteration=True (the default), "
                     "before repeat, so that every pass is shuffled anew.")
    if np.array_equal(epochs[0], np.sort(epochs[0])):
        raise Failed("the first epoch comes in the order the images were given: shuffle the examples before batching.")
    _, again = _stream(train_pipeline, SEED)
    if not np.array_equal(again, ids):
        raise Failed(f"two streams built with seed={SEED} come in different orders: pass seed=seed to shuffle, so a run "
                     "can be repeated.")
    _, other = _stream(train_pipeline, SEED + 1)
    if np.array_equal(other, ids):
        raise Failed(f"seed={SEED} and seed={SEED + 1} give the same stream: pass the seed you are given to shuffle, "
                     "not a number of your own.")
    return "train_pipeline gives whole epochs of full batches, each a new order without repeats, the same for the same seed."
