"""Checker of train-step-loss: the learner's loss_fn on two batches of a small MLP, then its gradient."""

import numpy as np

from mnistkit.curriculum.checks import Failed, function, sample


def check(learner):
    import jax

    loss_fn = function(learner, "loss_fn")
    model = small_model()
    data = sample(train=13, test=0)
    images = data.train_images.astype(np.float32)[..., None] / 255.0
    labels = np.asarray(data.train_labels, np.int32)
    try:
        for part in (slice(0, 8), slice(8, 13)):
            out, logits = compiled(_outputs, model)(images[part], labels[part], loss_fn)
            _check_batch(out, np.asarray(logits), labels[part])
        grads, own = compiled(_gradients, model)(images[:8], labels[:8], loss_fn)
    except jax.errors.TracerArrayConversionError:
        raise Failed("loss_fn turns a traced array into a NumPy array, so it cannot be differentiated or compiled; "
                     "compute the loss with optax and jax.numpy only.") from None
    if not all(np.allclose(a, b, rtol=1e-4, atol=1e-6) for a, b in zip(jax.tree.leaves(grads), jax.tree.leaves(own), strict=True)):
        raise Failed("the gradient of your loss is not the gradient of the mean cross-entropy; compute the loss from "
                     "`model(images)` without jax.lax.stop_gradient or NumPy in between.")
    return "loss_fn returns the mean cross-entropy and the logits, and its gradient is right."


def compiled(fn, model):
    """``fn(model, images, labels, loss_fn)`` as one program compiled without XLA's optimisations (it runs once)."""
    import jax
    from flax import nnx

    graphdef, state = nnx.split(model)
    program = jax.jit(lambda state, images, labels, loss_fn: fn(nnx.merge(graphdef, state), images, labels, loss_fn),
                      static_argnums=3, compiler_options={"xla_backend_optimization_level": 0})
    return lambda images, labels, loss_fn: program(state, images, labels, loss_fn)


def _outputs(model, images, labels, loss_fn):
    return loss_fn(model, images, labels), model(images)


def _gradients(model, images, labels, loss_fn):
    from flax import nnx

    _, grads = nnx.value_and_grad(loss_fn, has_aux=True)(model, images, labels)
    own = nnx.grad(lambda model: _mean_loss(model(images), labels))(model)
    return grads, own


def small_model():
    """mnistkit's MLP with one small hidden layer, initialised in one compiled program."""
    from flax import nnx
    from mnistkit_plugins.networks import MLP

    from mnistkit.host.build import initialised_in_one_program

    return initialised_in_one_program(lambda: MLP(nnx.Rngs(0), hidden=16, layers=1))


def _mean_loss(logits, labels):
    import optax

    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()


def _check_batch(out, logits, labels):
    size = len(labels)
    losses = _cross_entropy(logits, labels)
    if not isinstance(out, tuple | list):
        if np.ndim(out) == 0:
            raise Failed("your loss_fn returns only the loss; return the logits too, `return loss, logits`: the train "
                         "step asks for them with has_aux=True and the metrics read them.")
        raise Failed(f"your loss_fn returns a {type(out).__name__}; it must return the pair (loss, logits).")
    if len(out) != 2:
        raise Failed(f"your loss_fn returns {len(out)} values; it must return exactly two, (loss, logits).")
    loss, got_logits = out
    if np.shape(loss) == (size, 10) and np.ndim(got_logits) == 0:
        raise Failed("your loss_fn returns (logits, loss); the train step expects them the other way round, (loss, logits).")
    if np.shape(got_logits) != (size, 10):
        raise Failed(f"the second value your loss_fn returns has shape {np.shape(got_logits)}; it must be the logits, "
                     f"model(images), shape ({size}, 10).")
    if not np.allclose(np.asarray(got_logits), logits, rtol=1e-5, atol=1e-5):
        raise Failed("the second value your loss_fn returns is not what model(images) gives; return those logits as they are.")
    if np.shape(loss) == (size,):
        raise Failed(f"your loss is a vector of {size} per-image losses; the gradient needs one number: take their .mean().")
    if np.ndim(loss) != 0:
        raise Failed(f"your loss has shape {np.shape(loss)}; it must be one number, the mean over the batch.")
    loss = float(loss)
    mean = float(losses.mean())
    if np.isclose(loss, mean, rtol=1e-5):
        return
    if loss == 0:
        raise Failed("your loss_fn returns a loss of 0 whatever the batch; compute the cross-entropy with "
                     "optax.softmax_cross_entropy_with_integer_labels(logits, labels) and take its mean.")
    if np.isclose(loss, float(losses.sum()), rtol=1e-5):
        raise Failed(f"your loss is the sum of the {size} per-image losses ({loss:.3f}), not their mean ({mean:.3f}); "
                     "take .mean(), so the loss and the size of each step do not grow with the batch.")
    shifted = np.exp(logits - logits.max(-1, keepdims=True))
    if np.isclose(loss, float(_cross_entropy(shifted / shifted.sum(-1, keepdims=True), labels).mean()), rtol=1e-5):
        raise Failed("your loss is computed from probabilities (the softmax of the logits), but optax's cross-entropy "
                     "applies the softmax itself; pass it the logits.")
    raise Failed(f"your loss is {loss:.4f} on a batch of {size}, but the mean cross-entropy is {mean:.4f}; use "
                 "optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean().")


def _cross_entropy(logits, labels):
    """Per-image cross-entropy in NumPy (float64)."""
    shifted = logits.astype(np.float64) - logits.max(-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    return -log_probs[np.arange(len(labels)), labels]
