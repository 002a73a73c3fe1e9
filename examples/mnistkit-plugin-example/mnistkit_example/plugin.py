"""The ``example`` plugin: one model (``tiny-resnet``) and one metric (``confidence``).

mnistkit imports this module through the entry point in ``pyproject.toml``
and calls each ``@hookimpl`` function once with a ``register`` callback. The
contracts are in ``mnistkit.hookspecs``; ``mnistkit.testing`` checks them.

Nothing heavy is imported here: the network (``mnistkit_example.network``)
and JAX are imported inside the functions that need them, so discovering and
listing plugins stays instant however many are installed.
"""

from __future__ import annotations

from typing import Any

from mnistkit.hookspecs import hookimpl
from mnistkit.specs import MetricSpec, ModelSpec

LESSON = "mnistkit_example:lessons/tiny-resnet.md"


def tiny_resnet(rngs: Any, **options: Any) -> Any:
    """Build the network; mnistkit calls this with ``nnx.Rngs`` and the model's options."""
    from mnistkit_example.network import TinyResNet

    return TinyResNet(rngs, **options)


def confidence(logits: Any, labels: Any) -> Any:
    """The top softmax probability of each image: how sure the model is, right or wrong."""
    import jax

    del labels  # confidence does not look at the answer
    return jax.nn.softmax(logits, axis=-1).max(axis=-1)


@hookimpl
def register_models(register):
    register(ModelSpec(
        name="tiny-resnet",
        factory=tiny_resnet,
        lesson=LESSON,
        description="A tiny residual CNN: stem conv, residual blocks (x + f(x)), pool, dense 10.",
        options={"channels": 16, "blocks": 1},
        accuracy_floor=0.8,
    ))


@hookimpl
def register_metrics(register):
    register(MetricSpec(
        name="confidence",
        lesson=LESSON,
        description="Mean top softmax probability; compare it with accuracy to spot over-confidence.",
        per_example=confidence,
        bounds=(0.0, 1.0),
    ))
