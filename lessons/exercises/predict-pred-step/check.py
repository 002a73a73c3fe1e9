"""Checker of predict-pred-step: two models on the same images, and another batch size; predictions must follow."""

import jax
import numpy as np
from flax import nnx

from mnistkit.curriculum.checks import Failed, function, sample

CALLS = []  # for each call of a checker model: whether it ran under jit (its input was a tracer)


class Tiny(nnx.Module):
    """A small linear model; it notes whether it is called while JAX traces."""

    def __init__(self, seed):
        self.linear = nnx.Linear(28 * 28, 10, rngs=nnx.Rngs(seed))

    def __call__(self, images):
        CALLS.append(isinstance(images, jax.core.Tracer))
        return self.linear(images.reshape(images.shape[0], -1))


def _scale(images):
    return images.astype(np.float32)[..., np.newaxis] / 255.0


def _expected(model, images):
    before = len(CALLS)
    digits = np.asarray(model(images)).argmax(axis=-1)
    del CALLS[before:]
    return digits


def _predict(pred_step, model, images):
    digits = np.asarray(pred_step(model, images))
    if digits.shape == (len(images), 10):
        raise Failed("pred_step returned an array of shape (B, 10): the logits, not the digits; take "
                     ".argmax(axis=-1) of them.")
    if digits.ndim == 1 and len(digits) != len(images):
        raise Failed(f"given {len(images)} images, pred_step returned {len(digits)} predictions: it reads a global "
                     "batch instead of its `images` argument. Run the model on `images`.")
    if digits.shape != (len(images),):
        raise Failed(f"pred_step returned shape {digits.shape} for {len(images)} images; return one digit per "
                     "image, shape (B,).")
    if not np.issubdtype(digits.dtype, np.integer):
        raise Failed(f"pred_step returned {digits.dtype} values; return whole digits, the argmax of the logits.")
    return digits


def check(learner):
    pred_step = function(learner, "pred_step")
    data = sample(train=0, test=40)
    images, others = _scale(data.test_images[:16]), _scale(data.test_images[16:40])
    first, second = Tiny(0), Tiny(1)
    want_first, want_second = _expected(first, images), _expected(second, images)
    assert not np.array_equal(want_first, want_second)  # the check needs two models that disagree
    got_first = _predict(pred_step, first, images)
    got_second = _predict(pred_step, second, images)
    if np.array_equal(got_first, got_second):
        raise Failed("pred_step gave the same digits for two different models: it reads a global model instead of "
                     "its `model` argument (under jit that model's weights are frozen in at the first call). Call "
                     "the model you are given.")
    for model, got, want in ((first, got_first, want_first), (second, got_second, want_second)):
        if not np.array_equal(got, want):
            wrong = int((got != want).sum())
            raise Failed(f"pred_step's digits differ from model(images).argmax(axis=-1) on {wrong} of {len(want)} "
                         "images; return the argmax of the model's logits over the last axis.")
    if not np.array_equal(_predict(pred_step, first, others), _expected(first, others)):
        raise Failed("on a second batch of 24 images pred_step's digits are not the model's: use the `images` "
                     "argument, not images kept from before.")
    if CALLS and not any(CALLS):
        raise Failed("pred_step is not compiled: the model runs op by op on every call. Decorate it with @nnx.jit.")
    return "pred_step predicts with the model and the images it is given, under jit."
