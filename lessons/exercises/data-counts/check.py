"""Checker of data-counts: describe's digit counts and pixel range, on the sample and on generated arrays."""

import numpy as np

from mnistkit.curriculum.checks import Failed, function, sample


def _show(values) -> str:
    return "[" + " ".join(str(int(v)) for v in values) + "]"


def _generated():
    """500 unbalanced labels with no 9 among them, and pixels from 7 to 201 (not 0 to 255)."""
    rng = np.random.default_rng(2)
    labels = rng.choice(9, size=500, p=np.linspace(1, 3, 9) / np.linspace(1, 3, 9).sum()).astype(np.int32)
    images = rng.integers(7, 202, size=(500, 28, 28)).astype(np.uint8)
    images[0, 0, 0], images[1, 5, 5] = 7, 201
    return images, labels


def _facts(describe, images, labels, what: str):
    result = describe(images, labels)
    if not isinstance(result, dict) or not {"counts", "min", "max"} <= set(result):
        raise Failed('describe must return a dict with the keys "counts", "min" and "max".')
    counts = np.asarray(result["counts"])
    if counts.ndim != 1 or not np.issubdtype(counts.dtype, np.number):
        raise Failed(f'"counts" must be a list of ten numbers, one per digit; yours has shape {counts.shape}.')
    expected = np.bincount(labels, minlength=10)
    if len(counts) < 10:
        missing = ", ".join(str(d) for d in range(10) if expected[d] == 0)
        raise Failed(f"describe returned {len(counts)} counts for {what}, where the digit {missing} never occurs: an absent digit "
                     "still needs its count, 0. np.bincount(labels, minlength=10) always gives all ten.")
    if len(counts) > 10:
        raise Failed(f"describe returned {len(counts)} counts for {what}; there are ten digits, 0 to 9, so ten counts.")
    if counts.sum() != len(labels):
        raise Failed(f"your counts add up to {int(counts.sum()):,}, but there are {len(labels):,} labels in {what}: "
                     "count the labels you are given, e.g. np.bincount(labels, minlength=10).")
    if not np.array_equal(counts, expected):
        raise Failed(f"for {what} your counts are {_show(counts)} but the labels hold {_show(expected)}: count the labels you are "
                     "given, counts[d] being how many labels equal d.")
    try:
        low, high = int(result["min"]), int(result["max"])
    except (TypeError, ValueError):
        raise Failed('"min" and "max" must be single numbers, the lowest and highest pixel value in the images.') from None
    if (low, high) != (int(images.min()), int(images.max())):
        raise Failed(f"for {what} you report pixels from {low} to {high}, but they run from {int(images.min())} to "
                     f"{int(images.max())}: take images.min() and images.max() of the images you are given.")


def check(learner):
    describe = function(learner, "describe")
    data = sample()
    _facts(describe, data.train_images, data.train_labels, "the sample's training split")
    images, labels = _generated()
    _facts(describe, images, labels, "a generated split")
    _facts(describe, data.test_images, data.test_labels, "the sample's test split")
    return "describe counts every digit (absent ones too) and finds the pixel range of the arrays it is given."
