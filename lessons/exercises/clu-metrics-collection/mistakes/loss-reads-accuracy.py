"""The loss field averages an output named after the wrong metric."""

from clu import metrics
from flax import struct


@struct.dataclass
class Metrics(metrics.Collection):
    accuracy: metrics.Accuracy
    loss: metrics.Average.from_output("accuracy")
