"""Where ``--model cnn`` becomes an ``nnx.Module``, and an optimizer name an optax transform.

The name is looked up in the plugin registry (``Registry.model``), and the
spec's factory is called here with seeded random streams and the options the
run settled on. Whatever a factory raises, or a wrong kind of result, is a
``PluginError`` naming the model or optimizer; ``Registry.blame`` adds the
plugin.
"""

from __future__ import annotations

from typing import Any

from mnistkit.errors import PluginError
from mnistkit.specs import IMAGE_SHAPE, NUM_CLASSES, ModelSpec, OptimizerSpec


def build_model(spec: ModelSpec, options: dict[str, Any], seed: int):
    """Call the model factory and check it maps (B, 28, 28, 1) to (B, 10)."""
    import jax
    import jax.numpy as jnp
    from flax import nnx

    try:
        model = spec.factory(nnx.Rngs(seed), **options)
    except Exception as exc:  # a factory's bug is the plugin's: one line, never a traceback
        raise PluginError(f"model {spec.name!r} could not be built: {_said(exc)}") from exc
    if not isinstance(model, nnx.Module):
        raise PluginError(f"model {spec.name!r}: factory returned {type(model).__name__}, not an nnx.Module")
    model.eval()
    try:
        out = jax.eval_shape(lambda x: model(x), jax.ShapeDtypeStruct((2, *IMAGE_SHAPE), jnp.float32))
    except Exception as exc:
        raise PluginError(f"model {spec.name!r} fails on a (2, 28, 28, 1) batch: {_said(exc)}") from exc
    finally:
        model.train()
    if getattr(out, "shape", None) != (2, NUM_CLASSES):
        shape = tuple(out.shape) if hasattr(out, "shape") else type(out).__name__
        raise PluginError(f"model {spec.name!r} maps a (2, 28, 28, 1) batch to shape {shape}; expected (2, {NUM_CLASSES})")
    return model


def build_optimizer(spec: OptimizerSpec, learning_rate, options: dict[str, Any]):
    """Call the optimizer factory with a float rate or a schedule; check it returns a GradientTransformation."""
    import optax

    try:
        tx = spec.factory(learning_rate, **options)
    except Exception as exc:  # as for models
        raise PluginError(f"optimizer {spec.name!r} could not be built: {_said(exc)}") from exc
    if not isinstance(tx, optax.GradientTransformation):
        raise PluginError(f"optimizer {spec.name!r}: factory returned {type(tx).__name__}, not an optax.GradientTransformation")
    return tx


def _said(exc: BaseException) -> str:
    """An exception as the one line a user reads: a TypeError or ValueError by its message, others by type too."""
    first = (str(exc).strip().splitlines() or [""])[0]
    if isinstance(exc, (TypeError, ValueError)):
        return first
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
