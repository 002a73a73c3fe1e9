"""The original tutorial's slip: the images come from a global batch, not from the argument."""

import numpy as np
from flax import nnx

from mnistkit.data import load_mnist

data = load_mnist("sample")
test_images = data.test_images[:25].astype(np.float32)[..., np.newaxis] / 255.0


@nnx.jit
def pred_step(model, images):
    return model(test_images).argmax(axis=-1)
