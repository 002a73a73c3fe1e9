"""Builtin optimizers, thin wrappers over optax."""

from __future__ import annotations

import optax

from mnistkit.hookspecs import hookimpl
from mnistkit.specs import OptimizerSpec


def adamw(learning_rate, *, b1: float = 0.9, b2: float = 0.999, weight_decay: float = 1e-4):
    return optax.adamw(learning_rate, b1=b1, b2=b2, weight_decay=weight_decay)


def adam(learning_rate, *, b1: float = 0.9, b2: float = 0.999):
    return optax.adam(learning_rate, b1=b1, b2=b2)


def sgd(learning_rate, *, momentum: float = 0.9, nesterov: bool = False):
    return optax.sgd(learning_rate, momentum=momentum or None, nesterov=nesterov)


@hookimpl
def register_optimizers(register):
    register(
        OptimizerSpec(
            name="adamw",
            factory=adamw,
            lesson="mnistkit_lessons:adamw.md",
            description="Adam with decoupled weight decay; the tutorial's choice (learning rate 0.005, b1 0.9).",
            options={"b1": 0.9, "b2": 0.999, "weight_decay": 1e-4},
        )
    )
    register(
        OptimizerSpec(
            name="adam",
            factory=adam,
            lesson="mnistkit_lessons:adamw.md",
            description="Adam: per-parameter step sizes from running gradient moments.",
            options={"b1": 0.9, "b2": 0.999},
        )
    )
    register(
        OptimizerSpec(
            name="sgd",
            factory=sgd,
            lesson="mnistkit_lessons:adamw.md",
            description="Stochastic gradient descent with (optionally Nesterov) momentum.",
            options={"momentum": 0.9, "nesterov": False},
        )
    )
