"""Checker of seeds-reproducible: the same seed gives the same weights and orders, another seed others."""

import jax
import numpy as np
from flax import nnx

from mnistkit.curriculum.checks import Failed, function

PARAMETERS = 824_458  # the lesson's TutorialCNN
N = 100


def _build(make_model, seed):
    """make_model(seed), its initialisers run in one compiled program as mnistkit builds models (seconds faster)."""
    from mnistkit.engine.cache import enable_compilation_cache
    from mnistkit.host.build import initialised_in_one_program

    enable_compilation_cache()
    try:
        return initialised_in_one_program(lambda: make_model(seed))
    except Exception:  # noqa: BLE001 - code that cannot be traced is called as written; its errors are the learner's
        return make_model(seed)


def _weights(model):
    if not isinstance(model, nnx.Module):
        raise Failed(f"make_model returned a {type(model).__name__}; return the model, TutorialCNN(nnx.Rngs(seed)).")
    leaves = [np.asarray(leaf) for leaf in jax.tree.leaves(nnx.state(model, nnx.Param))]
    if sum(leaf.size for leaf in leaves) != PARAMETERS:
        raise Failed(f"make_model's model has {sum(leaf.size for leaf in leaves):,} parameters, not the "
                     f"{PARAMETERS:,} of the lesson's TutorialCNN; build that model.")
    return leaves


def _same(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def _order(epoch_order, seed, epoch):
    order = np.asarray(epoch_order(seed, epoch, N))
    if order.shape != (N,) or not np.array_equal(np.sort(order), np.arange(N)):
        raise Failed(f"epoch_order({seed}, {epoch}, {N}) must hold each of 0 .. {N - 1} exactly once (a permutation), "
                     f"but it gave an array of shape {order.shape} that does not.")
    return order


def check(learner):
    make_model, epoch_order = function(learner, "make_model"), function(learner, "epoch_order")
    first, again, other = (_weights(_build(make_model, seed)) for seed in (0, 0, 1))
    if not _same(first, again):
        raise Failed("two models built with seed 0 have different weights: something other than the seed decides "
                     "them (a global random state, the time, an nnx.Rngs kept between calls); build nnx.Rngs(seed) "
                     "inside make_model.")
    if _same(first, other):
        raise Failed("make_model ignores the seed: seeds 0 and 1 gave the same weights. Build the model from "
                     "nnx.Rngs(seed), with the argument, not a number of your own.")
    order = _order(epoch_order, 0, 1)
    later = _order(epoch_order, 0, 2)
    seed_one = _order(epoch_order, 1, 1)
    repeated = _order(epoch_order, 0, 1)
    if not np.array_equal(order, repeated):
        raise Failed("epoch_order(0, 1, 100) gave a different order when called again: it draws from a global random "
                     "state (NumPy's np.random, or a key your file keeps and reuses between calls). Make a key from "
                     "the seed and the epoch on every call: jax.random.fold_in(jax.random.key(seed), epoch).")
    if np.array_equal(order, np.arange(N)):
        raise Failed("epoch_order(0, 1, 100) returned 0 .. 99 in order: nothing is shuffled. Shuffle with "
                     "jax.random.permutation and a key made from the seed and the epoch.")
    if np.array_equal(order, seed_one):
        raise Failed("epoch_order ignores the seed: seeds 0 and 1 gave the same order for epoch 1. Make its key "
                     "from the seed, jax.random.key(seed).")
    if np.array_equal(order, later):
        raise Failed("epoch_order gives the same order in every epoch (epochs 1 and 2 of seed 0 agree): fold the "
                     "epoch into the key with jax.random.fold_in(key, epoch).")
    return "make_model and epoch_order follow the seed: the same seed repeats the weights and the orders, another changes them."
