"""A NumPy copy updated in place: right eagerly, impossible under jax.jit."""

import numpy as np


def tally(counts, digits):
    counts = np.array(counts)
    np.add.at(counts, np.asarray(digits), 1)
    return counts
