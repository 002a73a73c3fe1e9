"""Checker of example-residual: compare the learner's block with the formula, on the block's own convolutions."""

import jax
import numpy as np
from flax import nnx

from mnistkit.curriculum.checks import Failed, function


def check(learner):
    block_class = function(learner, "ResidualBlock")
    block = block_class(4, rngs=nnx.Rngs(0))
    x = jax.random.normal(jax.random.key(1), (2, 14, 14, 4))
    out = np.asarray(block(x))
    if out.shape != x.shape:
        raise Failed(f"the block turned {x.shape} into {out.shape}; a residual block keeps the shape of its input.")
    inner = block.conv2(nnx.relu(block.conv1(x)))
    if np.allclose(out, x):
        raise Failed("the block returns its input unchanged: add what conv1 and conv2 make of it.")
    if np.allclose(out, nnx.relu(inner), atol=1e-5):
        raise Failed("the output leaves out the input: add x before the last ReLU (the skip connection).")
    if np.allclose(out, x + nnx.relu(inner), atol=1e-5):
        raise Failed("the last ReLU comes before the addition; apply it after the addition, to x + conv2(...).")
    if not np.allclose(out, nnx.relu(x + inner), atol=1e-5):
        raise Failed("the output is not relu(x + conv2(relu(conv1(x)))); compare your formula with the task's.")
    return "the block computes relu(x + conv2(relu(conv1(x)))) and keeps its input's shape."
