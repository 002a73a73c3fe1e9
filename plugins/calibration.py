"""The expected calibration error: how far a model's confidence is from its accuracy, on the host.

``mnistkit_plugins.metrics`` registers it as the ``ece`` metric and imports
this module only when a run computes it.
"""

from __future__ import annotations

import numpy as np

from mnistkit.specs import EvaluationOutputs, MetricReport

ECE_BINS = 15


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
