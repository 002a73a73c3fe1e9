"""Checker of evaluate-mask: evaluate a small MLP on test sets that are not whole batches; compare with exact numbers."""

import numpy as np
from mnistkit_plugins.networks import MLP

from mnistkit.curriculum.checks import Failed, function, sample

ROWS: list = []  # the rows of every batch ShapesMLP ran on, kept outside the module's state


class ShapesMLP(MLP):
    """mnistkit's MLP, noting the number of rows of every batch it is run on (under jit: every trace)."""

    def __call__(self, x):
        ROWS.append(int(x.shape[0]))
        return super().__call__(x)


def check(learner):
    import jax
    from flax import nnx

    from mnistkit.host.build import initialised_in_one_program

    evaluate = function(learner, "evaluate")
    function(learner, "eval_step")
    data = sample(train=0, test=100)
    images = data.test_images.astype(np.float32)[..., None] / 255.0
    labels = np.asarray(data.test_labels, np.int32)
    model = initialised_in_one_program(lambda: ShapesMLP(nnx.Rngs(0), hidden=16, layers=1))
    graphdef, state = nnx.split(model)
    logits = np.asarray(jax.jit(lambda state, x: MLP.__call__(nnx.merge(graphdef, state), x),
                                compiler_options={"xla_backend_optimization_level": 0})(state, images))
    right = logits.argmax(-1) == labels
    losses = _cross_entropy(logits, labels)

    for part, batch_size in ((slice(0, 100), 32), (slice(55, 100), 20)):
        count = len(labels[part])
        left = count % batch_size
        ROWS.clear()
        result = evaluate(model, images[part], labels[part], batch_size=batch_size)
        other = sorted(set(ROWS) - {batch_size})
        if other:
            raise Failed(f"with {count} images in batches of {batch_size}, the model got a batch of {other[0]} rows; "
                         f"pad the last batch to {batch_size} rows (and mark the padding False in the mask), so every "
                         "batch has one shape and eval_step compiles once.")
        if hasattr(result, "compute"):
            result = result.compute()
        if not isinstance(result, dict) or not {"accuracy", "loss"} <= set(result):
            raise Failed("evaluate must return a dict with the keys \"accuracy\" and \"loss\".")
        accuracy, loss = float(result["accuracy"]), float(result["loss"])

        def matches(n, accuracy=accuracy, loss=loss, part=part):
            return (np.isclose(accuracy, right[part][:n].mean(), atol=1e-6)
                    and np.isclose(loss, losses[part][:n].mean(), rtol=1e-4))

        if matches(count):
            continue
        if left and matches(count - left):
            raise Failed(f"your evaluate drops the last partial batch: {left} of the {count} test images were not "
                         f"scored (batches of {batch_size}); pad that batch to {batch_size} rows and mask the padding "
                         "instead of leaving it out.")
        padded = -(-count // batch_size) * batch_size - count
        accuracy_ok = np.isclose(accuracy, right[part].mean(), atol=1e-6)
        if not accuracy_ok and ROWS:
            raise Failed(f"the {padded} padded rows are counted as if they were test images (accuracy {accuracy:.4f}, "
                         f"not {right[part].mean():.4f} over the {count} real ones); pass mask=mask to "
                         "single_from_model_output in eval_step, False on the padding.")
        if accuracy_ok:
            raise Failed(f"the accuracy is right but the loss is {loss:.4f}, not {losses[part].mean():.4f}; give the "
                         "metrics the per-image losses (not their mean), so that the mask leaves the padding out of "
                         "the loss too.")
        raise Failed(f"over {count} test images your evaluate gives accuracy {accuracy:.4f} and loss {loss:.4f}, but "
                     f"they are {right[part].mean():.4f} and {losses[part].mean():.4f}; score every image once, each in "
                     "order.")
    return "evaluate scores every test image once, in batches of one shape, with the padding masked out."


def _cross_entropy(logits, labels):
    """Per-image cross-entropy in NumPy (float64)."""
    shifted = logits.astype(np.float64) - logits.max(-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    return -log_probs[np.arange(len(labels)), labels]
