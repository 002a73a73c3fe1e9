"""Builtin metrics: the tutorial's accuracy and loss, top-2 accuracy, the
confusion matrix with per-class accuracy, and the expected calibration error.

``accuracy`` and ``loss`` are always on; the others are chosen with
``mnistkit run --metric NAME``. ``top2`` runs inside the compiled step
(``per_example``); ``confusion`` and ``ece`` look at every test image's
logits on the host after each evaluation (``on_evaluation``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
from mnistkit_plugins import confusion

from mnistkit.hookspecs import hookimpl
from mnistkit.specs import EvaluationOutputs, MetricReport, MetricSpec

ECE_BINS = 15


def correct(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """1.0 where the highest logit is the true digit's."""
    return (logits.argmax(axis=-1) == labels).astype(jnp.float32)


def cross_entropy(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """-log softmax(logits)[label], one value per image."""
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels)


def top2_correct(logits: jax.Array, labels: jax.Array) -> jax.Array:
    """1.0 where at most one digit scores above the true one (it is in the top two)."""
    true_logit = jnp.take_along_axis(logits, labels[:, None], axis=-1)
    return ((logits > true_logit).sum(axis=-1) < 2).astype(jnp.float32)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def expected_calibration_error(logits: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS):
    """ECE and its table: images binned by confidence (top softmax probability).

    ECE is the average over bins of ``|accuracy - mean confidence|`` weighted
    by the share of images in the bin. Returns ``(ece, rows)`` with one row
    ``(low, high, count, confidence, accuracy)`` per non-empty bin.
    """
    probs = softmax(np.asarray(logits, np.float64))
    confidence = probs.max(axis=-1)
    hit = probs.argmax(axis=-1) == np.asarray(labels)
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    ece, rows = 0.0, []
    for b in range(bins):
        members = which == b
        count = int(members.sum())
        if count:
            conf, acc = float(confidence[members].mean()), float(hit[members].mean())
            ece += count / len(labels) * abs(acc - conf)
            rows.append((b / bins, (b + 1) / bins, count, conf, acc))
    return ece, rows


def ece_report(outputs: EvaluationOutputs) -> MetricReport:
    ece, rows = expected_calibration_error(outputs.logits, outputs.labels)
    lines = [f"Expected calibration error {ece:.4f} ({len(outputs.labels):,} test images, {ECE_BINS} bins)",
             "confidence     images  mean confidence  accuracy"]
    lines += [f"{low:4.2f}-{high:4.2f}  {count:>9,}  {conf:15.3f}  {acc:8.3f}" for low, high, count, conf, acc in rows]
    return MetricReport(values={"ece": ece}, text="\n".join(lines))


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
                        on_evaluation=confusion.report))
    register(MetricSpec("ece", "mnistkit_lessons:calibration.md",
                        "Expected calibration error: how far confidence is from accuracy (0 is perfect).",
                        on_evaluation=ece_report))
