"""What plugins register: frozen descriptions of models, optimizers and metrics.

A spec names the thing, points at the factory that builds it, declares its
options with their defaults (the default's type is the option's type), and
names the lesson file that teaches it as ``"package:relative/path.md"`` (read
with ``importlib.resources``; a plugin loaded from a ``.py`` file may give a
path relative to that file instead).

The contract checks (``mnistkit.testing``) read two more fields:
``accuracy_floor``, the test accuracy a short seeded training must reach,
and ``expected_failures``, check names (``learns``, as the test id
``model:NAME:learns`` ends) mapped to the reason the check is known to fail
for this plugin (reported as expected failures, like scikit-learn's
``_xfail_checks``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mnistkit.errors import ConfigError

IMAGE_SHAPE = (28, 28, 1)
"""One input image: height, width, channels; float32 in [0, 1]."""
NUM_CLASSES = 10


@dataclass(frozen=True)
class ModelSpec:
    """A model: ``factory(rngs, **options) -> nnx.Module`` (see hookspecs).

    ``accuracy_floor``: the test accuracy the model must reach after the
    contract's short training (two epochs of adamw on 1,200 sample images).
    """

    name: str
    factory: Callable[..., Any]
    lesson: str
    description: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    accuracy_floor: float = 0.5
    expected_failures: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OptimizerSpec:
    """An optimizer: ``factory(learning_rate, **options) -> optax.GradientTransformation``.

    ``learning_rate`` is the rate ``mnistkit run`` uses when no
    ``--learning-rate`` is given, and the one the contract checks train with;
    ``accuracy_floor`` is the test accuracy a small reference MLP must reach
    after the contract's short training with this optimizer.
    """

    name: str
    factory: Callable[..., Any]
    lesson: str
    description: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    learning_rate: float = 0.005
    accuracy_floor: float = 0.5
    expected_failures: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EvaluationOutputs:
    """What a metric's ``on_evaluation`` sees after each epoch: every test image's logits."""

    epoch: int
    logits: Any  # numpy (N, 10) float32
    labels: Any  # numpy (N,) int


@dataclass(frozen=True)
class MetricReport:
    """What ``on_evaluation`` returns.

    ``values`` join the epoch's test metrics (history, CSV, plots, TUI);
    ``text`` is shown in the terminal at the end of a run; ``artifacts`` maps
    a file name to its bytes (a PNG, a CSV) written into the run directory.
    """

    values: Mapping[str, float] = field(default_factory=dict)
    text: str = ""
    artifacts: Mapping[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class MetricSpec:
    """A metric; see ``hookspecs.register_metrics`` for the contract.

    ``per_example(logits, labels) -> (B,) float`` runs inside the compiled
    step and is averaged over each epoch's training images and over the test
    set. ``on_evaluation(EvaluationOutputs) -> MetricReport`` runs on the host
    once per epoch. ``bounds`` is the range every value must lie in.
    """

    name: str
    lesson: str
    description: str = ""
    per_example: Callable[[Any, Any], Any] | None = None
    on_evaluation: Callable[[EvaluationOutputs], MetricReport | None] | None = None
    bounds: tuple[float, float] = (0.0, 1.0)
    expected_failures: Mapping[str, str] = field(default_factory=dict)


Spec = ModelSpec | OptimizerSpec | MetricSpec


def parse_options(kind: str, spec: ModelSpec | OptimizerSpec, pairs: list[str]) -> dict[str, Any]:
    """Turn ``["key=value", ...]`` into typed options for ``spec``.

    Each value is converted to the type of the option's default. Unknown keys
    and values that do not convert raise ``ConfigError`` naming the choices.
    """
    return typed_options(kind, spec, parse_pairs(kind, pairs))


def parse_pairs(kind: str, pairs: list[str]) -> dict[str, str]:
    """``["key=value", ...]`` as a dict of strings (``-`` in keys read as ``_``); ``ConfigError`` for a pair without ``=``."""
    options: dict[str, str] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise ConfigError(f"--{kind}-opt expects key=value, got {pair!r}")
        options[key] = text.strip()
    return options


def typed_options(kind: str, spec: ModelSpec | OptimizerSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    """``spec``'s options with ``values`` put in: strings converted to each default's type, unknown keys refused."""
    options = dict(spec.options)
    for key, value in values.items():
        if key not in options:
            known = ", ".join(sorted(options)) or "none"
            raise ConfigError(f"{kind} {spec.name!r} has no option {key!r} (options: {known})")
        options[key] = _convert(kind, spec.name, key, value, options[key]) if isinstance(value, str) else value
    return options


def _convert(kind: str, name: str, key: str, text: str, default: Any) -> Any:
    try:
        if isinstance(default, bool):
            lowered = text.lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if default is None:
            return text
        return type(default)(text)
    except ValueError:
        kind_name = {"int": "a whole number", "float": "a number", "bool": "true or false"}.get(
            type(default).__name__, type(default).__name__)
        raise ConfigError(f"{kind} {name!r} option {key!r} must be {kind_name}, got {text!r}") from None
