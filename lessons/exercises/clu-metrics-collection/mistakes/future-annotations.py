"""Right fields, but the future import turns clu's annotations into strings."""

from __future__ import annotations

from clu import metrics
from flax import struct


@struct.dataclass
class Metrics(metrics.Collection):
    accuracy: metrics.Accuracy
    loss: metrics.Average.from_output("loss")
