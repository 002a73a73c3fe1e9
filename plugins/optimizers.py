"""Builtin optimizers, thin wrappers over optax.

Each factory takes the learning rate (a float or an optax schedule; see
``mnistkit run --schedule``) and its own options, and returns an
``optax.GradientTransformation``.
"""

from __future__ import annotations

from mnistkit.hookspecs import hookimpl
from mnistkit.specs import OptimizerSpec


def adamw(learning_rate, *, b1: float = 0.9, b2: float = 0.999, weight_decay: float = 1e-4):
    import optax

    return optax.adamw(learning_rate, b1=b1, b2=b2, weight_decay=weight_decay)


def adam(learning_rate, *, b1: float = 0.9, b2: float = 0.999):
    import optax

    return optax.adam(learning_rate, b1=b1, b2=b2)


def sgd(learning_rate, *, momentum: float = 0.9, nesterov: bool = False):
    import optax

    return optax.sgd(learning_rate, momentum=momentum or None, nesterov=nesterov)


def lion(learning_rate, *, b1: float = 0.9, b2: float = 0.99, weight_decay: float = 1e-3):
    import optax

    return optax.lion(learning_rate, b1=b1, b2=b2, weight_decay=weight_decay)


@hookimpl
def register_optimizers(register):
    register(OptimizerSpec(
        name="adamw",
        factory=adamw,
        lesson="mnistkit_lessons:adamw.md",
        description="Adam with decoupled weight decay; the tutorial's choice (learning rate 0.005, b1 0.9).",
        options={"b1": 0.9, "b2": 0.999, "weight_decay": 1e-4},
        learning_rate=0.005,
        accuracy_floor=0.75,
    ))
    register(OptimizerSpec(
        name="adam",
        factory=adam,
        lesson="mnistkit_lessons:adamw.md",
        description="Adam: per-parameter step sizes from running averages of the gradient and its square.",
        options={"b1": 0.9, "b2": 0.999},
        learning_rate=0.005,
        accuracy_floor=0.75,
    ))
    register(OptimizerSpec(
        name="sgd",
        factory=sgd,
        lesson="mnistkit_lessons:adamw.md",
        description="Stochastic gradient descent with momentum; nesterov=true for Nesterov momentum.",
        options={"momentum": 0.9, "nesterov": False},
        learning_rate=0.05,
        accuracy_floor=0.7,
    ))
    register(OptimizerSpec(
        name="lion",
        factory=lion,
        lesson="mnistkit_lessons:lion.md",
        description="Lion (Chen et al., 2023): steps of the same size for every weight, the sign of a momentum.",
        options={"b1": 0.9, "b2": 0.99, "weight_decay": 1e-3},
        learning_rate=1e-3,
        accuracy_floor=0.75,
    ))
