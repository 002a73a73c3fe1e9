"""np.bincount without minlength: one count short when the largest digit is missing."""

import numpy as np


def describe(images, labels):
    return {"counts": np.bincount(labels), "min": int(images.min()), "max": int(images.max())}
