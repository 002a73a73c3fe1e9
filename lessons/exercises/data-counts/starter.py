"""Exercise data-counts: count each digit in a split and find its pixel range.

Check your work with:  mnistkit exercise check data-counts
"""

import numpy as np


def describe(images, labels):
    """Facts about one split: {"counts": 10 counts (one per digit), "min": lowest pixel, "max": highest pixel}."""
    counts = np.zeros(10, dtype=np.int64)  # TODO: count how many labels equal each digit 0..9
    lowest, highest = 0, 0  # TODO: the smallest and largest pixel value in images
    return {"counts": counts, "min": lowest, "max": highest}
