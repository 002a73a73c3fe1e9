"""Builtin metrics: the tutorial's accuracy and loss, top-2 accuracy, the
confusion matrix with per-class accuracy, and the expected calibration error.

``accuracy`` and ``loss`` are always on; the others are chosen with
``mnistkit run --metric NAME``. ``top2`` runs inside the compiled step
(``per_example``); ``confusion`` and ``ece`` look at every test image's
logits on the host after each evaluation (``on_evaluation``).

JAX and optax are imported inside the functions that use them (traced once,
inside the compiled step), and the host-side reports (``confusion``,
``calibration``) when a run computes them, so listing plugins imports none
of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mnistkit.hookspecs import hookimpl
from mnistkit.specs import EvaluationOutputs, MetricReport, MetricSpec

if TYPE_CHECKING:
    import jax


def correct(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """1.0 where the highest logit is the true digit's."""
    import jax.numpy as jnp

    return (logits.argmax(axis=-1) == labels).astype(jnp.float32)


def cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """-log softmax(logits)[label], one value per image."""
    import optax

    return optax.softmax_cross_entropy_with_integer_labels(logits, labels)


def top2_correct(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """1.0 where at most one digit scores above the true one (it is in the top two)."""
    import jax.numpy as jnp

    true_logit = jnp.take_along_axis(logits, labels[:, None], axis=-1)
    return ((logits > true_logit).sum(axis=-1) < 2).astype(jnp.float32)


def confusion_report(outputs: EvaluationOutputs) -> MetricReport:
    from mnistkit_plugins import confusion

    return confusion.report(outputs)


def ece_report(outputs: EvaluationOutputs) -> MetricReport:
    from mnistkit_plugins import calibration

    return calibration.ece_report(outputs)


@hookimpl
def register_metrics(register):
    register(MetricSpec("accuracy", "mnistkit_lessons:metrics.md",
                        "Share of images whose top logit is the true digit (always on).", per_example=correct))
    register(MetricSpec("loss", "mnistkit_lessons:metrics.md",
                        "Mean softmax cross-entropy (always on).", per_example=cross_entropy,
                        bounds=(0.0, float("inf"))))
    register(MetricSpec("top2", "mnistkit_lessons:top2.md",
                        "Share of images whose true digit is among the two highest logits.", per_example=top2_correct))
    register(MetricSpec("confusion", "mnistkit_lessons:confusion.md",
                        "Per-class accuracy and the confusion matrix (confusion.png, confusion.csv, terminal table).",
                        on_evaluation=confusion_report))
    register(MetricSpec("ece", "mnistkit_lessons:calibration.md",
                        "Expected calibration error: how far confidence is from accuracy (0 is perfect).",
                        on_evaluation=ece_report))
