"""Exercise train-step-jit: one compiled training step that returns its batch's metrics.

Check your work with:  mnistkit exercise check train-step-jit
"""

import optax
from clu import metrics
from flax import nnx, struct


@struct.dataclass
class Metrics(metrics.Collection):
    accuracy: metrics.Accuracy
    loss: metrics.Average.from_output("loss")


def loss_fn(model, images, labels):
    logits = model(images)
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()
    return loss, logits


@nnx.jit
def train_step(model, optimizer, images, labels):
    """Gradients of loss_fn, the optimizer's update, and the metrics of this batch."""
    # TODO: get (loss, logits) and the gradients in one call, with nnx.value_and_grad(loss_fn, has_aux=True).
    # TODO: update the model's parameters with the optimizer.
    loss, logits = loss_fn(model, images, labels)
    return Metrics.single_from_model_output(loss=loss, logits=logits, labels=labels)
