"""Checker of train-step-jit: two steps on a counting MLP, against a step computed here from the same parameters."""

import numpy as np
from mnistkit_plugins.networks import MLP

from mnistkit.curriculum.checks import Failed, function, sample

GLOBAL = ("your train_step reads a global model or optimizer (one defined at the top of your file) instead of the "
          "`model` and `optimizer` it is given; use its arguments, so it trains whatever model it is called with.")


NOT_COMPILED = ("your train_step runs without being compiled, so every call runs the Python again; decorate it "
                "with @nnx.jit.")
GLOBAL_BATCH = ("your train_step runs the model on images it was not given (a batch defined at the top of your "
                "file?); use its `images` and `labels` arguments, so every call trains on the batch it is handed.")
RUNS: list = []  # every run of CountedMLP's Python; kept outside the module, so counting never changes what jit sees


class NotCompiled(Exception):
    """Raised by CountedMLP when it runs on concrete arrays: the step is not jitted (stops a slow eager step early)."""


class GlobalBatch(Exception):
    """Raised by CountedMLP when a compiled step hands it an array that is not one of the step's arguments."""


class CountedMLP(MLP):
    """mnistkit's MLP, noting every run of its Python (under jit that is every trace)."""

    def __call__(self, x):
        import jax
        import jax.numpy as jnp

        if not isinstance(x, jax.core.Tracer):
            # Under jit even a constant becomes a tracer: a step that is compiled but calls the model on a
            # concrete array is reading a batch from outside its arguments.
            raise GlobalBatch if isinstance(jnp.zeros(()) + 0, jax.core.Tracer) else NotCompiled
        RUNS.append(x.shape)
        return super().__call__(x)


def check(learner):
    import jax
    import optax
    from flax import nnx

    from mnistkit.host.build import initialised_in_one_program

    train_step = function(learner, "train_step")
    data = sample(train=32, test=0)
    images = data.train_images.astype(np.float32)[..., None] / 255.0
    labels = np.asarray(data.train_labels, np.int32)
    batches = [(images[:16], labels[:16]), (images[16:], labels[16:])]

    model = initialised_in_one_program(lambda: CountedMLP(nnx.Rngs(0), hidden=16, layers=1))
    optimizer = nnx.Optimizer(model, optax.adamw(0.005, b1=0.9), wrt=nnx.Param)
    before = _params(model)
    want_params, want_loss, want_accuracy = _reference_step(model, optimizer, *batches[0])
    globals_before = {name: _leaves(thing) for name, thing in vars(learner).items()
                      if isinstance(thing, nnx.Module | nnx.Optimizer)}

    RUNS.clear()
    try:
        result = train_step(model, optimizer, *batches[0])
    except NotCompiled:
        raise Failed(NOT_COMPILED) from None
    except GlobalBatch:
        raise Failed(GLOBAL_BATCH) from None
    except (ValueError, jax.errors.UnexpectedTracerError) as err:
        if "trace level" in str(err) or isinstance(err, jax.errors.UnexpectedTracerError):
            raise Failed(GLOBAL) from None
        raise
    except TypeError as err:
        if "update" in str(err) and "grads" in str(err):
            raise Failed("in this version of Flax the optimizer must be told which model to change: call "
                         "optimizer.update(model, grads).") from None
        raise
    runs = len(RUNS)
    globals_changed = [name for name, leaves in globals_before.items() if not _same(leaves, _leaves(getattr(learner, name)))]
    if runs == 0 or globals_changed:
        raise Failed(GLOBAL)
    after = _params(model)
    if _same(before, after):
        raise Failed("your train_step did not change the parameters of the model it is given; compute the gradients with "
                     "nnx.value_and_grad(loss_fn, has_aux=True) and call optimizer.update(model, grads) (and compile with "
                     "nnx.jit: under jax.jit the changes stay inside the compiled function).")
    if runs > 1:
        raise Failed(f"your train_step runs the model {runs} times per step: the metrics must come from the same forward "
                     "pass as the gradients, not a second forward pass; build them from the loss and logits that "
                     "nnx.value_and_grad returned.")
    if not _same(after, want_params, rtol=1e-4, atol=1e-6):
        raise Failed("the new parameters are not one adamw step with the gradients of loss_fn on this batch; get the "
                     "gradients from nnx.value_and_grad(loss_fn, has_aux=True)(model, images, labels) and pass them to "
                     "optimizer.update(model, grads).")
    if not callable(getattr(result, "compute", None)):
        raise Failed(f"your train_step returns a {type(result).__name__}; return the batch's metrics, "
                     "Metrics.single_from_model_output(loss=loss, logits=logits, labels=labels).")
    computed = result.compute()
    loss, accuracy = float(computed["loss"]), float(computed["accuracy"])
    if not np.isclose(loss, want_loss, rtol=1e-4):
        after_loss = float(_loss(model, *batches[0])[0])
        if np.isclose(loss, after_loss, rtol=1e-4):
            raise Failed(f"the metrics' loss ({loss:.4f}) is the updated model's, from a second forward pass after the "
                         f"update; the step's loss was {want_loss:.4f}: use the loss value_and_grad returned.")
        raise Failed(f"the metrics' loss is {loss:.4f}, but the loss of this step was {want_loss:.4f}; pass loss=loss, "
                     "the value nnx.value_and_grad returned.")
    if not np.isclose(accuracy, want_accuracy, atol=1e-6):
        raise Failed(f"the metrics' accuracy is {accuracy:.4f}, but {want_accuracy:.4f} of the batch was right before the "
                     "update; pass the logits value_and_grad returned, and the batch's labels.")

    traced = len(RUNS)
    second = _params(model)
    try:
        train_step(model, optimizer, *batches[1])
    except NotCompiled:
        raise Failed(NOT_COMPILED) from None
    if len(RUNS) > traced:
        raise Failed("a second call with batches of the same shape traced your train_step again instead of running "
                     "the compiled program; compile it once with @nnx.jit and call it with arrays of the same shapes.")
    if _same(second, _params(model)):
        raise Failed("the second call of train_step did not change the parameters; every call must take one step.")
    return "train_step takes one adamw step from a single forward pass, returns that pass's metrics, and compiles once."


def _loss(model, images, labels):
    """The mean cross-entropy and the logits, without counting the run."""
    import optax

    logits = MLP.__call__(model, images)
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean(), logits


def _reference_step(model, optimizer, images, labels):
    """One step on copies of ``model`` and ``optimizer``: the new parameters, the loss and the accuracy before it."""
    import jax
    from flax import nnx

    graphdef, state = nnx.split((model, optimizer))

    def step(state):
        model, optimizer = nnx.merge(graphdef, state)
        (loss, logits), grads = nnx.value_and_grad(_loss, has_aux=True)(model, images, labels)
        optimizer.update(model, grads)
        return nnx.state(model, nnx.Param), loss, (logits.argmax(-1) == labels).mean()

    params, loss, accuracy = jax.jit(step, compiler_options={"xla_backend_optimization_level": 0})(state)
    return [np.asarray(leaf) for leaf in jax.tree.leaves(params)], float(loss), float(accuracy)


def _params(model):
    import jax
    from flax import nnx

    return [np.asarray(leaf) for leaf in jax.tree.leaves(nnx.state(model, nnx.Param))]


def _leaves(thing):
    import jax
    from flax import nnx

    return [np.asarray(leaf) for leaf in jax.tree.leaves(nnx.state(thing))]


def _same(a, b, rtol=0.0, atol=0.0):
    return len(a) == len(b) and all(x.shape == y.shape and np.allclose(x, y, rtol=rtol, atol=atol) for x, y in zip(a, b))
