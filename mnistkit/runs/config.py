"""What defines a training run: ``RunConfig``, its defaults, the recipes, and the checks on its values.

This is the one home of the defaults. A front end collects the options the
user gave (``None`` for one not given) and calls ``from_options``; the run API
(``mnistkit.runs.assemble.prepare``) then ``settle``s what depends on the
plugins and the environment, and turns the config into the engine's settings
with ``engine_settings``. No front end converts a setting itself.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from mnistkit.errors import ConfigError, OutputError, match_name, unknown_name
from mnistkit.runs.schedules import SCHEDULES


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a training run; saved as ``config.json``.

    The defaults are the tutorial's: the CNN, adamw at its own learning rate
    (0.005, with b1 0.9), batch 32, 10 epochs, seed 0. ``learning_rate`` None
    means the optimizer plugin's own; ``settle`` fills it in.
    """

    model: str = "cnn"
    optimizer: str = "adamw"
    epochs: float = 10
    batch_size: int = 32
    learning_rate: float | None = None
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


DEFAULTS = RunConfig()

LESSON_EPOCHS = 2
"""Epochs of the lessons' ``train`` stage and of a TUI run until the learner chooses: short on purpose."""

ENGINES = ("fast", "tutorial")
MAX_SEED = 2**32 - 1
"""Seeds are 0 to 2**32 - 1: what a 32-bit random key holds."""
DTYPES = ("float32", "bfloat16")

RECIPES: dict[str, Mapping[str, Any]] = {
    # The Flax tutorial's own recipe: the defaults, with its learning rate written out, whichever optimizer is chosen.
    "tutorial": {key: getattr(DEFAULTS, key) for key in ("model", "optimizer", "batch_size", "epochs")}
    | {"learning_rate": 0.005},
    "speedrun": {
        # 99% on all 10,000 test images in three quarters of an epoch (seeds 0 to 4: 99.00 to 99.16%).
        "model": "speedrun",
        "optimizer": "adam",
        "schedule": "one-cycle",
        "learning_rate": 0.01,
        "batch_size": 128,
        "epochs": 0.75,
        "label_smoothing": 0.1,
    },
}
"""Named sets of run options that ``--recipe`` fills in under the options the user gives."""

FIELDS = tuple(f.name for f in fields(RunConfig))


def recipe(name: str) -> Mapping[str, Any]:
    """The options of recipe ``name`` (case is forgiven); an unknown name gets the close ones and the list."""
    found = match_name(name, RECIPES)
    if found is None:
        raise unknown_name("recipe", name, RECIPES, "`mnistkit run --help`")
    return RECIPES[found]


def given_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The run options in ``options`` that were given: the ``RunConfig`` fields that are not None."""
    given = {key: value for key, value in options.items() if key in FIELDS and value is not None}
    if "metrics" in given:
        given["metrics"] = tuple(dict.fromkeys(given["metrics"]))
        if not given["metrics"]:
            del given["metrics"]
    for key in ("model_options", "optimizer_options"):
        if key in given and not given[key]:
            del given[key]
    return given


def from_options(options: Mapping[str, Any], recipe_name: str | None = None) -> RunConfig:
    """The run the user asked for: the defaults, under the recipe's options, under the options given.

    ``options`` maps ``RunConfig`` field names to values, None for an option
    not given; other keys are ignored.
    """
    chosen = dict(recipe(recipe_name)) if recipe_name else {}
    chosen.update(given_options(options))
    return replace(DEFAULTS, **chosen)


def settle(config: RunConfig, registry) -> RunConfig:
    """Fill in what depends on the plugins and the environment.

    The names as registered (``--model CNN`` is ``cnn``), the optimizer's
    own learning rate when none was chosen, the model and
    optimizer options typed against their specs (unknown keys are a
    ``ConfigError``), and the data folder (``--data-dir`` or
    ``MNISTKIT_DATA_DIR``, see ``mnistkit.environment.data_dir``).
    Settling a settled config changes nothing.
    """
    from mnistkit import environment
    from mnistkit.specs import typed_options

    model_spec, optimizer_spec = registry.model(config.model), registry.optimizer(config.optimizer)
    return replace(
        config,
        **names_as_registered(config.to_dict(), registry),
        learning_rate=config.learning_rate if config.learning_rate is not None else optimizer_spec.learning_rate,
        model_options=typed_options("model", model_spec, config.model_options),
        optimizer_options=typed_options("optimizer", optimizer_spec, config.optimizer_options),
        data_dir=environment.data_dir(config.data_dir, config.data),
    )


def names_as_registered(options: Mapping[str, Any], registry) -> dict[str, Any]:
    """The model, optimizer and metric names of ``options`` as the plugins registered them.

    A name that differs from a registered one only in case is that one; an
    unknown name is a ``ConfigError`` naming the close ones. Options not
    given (absent or None) stay out.
    """
    names: dict[str, Any] = {}
    for key in ("model", "optimizer"):
        if options.get(key) is not None:
            names[key] = registry.name(key, options[key])
    if options.get("metrics"):
        names["metrics"] = tuple(dict.fromkeys(registry.name("metric", name) for name in options["metrics"]))
    return names


def engine_settings(config: RunConfig, progress_every: int = 50):
    """The engine's ``Settings`` for ``config``: the one place a run config becomes them."""
    from mnistkit.engine.settings import Settings

    return Settings(epochs=config.epochs, batch_size=config.batch_size, seed=config.seed, progress_every=progress_every,
                    devices=config.devices, steps_per_dispatch=config.steps_per_dispatch,
                    label_smoothing=config.label_smoothing, dtype=config.dtype)


def check_numbers(config: RunConfig) -> None:
    """Reject values no run can use, and settings the chosen engine cannot honour, before anything slow."""
    if not 0.0 <= config.label_smoothing < 1.0:
        raise ConfigError(f"--label-smoothing must be at least 0 and below 1, got {config.label_smoothing}")
    if not (math.isfinite(config.epochs) and config.epochs > 0):
        raise ConfigError(f"--epochs must be above 0, got {config.epochs}")
    if config.dtype not in DTYPES:
        raise ConfigError(f"unknown --dtype {config.dtype!r} (known: {', '.join(DTYPES)})")
    if config.engine not in ENGINES:
        raise ConfigError(f"unknown --engine {config.engine!r} (known: {', '.join(ENGINES)})")
    if config.batch_size < 1:
        raise ConfigError(f"--batch-size must be at least 1, got {config.batch_size}")
    if not 0 <= config.seed <= MAX_SEED:
        raise ConfigError(f"--seed must be a whole number from 0 to {MAX_SEED}, got {config.seed}")
    if config.learning_rate is not None and not (math.isfinite(config.learning_rate) and config.learning_rate > 0):
        raise ConfigError(f"--learning-rate must be a positive number, got {config.learning_rate}")
    if config.schedule not in SCHEDULES:
        raise ConfigError(f"unknown --schedule {config.schedule!r} (known: {', '.join(SCHEDULES)})")
    if not (math.isfinite(config.warmup_epochs) and config.warmup_epochs >= 0):
        raise ConfigError(f"--warmup-epochs must be zero or more, got {config.warmup_epochs}")
    if config.engine == "tutorial":
        _check_tutorial_engine(config)


def _check_tutorial_engine(config: RunConfig) -> None:
    """The tutorial engine trains the tutorial's way; what it cannot honour is refused, never ignored."""
    if config.dtype != "float32":
        raise ConfigError("--engine tutorial computes in float32 only; drop --dtype or use the fast engine")
    if config.epochs != int(config.epochs):
        raise ConfigError(f"--engine tutorial trains whole epochs only; give --epochs {math.ceil(config.epochs)} "
                          "or use the fast engine")
    if config.devices not in (None, 1):
        raise ConfigError("--engine tutorial trains on one device; drop --devices or use the fast engine")
    if config.steps_per_dispatch not in (None, 1):
        raise ConfigError("--engine tutorial runs one step per call; drop --steps-per-dispatch or use the fast engine")


def check_batch_fits(config: RunConfig, num_train: int) -> None:
    if config.batch_size > num_train:
        raise ConfigError(
            f"--batch-size {config.batch_size} is larger than the {num_train:,} training images; "
            f"use at most {num_train}"
        )


def check_writable(out: Path) -> None:
    """Fail early if the run directory could not be created under ``out``, before anything slow."""
    try:
        os.fsencode(out).decode("utf-8")
    except UnicodeDecodeError:
        raise OutputError(f"the --out folder {str(out)!r} is not valid UTF-8, and checkpoints cannot be written "
                          "under such a name; choose another --out") from None
    try:
        probe = Path(out)
        while not probe.exists():
            if probe.parent == probe:
                break
            probe = probe.parent
        writable = probe.is_dir() and os.access(probe, os.W_OK | os.X_OK)
    except OSError as err:
        raise OutputError(f"cannot write runs under {str(out)[:80]}{'...' if len(str(out)) > 80 else ''}: "
                          f"{err.strerror or err}; choose another --out") from None
    if not writable:
        raise OutputError(f"cannot write runs under {out}: {probe} is not a writable folder; choose another --out")
