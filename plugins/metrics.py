"""Builtin metrics: the tutorial's accuracy and loss."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from mnistkit.hookspecs import hookimpl
from mnistkit.specs import MetricSpec


def correct(logits: jax.Array, labels: jax.Array) -> jax.Array:
    return (logits.argmax(axis=-1) == labels).astype(jnp.float32)


def cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels)


@hookimpl
def register_metrics(register):
    register(MetricSpec("accuracy", "mnistkit_lessons:metrics.md", "Share of images whose top logit is the true digit.",
                        per_example=correct))
    register(MetricSpec("loss", "mnistkit_lessons:metrics.md", "Mean softmax cross-entropy.",
                        per_example=cross_entropy, bounds=(0.0, float("inf"))))
