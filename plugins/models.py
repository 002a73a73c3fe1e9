"""The builtin ``models`` plugin: registers the tutorial's CNN, an MLP, LeNet-5 and a CNN with BatchNorm.

The networks live in ``mnistkit_plugins.networks``. Each factory imports it
when a model is built, so discovering and listing plugins never imports JAX
or Flax: the pattern the plugin guide recommends to every plugin.
"""

from __future__ import annotations

from typing import Any

from mnistkit.hookspecs import hookimpl
from mnistkit.specs import ModelSpec

NETWORKS = ("TutorialCNN", "MLP", "LeNet5", "ConvBN", "BatchNormCNN")


def cnn(rngs: Any, **options: Any) -> Any:
    from mnistkit_plugins.networks import TutorialCNN

    return TutorialCNN(rngs, **options)


def mlp(rngs: Any, **options: Any) -> Any:
    from mnistkit_plugins.networks import MLP

    return MLP(rngs, **options)


def lenet5(rngs: Any, **options: Any) -> Any:
    from mnistkit_plugins.networks import LeNet5

    return LeNet5(rngs, **options)


def cnn_bn(rngs: Any, **options: Any) -> Any:
    from mnistkit_plugins.networks import BatchNormCNN

    return BatchNormCNN(rngs, **options)


def __getattr__(name: str) -> Any:
    """``from mnistkit_plugins.models import TutorialCNN`` keeps working (the classes moved to ``networks``)."""
    if name in NETWORKS:
        from mnistkit_plugins import networks

        return getattr(networks, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@hookimpl
def register_models(register):
    register(ModelSpec(
        name="cnn",
        factory=cnn,
        lesson="mnistkit_lessons:cnn.md",
        description="The tutorial's CNN: conv 32, conv 64 (3x3, ReLU, average pool), dense 256, dense 10.",
        options={"features": 32, "hidden": 256, "conv": "auto"},
        accuracy_floor=0.8,
    ))
    register(ModelSpec(
        name="mlp",
        factory=mlp,
        lesson="mnistkit_lessons:mlp.md",
        description="A multilayer perceptron: flatten, dense ReLU layers, dense 10. No convolutions.",
        options={"hidden": 256, "layers": 2},
        accuracy_floor=0.75,
    ))
    register(ModelSpec(
        name="lenet5",
        factory=lenet5,
        lesson="mnistkit_lessons:lenet5.md",
        description="LeNet-5 (LeCun et al., 1998): conv 6, conv 16 (5x5), dense 120, 84, 10.",
        options={"activation": "relu"},
        accuracy_floor=0.8,
    ))
    register(ModelSpec(
        name="cnn-bn",
        factory=cnn_bn,
        lesson="mnistkit_lessons:cnn-bn.md",
        description="A modern small CNN: conv-BatchNorm-ReLU x3, global average pool, Dropout, dense 10.",
        options={"features": 32, "dropout": 0.3},
        accuracy_floor=0.5,
    ))
