"""The original tutorial's way: the metrics come from a second forward pass, after the update."""

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
    grads = nnx.grad(lambda model: loss_fn(model, images, labels)[0])(model)
    optimizer.update(model, grads)
    loss, logits = loss_fn(model, images, labels)  # the updated model, run again on the same batch
    return Metrics.single_from_model_output(loss=loss, logits=logits, labels=labels)
