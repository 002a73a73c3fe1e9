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

INIT_COMPILER_OPTIONS = {"xla_backend_optimization_level": 0}
"""The initialisation runs once: compiling it without XLA's optimisations takes a quarter of the time."""


def build_model(spec: ModelSpec, options: dict[str, Any], seed: int):
    """Call the model factory and check it maps (B, 28, 28, 1) to (B, 10)."""
    import jax
    import jax.numpy as jnp
    from flax import nnx

    def create():
        return spec.factory(nnx.Rngs(seed), **options)

    try:
        try:
            model = initialised_in_one_program(create)
        except Exception:  # noqa: BLE001 - a factory that cannot be traced (NumPy on values, files) builds as written
            model = create()
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


def initialised_in_one_program(create):
    """``create()``'s module, with every initialiser run in one compiled program.

    Built eagerly, each initialiser of each shape compiles a program of its
    own: seconds on a first run. Traced once under ``jax.jit`` it is one
    small program (and one entry in the compilation cache). The parameters
    are those of ``create()`` up to rounding in the last bit. Raises what
    tracing ``create`` raises, and ``TypeError`` when it returns no module.
    """
    from flax import nnx

    def module():
        made = create()
        if not isinstance(made, nnx.Module):
            raise TypeError(f"the factory returned {type(made).__name__}")
        return made

    return made_in_one_program(module)


def optimizer_in_one_program(model, tx):
    """``nnx.Optimizer(model, tx, wrt=nnx.Param)``, its state (moments, counts) made in one compiled program.

    Made eagerly, each piece of optimizer state of each shape compiles a
    program of its own (about 0.3 s for ``cnn`` with adamw on a first run; 0.1 s
    this way). The model's values go in as arguments, not as constants. An
    optimizer whose state cannot be traced is made as written.
    """
    from flax import nnx

    graphdef, values = nnx.split(model)
    try:
        return made_in_one_program(lambda values: nnx.Optimizer(nnx.merge(graphdef, values), tx, wrt=nnx.Param), values)
    except Exception:  # noqa: BLE001 - an optimizer whose init reads values on the host is made eagerly
        return nnx.Optimizer(model, tx, wrt=nnx.Param)


def made_in_one_program(make, *args):
    """``make(*args)``, an nnx object, with its arrays computed by one compiled program (``INIT_COMPILER_OPTIONS``)."""
    import jax
    from flax import nnx

    graphdefs = []

    def values(*args):
        graphdef, state = nnx.split(make(*args))
        graphdefs.append(graphdef)  # static: the object's structure, known once traced
        return state

    state = jax.jit(values, compiler_options=INIT_COMPILER_OPTIONS)(*args)  # traces first: the graphdef is known after
    return nnx.merge(graphdefs[-1], state)


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
