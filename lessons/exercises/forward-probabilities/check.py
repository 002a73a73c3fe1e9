"""Checker of forward-probabilities: classify's probabilities (rows summing to 1) and guesses against softmax and argmax."""

import numpy as np

from mnistkit.curriculum.checks import Failed, function, sample


def _tiny_model(seed: int, offset: float):
    """A small untrained NNX model: one dense layer from the 784 pixels to 10 logits, spread out, plus ``offset``.

    Its weights are drawn with NumPy (as nnx.Linear would draw them, scaled by 1 / sqrt(784)), which saves the
    seconds an eager initialiser takes to compile.
    """
    import jax.numpy as jnp
    from flax import nnx

    rng = np.random.default_rng(seed)

    class Tiny(nnx.Module):
        def __init__(self):
            self.kernel = nnx.Param(jnp.asarray(rng.normal(0, 28 ** -1, size=(28 * 28, 10)), jnp.float32))
            self.bias = nnx.Param(jnp.asarray(rng.normal(0, 0.1, size=10), jnp.float32))

        def __call__(self, x):
            return 5.0 * (x.reshape(x.shape[0], -1) @ self.kernel + self.bias) + offset

    return Tiny()


def _case(classify, seed: int, count: int, offset: float) -> None:
    import jax

    data = sample()
    images = data.test_images[seed * 10:seed * 10 + count].astype(np.float32)[..., np.newaxis] / 255.0
    model = _tiny_model(seed, offset)
    logits = np.asarray(model(images))
    result = classify(model, images)
    if not isinstance(result, tuple | list) or len(result) != 2:
        raise Failed("classify must return two arrays, probs and guesses: `return probs, guesses`.")
    probs, guesses = np.asarray(result[0]), np.asarray(result[1])
    if probs.shape != (count, 10):
        raise Failed(f"for {count} images your probs have shape {probs.shape}; they must have one row of ten per image, "
                     f"({count}, 10).")
    if np.isnan(probs).any():
        raise Failed("some of your probabilities are nan: with large logits exp overflows to inf, and inf / inf is nan. "
                     "Use jax.nn.softmax, which subtracts the largest logit first.")
    rows = probs.sum(axis=-1)
    if not np.allclose(rows, 1.0, atol=1e-5):
        if np.allclose(probs.sum(axis=0), 1.0, atol=1e-5):
            raise Failed("each column of your probs sums to 1, not each row: you took the softmax over axis 0, the batch "
                         "axis. An image's ten scores lie along the last axis: softmax with axis=-1.")
        raise Failed(f"your probs are not probabilities: their rows sum to {rows[0]:.3g}, {rows[1]:.3g}, ..., not 1. "
                     "Turn each row of logits into probabilities with jax.nn.softmax(logits, axis=-1).")
    expected = np.asarray(jax.nn.softmax(logits, axis=-1))
    if not np.allclose(probs, expected, atol=1e-5):
        raise Failed("your rows sum to 1 but are not the softmax of the model's logits: call the model on the images you "
                     "are given and apply jax.nn.softmax(logits, axis=-1).")
    if guesses.shape != (count,):
        raise Failed(f"guesses must hold one digit per image, shape ({count},); yours has shape {guesses.shape}. "
                     "argmax(axis=-1) picks the largest of each image's ten scores.")
    if not np.issubdtype(guesses.dtype, np.integer):
        raise Failed(f"guesses are {guesses.dtype}; they must be whole numbers, the digit each image most likely shows: "
                     "use argmax(axis=-1).")
    if not np.array_equal(guesses, logits.argmax(axis=-1)):
        raise Failed(f"your guesses {guesses.tolist()} are not the digits with the largest score, "
                     f"{logits.argmax(axis=-1).tolist()}: use argmax(axis=-1) on the logits (or the probabilities).")


def check(learner):
    classify = function(learner, "classify")
    _case(classify, seed=1, count=6, offset=0.0)
    _case(classify, seed=2, count=7, offset=100.0)  # exp(100) does not fit in float32
    return "classify gives rows of probabilities summing to 1 and the most likely digit of each image, even for huge logits."
