"""Exercise clu-metrics-collection, a reference solution."""

from clu import metrics
from flax import struct


@struct.dataclass
class Metrics(metrics.Collection):
    """The accuracy and the mean loss over every image merged in."""

    accuracy: metrics.Accuracy
    loss: metrics.Average.from_output("loss")
