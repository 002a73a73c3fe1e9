"""The original tutorial's test pipeline: only whole batches, so the last few images are never scored."""

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
    return Metrics.single_from_model_output(loss=losses, logits=logits, labels=labels, mask=mask)


def evaluate(model, images, labels, batch_size=32):
    model.eval()
    totals = Metrics.empty()
    for batch in range(len(images) // batch_size):
        part = slice(batch * batch_size, (batch + 1) * batch_size)
        mask = np.ones(batch_size, dtype=bool)
        totals = totals.merge(eval_step(model, images[part], labels[part], mask))
    model.train()
    return {name: float(value) for name, value in totals.compute().items()}
