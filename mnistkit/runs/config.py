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
    epochs: float = 10
    batch_size: int = 32
    learning_rate: float = 0.005
    seed: int = 0
    data: str = "auto"
    data_dir: str | None = None
    model_options: dict[str, Any] = field(default_factory=dict)
    optimizer_options: dict[str, Any] = field(default_factory=dict)
    schedule: str = "constant"
    warmup_epochs: float = 1.0
    metrics: tuple[str, ...] = ()
    devices: int | None = None
    steps_per_dispatch: int | None = None
    engine: str = "fast"
    label_smoothing: float = 0.0
    dtype: str = "float32"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_numbers(config: RunConfig) -> None:
    """Reject values no run can use, before anything slow happens."""
    if not 0.0 <= config.label_smoothing < 1.0:
        raise ConfigError(f"--label-smoothing must be at least 0 and below 1, got {config.label_smoothing}")
    if not (math.isfinite(config.epochs) and config.epochs > 0):
        raise ConfigError(f"--epochs must be above 0, got {config.epochs}")
    if config.dtype not in ("float32", "bfloat16"):
        raise ConfigError(f"unknown --dtype {config.dtype!r} (known: float32, bfloat16)")
    if config.engine == "tutorial" and config.dtype != "float32":
        raise ConfigError("--engine tutorial computes in float32 only; drop --dtype or use the fast engine")
    if config.engine == "tutorial" and config.epochs != int(config.epochs):
        raise ConfigError(f"--engine tutorial trains whole epochs only; give --epochs {math.ceil(config.epochs)} or use the fast engine")
    if config.batch_size < 1:
        raise ConfigError(f"--batch-size must be at least 1, got {config.batch_size}")
    if not (math.isfinite(config.learning_rate) and config.learning_rate > 0):
        raise ConfigError(f"--learning-rate must be a positive number, got {config.learning_rate}")
    if config.schedule not in SCHEDULES:
        raise ConfigError(f"unknown --schedule {config.schedule!r} (known: {', '.join(SCHEDULES)})")
    if not (math.isfinite(config.warmup_epochs) and config.warmup_epochs >= 0):
        raise ConfigError(f"--warmup-epochs must be zero or more, got {config.warmup_epochs}")


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


SCHEDULES = ("constant", "warmup-cosine", "one-cycle")
"""Learning-rate schedules ``mnistkit run --schedule`` offers; any optimizer takes any of them."""


def build_schedule(name: str, learning_rate: float, total_steps: int, warmup_steps: int = 0):
    """The learning rate as a float (``constant``) or an optax schedule of the step count.

    ``warmup-cosine``: linear from 0 to ``learning_rate`` over ``warmup_steps``
    (capped at half the run), then a cosine down to 0 at ``total_steps``.
    ``one-cycle``: up over the first 30% of the run to ``learning_rate`` and
    down to ``learning_rate / 1e4`` (optax's ``cosine_onecycle_schedule``).
    """
    import optax

    if name == "constant":
        return learning_rate
    total_steps = max(1, total_steps)
    if name == "warmup-cosine":
        warmup = min(warmup_steps, total_steps // 2)
        return optax.warmup_cosine_decay_schedule(0.0, learning_rate, warmup, total_steps, end_value=0.0)
    if name == "one-cycle":
        return optax.cosine_onecycle_schedule(total_steps, learning_rate)
    raise ConfigError(f"unknown --schedule {name!r} (known: {', '.join(SCHEDULES)})")


def epoch_lengths(epochs: float, steps_per_epoch: int) -> list[int]:
    """Train steps in each epoch of a run of ``epochs`` epochs (a fraction trains part of the last one).

    ``epoch_lengths(2.5, 100)`` is ``[100, 100, 50]``; a final part always
    has at least one step.
    """
    whole = math.floor(epochs)
    lengths = [steps_per_epoch] * whole
    if epochs > whole:
        lengths.append(max(1, round((epochs - whole) * steps_per_epoch)))
    return lengths


def learning_rate_for(config: RunConfig, steps_per_epoch: int):
    """``config``'s learning rate, as a schedule over the whole run when it asks for one."""
    return build_schedule(
        config.schedule,
        config.learning_rate,
        total_steps=sum(epoch_lengths(config.epochs, steps_per_epoch)),
        warmup_steps=round(config.warmup_epochs * steps_per_epoch),
    )


def build_optimizer(spec: OptimizerSpec, learning_rate, options: dict[str, Any]):
    """Call the optimizer factory with a float rate or a schedule; check it returns a GradientTransformation."""
    import optax

    try:
        tx = spec.factory(learning_rate, **options)
    except (TypeError, ValueError) as exc:
        raise PluginError(f"optimizer {spec.name!r} could not be built: {exc}") from exc
    if not isinstance(tx, optax.GradientTransformation):
        raise PluginError(f"optimizer {spec.name!r}: factory returned {type(tx).__name__}, not an optax.GradientTransformation")
    return tx


def enable_compilation_cache() -> None:
    """Keep every compiled program on disk so a repeat run skips compiling.

    Uses ``$JAX_COMPILATION_CACHE_DIR`` when set, else ``jax-cache`` in
    mnistkit's data folder. ``MNISTKIT_JAX_CACHE=0`` turns it off. Small
    programs are kept too: a model's initialisers compile one program per
    parameter shape, which adds seconds to the start of a first run.
    """
    import jax

    from mnistkit.data.locations import home_dir

    if os.environ.get("MNISTKIT_JAX_CACHE", "1") == "0":
        return
    if not jax.config.jax_compilation_cache_dir:
        jax.config.update("jax_compilation_cache_dir", str(home_dir() / "jax-cache"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
