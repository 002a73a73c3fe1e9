"""The contract checks of an optimizer plugin: it trains a small fixed reference MLP."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from mnistkit.specs import NUM_CLASSES, OptimizerSpec
from mnistkit.testing.common import (
    LEARN_EPOCHS,
    TRACES,
    TX_CACHE,
    Target,
    calling,
    fail,
    fixed_batch,
    held_out_accuracy,
    loss_of,
    require,
    train_step,
)


class ReferenceMLP(nnx.Module):
    """The small fixed model the optimizer checks train: 784 -> 64 -> 10."""

    def __init__(self, rngs: nnx.Rngs):
        self.hidden = nnx.Linear(784, 64, rngs=rngs)
        self.logits = nnx.Linear(64, NUM_CLASSES, rngs=rngs)

    def __call__(self, x):
        return self.logits(nnx.relu(self.hidden(x.reshape(x.shape[0], -1))))


def make_tx(target: Target, learning_rate=None):
    """The optimizer built from the spec; the same object for the same target and rate, so compiled steps are reused."""
    spec: OptimizerSpec = target.spec
    rate = spec.learning_rate if learning_rate is None else learning_rate
    key = (target.plugin, target.name, id(spec), rate if isinstance(rate, (int, float)) else id(rate))
    if key in TX_CACHE:
        return TX_CACHE[key]
    try:
        tx = spec.factory(rate, **dict(spec.options))
    except Exception as exc:  # noqa: BLE001 - the plugin's code: any exception is its fault, a failed check
        fail(target, f"factory({rate!r}, **{dict(spec.options)}) raised {type(exc).__name__}: {exc}")
    require(isinstance(tx, optax.GradientTransformation), target,
             f"factory returned a {type(tx).__name__}, not an optax.GradientTransformation")
    return TX_CACHE.setdefault(key, tx)


def _steps(target: Target, n: int, learning_rate=None, seed: int = 0):
    """``n`` shared ``train_step`` calls of the reference MLP on one fixed batch: params before, model, losses."""
    model = ReferenceMLP(nnx.Rngs(seed))
    before = [np.asarray(p) for p in jax.tree.leaves(nnx.state(model, nnx.Param))]
    optimizer = nnx.Optimizer(model, make_tx(target, learning_rate), wrt=nnx.Param)
    x, y = fixed_batch()
    losses = [float(calling(target, "a train step with its update", train_step, model, optimizer, x, y)) for _ in range(n)]
    losses.append(float(loss_of(model, x, y)))
    return before, model, losses


def check_optimizer_builds(target: Target) -> None:
    """The factory takes the spec's learning rate and options; ``init`` gives a finite state."""
    tx = make_tx(target)
    state = calling(target, "init()", tx.init, nnx.state(ReferenceMLP(nnx.Rngs(0)), nnx.Param))
    leaves = [leaf for leaf in jax.tree.leaves(state) if hasattr(leaf, "dtype") and jnp.issubdtype(leaf.dtype, jnp.floating)]
    require(all(bool(jnp.isfinite(leaf).all()) for leaf in leaves), target, "init() returned a state with NaN or infinite values")


def check_optimizer_takes_a_schedule(target: Target) -> None:
    """The factory also accepts an optax schedule as the learning rate (``--schedule``)."""
    schedule = optax.warmup_cosine_decay_schedule(0.0, target.spec.learning_rate, 2, 10)
    _, model, losses = _steps(target, 3, learning_rate=schedule)
    params = jax.tree.leaves(nnx.state(model, nnx.Param))
    require(all(bool(jnp.isfinite(p).all()) for p in params) and all(map(math.isfinite, losses)), target,
             "with a warmup-cosine schedule as learning rate the parameters or the loss became non-finite")


def check_optimizer_compiles_once(target: Target) -> None:
    """After the first, update steps with the same shapes do not retrace; ``jax.jit`` over split state works too."""
    model = ReferenceMLP(nnx.Rngs(0))
    optimizer = nnx.Optimizer(model, make_tx(target), wrt=nnx.Param)
    x, y = fixed_batch()
    calling(target, "a train step with its update", train_step, model, optimizer, x, y)
    traced = len(TRACES)
    for _ in range(2):
        train_step(model, optimizer, x, y)
    require(len(TRACES) == traced, target,
             "the update step was traced again for the same shapes: the optimizer state's structure or dtypes change between steps")
    graphdef, state = nnx.split((model, optimizer))

    @jax.jit
    def step(state):
        model, optimizer = nnx.merge(graphdef, state)
        loss, grads = nnx.value_and_grad(loss_of)(model, x, y)
        optimizer.update(model, grads)
        return nnx.state((model, optimizer)), loss

    state, loss = step(state)
    require(bool(jnp.isfinite(loss)), target, "jax.jit over the split model and optimizer state gives a non-finite loss")


def check_optimizer_steps_lower_loss(target: Target) -> None:
    """Ten steps on one fixed batch change the parameters and lower the loss."""
    before, model, losses = _steps(target, 10)
    after = [np.asarray(p) for p in jax.tree.leaves(nnx.state(model, nnx.Param))]
    require(any(not np.array_equal(a, b) for a, b in zip(before, after)), target, "ten steps left every parameter unchanged")
    require(all(map(math.isfinite, losses)), target, f"the loss became non-finite: {losses}")
    require(losses[-1] < losses[0], target,
             f"ten steps on a fixed batch did not lower the loss ({losses[0]:.4f} -> {losses[-1]:.4f}) "
             f"at learning rate {target.spec.learning_rate}")


def check_optimizer_same_seed_same_result(target: Target) -> None:
    """Two runs of five steps from the same seed end with identical parameters and losses."""
    (_, model1, losses1), (_, model2, losses2) = _steps(target, 5), _steps(target, 5)
    same = all(np.array_equal(a, b, equal_nan=True) for a, b in zip(jax.tree.leaves(nnx.state(model1, nnx.Param)),
                                                    jax.tree.leaves(nnx.state(model2, nnx.Param))))
    require(same and np.array_equal(losses1, losses2, equal_nan=True), target, "the same seed and data gave different results: the update must be deterministic")


def check_optimizer_learns(target: Target) -> None:
    """Two seeded epochs of the reference MLP on 1,200 sample images reach the spec's ``accuracy_floor``."""
    accuracy = held_out_accuracy(ReferenceMLP(nnx.Rngs(0)), make_tx(target))
    floor = target.spec.accuracy_floor
    require(accuracy >= floor, target,
             f"the reference MLP reached {accuracy:.1%} test accuracy after {LEARN_EPOCHS} epochs at learning rate "
             f"{target.spec.learning_rate}; its accuracy_floor is {floor:.1%}")
