"""Only the loss: the accuracy field is forgotten."""

from clu import metrics
from flax import struct


@struct.dataclass
class Metrics(metrics.Collection):
    loss: metrics.Average.from_output("loss")
