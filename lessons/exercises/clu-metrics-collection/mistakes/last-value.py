"""LastValue instead of Average: merging keeps only the newest batch's loss."""

from clu import metrics
from flax import struct


@struct.dataclass
class Metrics(metrics.Collection):
    accuracy: metrics.Accuracy
    loss: metrics.LastValue.from_output("loss")
