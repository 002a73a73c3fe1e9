"""Exercise data-counts, a reference solution."""

import numpy as np


def describe(images, labels):
    """Facts about one split: {"counts": 10 counts (one per digit), "min": lowest pixel, "max": highest pixel}."""
    counts = np.bincount(labels, minlength=10)
    return {"counts": counts, "min": int(images.min()), "max": int(images.max())}
