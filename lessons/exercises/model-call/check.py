"""Checker of model-call: DigitCNN has the lesson's 824,458 parameters and its forward pass gives the lesson's logits."""

import traceback
from pathlib import Path

import numpy as np

from mnistkit.curriculum.checks import Failed, function

PARAMETERS = 824_458
LAYERS = {"conv1": 320, "conv2": 18_496, "hidden": 803_072, "logits": 2_570}


def _count(tree) -> int:
    import jax

    return int(sum(leaf.size for leaf in jax.tree.leaves(tree)))


def _parameters(model) -> None:
    from flax import nnx

    params = nnx.state(model, nnx.Param)
    total = _count(params)
    if total == PARAMETERS:
        return
    hidden = getattr(model, "hidden", None)
    inputs = getattr(hidden, "in_features", None)
    if inputs is not None and inputs != 7 * 7 * 64:
        raise Failed(f"your model has {total:,} parameters, not {PARAMETERS:,}: your first Linear (hidden) expects {inputs:,} "
                     "inputs; after two 2x2 poolings a 28x28 image is 7x7x64 = 3136, so use nnx.Linear(7 * 7 * 64, 256, ...).")
    layers = {name: _count(params[name]) for name in LAYERS if name in params}
    off = [f"{name} has {count:,} (the lesson's has {LAYERS[name]:,})" for name, count in layers.items() if count != LAYERS[name]]
    raise Failed(f"your model has {total:,} parameters, not the lesson's {PARAMETERS:,}: "
                 + ("; ".join(off) if off else "keep the four layers the starter creates, conv1, conv2, hidden and logits") + ".")


def _build(cnn):
    """``cnn(nnx.Rngs(0))``, its initialisers compiled as one program the way mnistkit builds a model (seconds faster)."""
    from flax import nnx

    from mnistkit.host.build import initialised_in_one_program

    try:
        return initialised_in_one_program(lambda: cnn(nnx.Rngs(0)))
    except Exception:  # noqa: BLE001 - a constructor that cannot be traced is built as written, and raises as written
        return cnn(nnx.Rngs(0))


def _forward(model, x, pool, relu_convs=True, relu_hidden=True):
    """The lesson's forward pass through the learner's own layers, with the variants a slip produces."""
    from flax import nnx

    def act(y, on):
        return nnx.relu(y) if on else y

    x = pool(act(model.conv1(x), relu_convs))
    x = pool(act(model.conv2(x), relu_convs))
    x = x.reshape(x.shape[0], -1)
    return model.logits(act(model.hidden(x), relu_hidden))


def _call(model, x, learner_file: str):
    """The model's logits for ``x``, compiled with jax.jit as training compiles it (faster than op by op on a CPU)."""
    from flax import nnx

    try:
        return np.asarray(nnx.jit(lambda module, images: module(images))(model, x))
    except Exception:  # noqa: BLE001, S110 - run it again as written, for the learner's own error and line
        pass
    try:
        model(x)
    except Exception as err:  # noqa: BLE001 - the learner's forward pass may raise anything
        frames = [f for f in traceback.extract_tb(err.__traceback__) if Path(f.filename) == Path(learner_file)]
        where = f" at line {frames[-1].lineno} (`{(frames[-1].line or '').strip()}`)" if frames else ""
        if isinstance(err, NotImplementedError):
            raise Failed(f"not written yet{where}: replace the TODO in __call__ with the forward pass.") from None
        first = str(err).strip().splitlines()[0][:160].rstrip(".") if str(err).strip() else ""
        raise Failed(f"calling your model on images of shape {x.shape} raised {type(err).__name__}{where}: {first}. Follow the "
                     "shapes: (B, 7, 7, 64) after the second halve; flatten to (B, 3136) with x.reshape(x.shape[0], -1) "
                     "before hidden.") from None
    raise Failed("your model runs on plain arrays but fails under jax.jit, which training uses: inside __call__ use "
                 "jax.numpy and nnx functions, not NumPy, and no Python `if` on the values of x.")


def check(learner):
    import jax
    from flax import nnx

    cnn = function(learner, "DigitCNN")
    model = _build(cnn)
    _parameters(model)

    def avg(y):
        return nnx.avg_pool(y, window_shape=(2, 2), strides=(2, 2))

    def largest(y):
        return nnx.max_pool(y, window_shape=(2, 2), strides=(2, 2))

    rng = np.random.default_rng(3)
    for batch in (2, 5):
        x = rng.uniform(0, 1, size=(batch, 28, 28, 1)).astype(np.float32)
        out = _call(model, x, learner.__file__)
        if out.shape != (batch, 10):
            raise Failed(f"for images of shape {x.shape} your model returns shape {out.shape}; it must return ten logits "
                         f"per image, shape ({batch}, 10).")
        reference = np.asarray(nnx.jit(lambda module, images: _forward(module, images, avg))(model, x))
        if np.allclose(out, reference, atol=1e-4):
            continue
        if np.allclose(out, np.asarray(jax.nn.softmax(reference, axis=-1)), atol=1e-5):
            raise Failed("your model returns probabilities (a softmax of the logits); return the logits themselves, since "
                         "the loss applies softmax on its own.")
        if np.allclose(out, np.asarray(_forward(model, x, largest)), atol=1e-4):
            raise Failed("your model uses max pooling; the lesson's network averages each 2x2 patch: use halve.")
        for convs, hidden in ((False, False), (False, True), (True, False)):
            if np.allclose(out, np.asarray(_forward(model, x, avg, convs, hidden)), atol=1e-4):
                missing = "the convolutions" if not convs else "hidden"
                missing = "the convolutions and hidden" if not (convs or hidden) else missing
                raise Failed(f"your model leaves out the relu after {missing}: without it those layers stay linear. "
                             "Apply nnx.relu after each convolution and after hidden.")
        raise Failed("your logits differ from the lesson's forward pass through your own layers: conv1, relu, halve; conv2, "
                     "relu, halve; flatten; hidden, relu; logits.")
    return "DigitCNN has 824,458 parameters and returns the lesson's (B, 10) logits for any batch size."
