"""Padded to whole batches, but the mask never reaches the metrics: the padding is scored too."""

import numpy as np
import optax
from clu import metrics
from flax import nnx, struct


@struct.dataclass
class Metrics(metrics.Collection):
    accuracy: metrics.Accuracy
    loss: metrics.Average.from_output("loss")


@nnx.jit
def eval_step(model, images, labels, mask):
    logits = model(images)
    losses = optax.softmax_cross_entropy_with_integer_labels(logits, labels)
    return Metrics.single_from_model_output(loss=losses, logits=logits, labels=labels)


def evaluate(model, images, labels, batch_size=32):
    model.eval()
    totals = Metrics.empty()
    for start in range(0, len(images), batch_size):
        batch_images = images[start:start + batch_size]
        batch_labels = labels[start:start + batch_size]
        real = len(batch_labels)
        mask = np.arange(batch_size) < real
        if real < batch_size:
            padding = batch_size - real
            batch_images = np.concatenate([batch_images, np.zeros((padding, *batch_images.shape[1:]), batch_images.dtype)])
            batch_labels = np.concatenate([batch_labels, np.zeros(padding, batch_labels.dtype)])
        totals = totals.merge(eval_step(model, batch_images, batch_labels, mask))
    model.train()
    return {name: float(value) for name, value in totals.compute().items()}
