"""Exercise clu-metrics-collection: accuracy and the mean loss as a clu Collection.

Check your work with:  mnistkit exercise check clu-metrics-collection
"""

from clu import metrics
from flax import struct


@struct.dataclass
class Metrics(metrics.Collection):
    """The accuracy and the mean loss over every image merged in."""

    # TODO: a field `accuracy` whose metric is metrics.Accuracy.
    # TODO: a field `loss` that averages the model output named "loss".
