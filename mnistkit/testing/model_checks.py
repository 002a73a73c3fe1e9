"""The contract checks of a model plugin (see ``mnistkit.testing``)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from mnistkit.specs import IMAGE_SHAPE, NUM_CLASSES, ModelSpec
from mnistkit.testing.common import (
    LEARN_EPOCHS,
    LEARN_TRAIN_IMAGES,
    MODEL_CHECK_OPTIMIZER,
    TRACES,
    Target,
    adamw_for_checks,
    calling,
    eval_logits,
    fail,
    fixed_batch,
    held_out_accuracy,
    held_out_batch,
    loss_of,
    require,
    train_step,
)


def build(target: Target, seed: int = 0) -> nnx.Module:
    spec: ModelSpec = target.spec
    try:
        model = spec.factory(nnx.Rngs(seed), **dict(spec.options))
    except Exception as exc:  # noqa: BLE001 - the plugin's code: any exception is its fault, a failed check
        fail(target, f"factory(nnx.Rngs({seed}), **{dict(spec.options)}) raised {type(exc).__name__}: {exc}")
    require(isinstance(model, nnx.Module), target, f"factory returned a {type(model).__name__}, not an nnx.Module")
    return model


def trainable(target: Target, seed: int = 0) -> nnx.Module:
    """A built model whose eval-mode logits on a training batch are finite and (B, 10).

    The checks that train or differentiate start here, so a model with the
    wrong number of classes or NaN logits fails them for that reason, not
    with a symptom (a loss that happens to fall, a NaN that differs from NaN).
    """
    model = build(target, seed)
    model.eval()
    x, _ = fixed_batch()
    logits = calling(target, "the model's __call__", eval_logits, model, x)
    shape = getattr(logits, "shape", None)
    require(shape == (len(x), NUM_CLASSES), target,
             f"maps {x.shape} to {shape if shape is not None else type(logits).__name__}; expected ({len(x)}, {NUM_CLASSES}) "
             f"logits, one per digit class, so it cannot be trained on MNIST's labels")
    require(bool(jnp.isfinite(logits).all()), target,
             "its logits are not finite at initialisation, before any update, so nothing can train: "
             "check the initializers and every operation in __call__ (a log or division of zero, for example)")
    return model


def check_model_builds(target: Target) -> None:
    """The factory takes ``nnx.Rngs`` and the declared options and returns an ``nnx.Module`` with parameters."""
    model = build(target)
    params = jax.tree.leaves(nnx.state(model, nnx.Param))
    require(bool(params), target, "the model has no nnx.Param variables, so there is nothing to train")


def check_model_output_shape_and_dtype(target: Target) -> None:
    """(B, 28, 28, 1) float32 maps to float32 (B, 10) logits for B = 1 and 5 in eval and train mode, finite ones in eval mode."""
    model = build(target)
    graphdef, state = nnx.split(model)
    for mode in ("eval", "train"):
        for batch in (1, 5):
            x = jnp.full((batch, *IMAGE_SHAPE), 0.5, jnp.float32)
            out = jax.eval_shape(lambda state, x, mode=mode: _call(graphdef, state, mode, x), state, x)
            require(getattr(out, "shape", None) == (batch, NUM_CLASSES), target,
                     f"in {mode} mode maps {x.shape} to {getattr(out, 'shape', type(out).__name__)}; expected ({batch}, {NUM_CLASSES})")
            require(out.dtype == jnp.float32, target, f"returns {out.dtype} logits in {mode} mode; expected float32")
    model.eval()
    logits = calling(target, "the model's __call__", eval_logits, model, held_out_batch()[0])
    require(bool(jnp.isfinite(logits).all()), target,
             "returns non-finite logits in eval mode at initialisation: check the initializers and every operation in __call__")


def _call(graphdef, state, mode: str, x):
    model = nnx.merge(graphdef, state)
    getattr(model, mode)()
    return model(x)


def _plain(tree):
    """The state as numpy arrays (random keys as their raw data), for comparing."""
    def leaf(x):
        if jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
            x = jax.random.key_data(x)
        return np.asarray(x)

    return jax.tree.leaves(jax.tree.map(leaf, nnx.state(tree)))


def check_model_eval_is_deterministic(target: Target) -> None:
    """In eval mode the same batch gives the same logits twice and changes no model state."""
    model = build(target)
    model.eval()
    x, _ = held_out_batch()
    before = _plain(model)
    first, second = eval_logits(model, x), eval_logits(model, x)
    require(bool(jnp.array_equal(first, second, equal_nan=True)), target,
             "two eval-mode calls on the same batch differ: put Dropout and other randomness behind model.eval()")
    after = _plain(model)
    require(all(np.array_equal(a, b, equal_nan=True) for a, b in zip(before, after)), target,
             "an eval-mode call changed the model's state: BatchNorm must use its running averages in eval mode")


def check_model_compiles_once(target: Target) -> None:
    """Train steps with ``nnx.jit`` do not retrace after the first, and ``jax.jit`` over ``nnx.split`` state works.

    The engine compiles ``jax.jit`` over the split state; both need a model
    whose structure (its Python attributes) stays the same from call to call.
    """
    model = trainable(target)
    optimizer = nnx.Optimizer(model, adamw_for_checks(), wrt=nnx.Param)
    model.train()
    x, y = fixed_batch()
    calling(target, "a jitted train step", train_step, model, optimizer, x, y)
    traced, structure = len(TRACES), nnx.graphdef((model, optimizer))
    losses = [float(train_step(model, optimizer, x, y)) for _ in range(2)]
    require(len(TRACES) == traced and nnx.graphdef((model, optimizer)) == structure, target,
             "a train step changed the model's structure, so every later step would be traced and compiled again "
             "(do not set Python attributes in __call__; keep changing values in nnx.Variable)")
    require(all(map(math.isfinite, losses)), target, f"the jitted train step gives non-finite losses {losses}")
    model.eval()
    graphdef, state = nnx.split(model)
    forward = jax.jit(lambda state, x: nnx.merge(graphdef, state)(x))
    require(forward(state, x).shape == (len(x), NUM_CLASSES), target, "jax.jit over nnx.split state gives the wrong shape")


def check_model_gradients(target: Target) -> None:
    """Gradients are finite, not all zero, and agree with central finite differences on a tiny batch (eval mode).

    The finite differences are taken along three random unit directions in
    parameter space: ``(L(p + h d) - L(p - h d)) / 2h`` against ``grad . d``.
    The images get a little noise: MNIST's all-zero background would put
    ReLUs exactly on their kink (zero input, zero bias), where a finite
    difference sees half the slope and autodiff none.
    """
    model = trainable(target)
    x, y = fixed_batch(2)
    x = 0.9 * x + jnp.asarray(np.random.default_rng(0).uniform(0.0, 0.1, x.shape), jnp.float32)
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)  # type: ignore[misc]  # flax types the result as variadic; two filters give exactly three parts
    h = 1e-2

    def loss(params):
        return loss_of(nnx.merge(graphdef, params, rest), x, y)

    @jax.jit
    def probe(params, direction):
        grads = jax.grad(loss)(params)
        leaves = jax.tree.leaves(grads)
        analytic = sum(jnp.vdot(g, d) for g, d in zip(leaves, jax.tree.leaves(direction)))
        plus = loss(jax.tree.map(lambda p, d: p + h * d, params, direction))
        minus = loss(jax.tree.map(lambda p, d: p - h * d, params, direction))
        finite = jnp.all(jnp.stack([jnp.isfinite(g).all() for g in leaves]))
        nonzero = jnp.any(jnp.stack([(g != 0).any() for g in leaves]))
        return finite, nonzero, analytic, (plus - minus) / (2 * h)

    rng = np.random.default_rng(0)
    for _ in range(3):
        direction = jax.tree.map(lambda p: rng.standard_normal(p.shape).astype(np.float32), params)
        norm = math.sqrt(sum(float((d * d).sum()) for d in jax.tree.leaves(direction)))
        direction = jax.tree.map(lambda d, norm=norm: d / norm, direction)
        finite, nonzero, analytic, numeric = map(float, probe(params, direction))
        require(bool(finite), target, "some gradients are NaN or infinite")
        require(bool(nonzero), target, "every gradient is zero: the loss does not depend on the parameters")
        require(abs(numeric - analytic) <= 2e-2 * max(abs(numeric), abs(analytic)) + 1e-3, target,
                 f"the gradient disagrees with finite differences along a random direction: "
                 f"autodiff {analytic:.6g}, central difference {numeric:.6g}")


def check_model_same_seed_same_result(target: Target) -> None:
    """The same seed gives identical parameters and identical losses over three train steps; another seed differs."""

    def run(seed: int, steps: int = 3):
        model = build(target, seed)
        initial = [np.asarray(p) for p in jax.tree.leaves(nnx.state(model, nnx.Param))]
        optimizer = nnx.Optimizer(model, adamw_for_checks(), wrt=nnx.Param)
        model.train()
        x, y = fixed_batch()
        return initial, [float(train_step(model, optimizer, x, y)) for _ in range(steps)]

    (first, losses1), (second, losses2) = run(0), run(0)
    require(all(np.array_equal(a, b, equal_nan=True) for a, b in zip(first, second)), target,
             "two builds with seed 0 have different parameters: draw every random number from the rngs argument")
    require(np.array_equal(losses1, losses2, equal_nan=True), target,
             f"the same seed gives different train losses: {losses1} vs {losses2}")
    other, _ = run(1, steps=0)
    require(any(not np.array_equal(a, b) for a, b in zip(first, other)), target,
             "seeds 0 and 1 give identical parameters: the factory ignores the rngs argument")


def check_model_learns(target: Target) -> None:
    """Two seeded epochs of adamw on 1,200 sample images reach the spec's ``accuracy_floor`` on 500 test images."""
    name, rate = MODEL_CHECK_OPTIMIZER
    accuracy = calling(target, "training", held_out_accuracy, trainable(target), adamw_for_checks())
    floor = target.spec.accuracy_floor
    require(accuracy >= floor, target,
             f"reached {accuracy:.1%} test accuracy after {LEARN_EPOCHS} epochs of {name} ({rate}) on "
             f"{LEARN_TRAIN_IMAGES} sample images; its accuracy_floor is {floor:.1%}")
