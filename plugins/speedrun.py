"""The builtin ``speedrun`` plugin: registers a small, fast CNN that reaches 99% on MNIST in under one epoch.

The network is ``mnistkit_plugins.networks.SpeedrunCNN``, imported when a
model is built, so listing plugins never imports JAX or Flax.
"""

from __future__ import annotations

from typing import Any

from mnistkit.hookspecs import hookimpl
from mnistkit.specs import ModelSpec


def speedrun(rngs: Any, **options: Any) -> Any:
    from mnistkit_plugins.networks import SpeedrunCNN

    return SpeedrunCNN(rngs, **options)


def __getattr__(name: str) -> Any:
    """``from mnistkit_plugins.speedrun import SpeedrunCNN`` keeps working (the class moved to ``networks``)."""
    if name in ("SpeedrunCNN", "MNIST_MEAN", "MNIST_STD"):
        from mnistkit_plugins import networks

        return getattr(networks, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@hookimpl
def register_models(register):
    register(
        ModelSpec(
            name="speedrun",
            factory=speedrun,
            lesson="mnistkit_lessons:speedrun.md",
            description="A small fast CNN for the speedrun recipe: conv 24 (5x5), conv 32 (3x3), max pools, dense 256.",
            options={"conv": "auto", "hidden": 256},
            accuracy_floor=0.7,
        )
    )
