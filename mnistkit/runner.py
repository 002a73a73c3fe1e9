"""From a run configuration to a model, an optimizer and the engine's settings.

This is where ``--model cnn`` becomes an ``nnx.Module``: the name is looked up
in the plugin registry and the spec's factory is called with seeded random
streams and the validated options.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mnistkit.errors import ConfigError, OutputError, PluginError
from mnistkit.specs import IMAGE_SHAPE, NUM_CLASSES, ModelSpec, OptimizerSpec


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a training run; saved as ``config.json``.

    The defaults are the tutorial's: the CNN, adamw at learning rate 0.005
    with b1 0.9, batch 32, 10 epochs, seed 0.
    """

    model: str = "cnn"
    optimizer: str = "adamw"
    epochs: int = 10
    batch_size: int = 32
    learning_rate: float = 0.005
    seed: int = 0
    data: str = "auto"
    data_dir: str | None = None
    model_options: dict[str, Any] = field(default_factory=dict)
    optimizer_options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_numbers(config: RunConfig) -> None:
    """Reject values no run can use, before anything slow happens."""
    if config.epochs < 1:
        raise ConfigError(f"--epochs must be at least 1, got {config.epochs}")
    if config.batch_size < 1:
        raise ConfigError(f"--batch-size must be at least 1, got {config.batch_size}")
    if not (math.isfinite(config.learning_rate) and config.learning_rate > 0):
        raise ConfigError(f"--learning-rate must be a positive number, got {config.learning_rate}")


def check_batch_fits(config: RunConfig, num_train: int) -> None:
    if config.batch_size > num_train:
        raise ConfigError(
            f"--batch-size {config.batch_size} is larger than the {num_train:,} training images; "
            f"use at most {num_train}"
        )


def check_writable(out: Path) -> None:
    """Fail early if the run directory could not be created under ``out``."""
    probe = out
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write runs under {out}: {probe} is not a writable folder; choose another --out")


def build_model(spec: ModelSpec, options: dict[str, Any], seed: int):
    """Call the model factory and check it maps (B, 28, 28, 1) to (B, 10)."""
    import jax
    import jax.numpy as jnp
    from flax import nnx

    try:
        model = spec.factory(nnx.Rngs(seed), **options)
    except (TypeError, ValueError) as exc:
        raise PluginError(f"model {spec.name!r} could not be built: {exc}") from exc
    if not isinstance(model, nnx.Module):
        raise PluginError(f"model {spec.name!r}: factory returned {type(model).__name__}, not an nnx.Module")
    model.eval()
    try:
        out = jax.eval_shape(lambda x: model(x), jax.ShapeDtypeStruct((2, *IMAGE_SHAPE), jnp.float32))
    finally:
        model.train()
    if out.shape != (2, NUM_CLASSES):
        raise PluginError(
            f"model {spec.name!r} maps a (2, 28, 28, 1) batch to shape {tuple(out.shape)}; expected (2, {NUM_CLASSES})"
        )
    return model


def build_optimizer(spec: OptimizerSpec, learning_rate: float, options: dict[str, Any]):
    import optax

    try:
        tx = spec.factory(learning_rate, **options)
    except (TypeError, ValueError) as exc:
        raise PluginError(f"optimizer {spec.name!r} could not be built: {exc}") from exc
    if not isinstance(tx, optax.GradientTransformation):
        raise PluginError(f"optimizer {spec.name!r}: factory returned {type(tx).__name__}, not an optax.GradientTransformation")
    return tx
