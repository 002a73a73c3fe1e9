"""The step trains the model and optimizer made at the top of the file, not the ones it is given."""

import optax
from clu import metrics
from flax import nnx, struct
from mnistkit_plugins.networks import MLP


@struct.dataclass
class Metrics(metrics.Collection):
    accuracy: metrics.Accuracy
    loss: metrics.Average.from_output("loss")


def loss_fn(model, images, labels):
    logits = model(images)
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()
    return loss, logits


model = MLP(nnx.Rngs(0), hidden=16, layers=1)  # made while trying things out
optimizer = nnx.Optimizer(model, optax.adamw(0.005, b1=0.9), wrt=nnx.Param)


@nnx.jit
def train_step(net, opt, images, labels):
    grad_fn = nnx.value_and_grad(loss_fn, has_aux=True)
    (loss, logits), grads = grad_fn(model, images, labels)
    optimizer.update(model, grads)
    return Metrics.single_from_model_output(loss=loss, logits=logits, labels=labels)
