"""What an exercise's ``check.py`` is written with: ``Failed`` and a few helpers.

A checker is a module with one function::

    from mnistkit.curriculum.checks import Failed, function

    def check(learner):                 # the learner's file, imported as a module
        scale = function(learner, "scale")
        image, _ = scale(np.full((28, 28), 255, np.uint8), 3)
        if image.dtype != np.float32:
            raise Failed(f"scale returned {image.dtype} pixels; cast them to float32.")
        return "scale gives float32 pixels in [0, 1]."

It tests behaviour, not text: it calls what the learner wrote on small data
(``sample``: the bundled sample, or part of it) and raises ``Failed`` with one
or two sentences saying what to fix. It runs in a process of its own
(``mnistkit.curriculum.check_runner``), so it may train, jit and import what
it likes. Where it trains a model the way ``mnistkit run`` does, it uses the
run API (``train_briefly``), not a copy of the loop.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any


class Failed(Exception):
    """The learner's code does not do what the exercise asks; the message says what to fix."""


def function(learner, name: str) -> Callable[..., Any]:
    """The learner's function (or class) ``name``; ``Failed`` when the file does not define it."""
    value = getattr(learner, name, None)
    if value is None:
        raise Failed(f"your file defines no `{name}`; keep the name the starter file gives it.")
    if not callable(value):
        raise Failed(f"`{name}` in your file is a {type(value).__name__}, not a function.")
    return value


def value(learner, name: str) -> Any:
    """A top-level name the learner's file must set; ``Failed`` when it is missing or still ``...``."""
    if not hasattr(learner, name) or getattr(learner, name) is Ellipsis:
        raise Failed(f"set `{name}` at the top of your file (the TODO says to what).")
    return getattr(learner, name)


def require(condition: object, message: str) -> None:
    if not condition:
        raise Failed(message)


@functools.cache
def sample(train: int = 6000, test: int = 1000):
    """The bundled MNIST sample (``MnistArrays``), or its first ``train`` and ``test`` images."""
    import dataclasses

    from mnistkit.data import load_mnist

    arrays = load_mnist("sample")
    return dataclasses.replace(arrays, train_images=arrays.train_images[:train], train_labels=arrays.train_labels[:train],
                               test_images=arrays.test_images[:test], test_labels=arrays.test_labels[:test])


def train_briefly(out, *, learning_rate: float | None = None, epochs: float = 1, train: int = 640, test: int = 200,
                  model: str = "cnn", seed: int = 0, **options: Any):
    """A ``mnistkit.runs.assemble.Run`` prepared (not started) on part of the sample, writing under ``out``.

    The same ``prepare`` as ``mnistkit run``, so a check that trains uses the
    kit's engine; iterate ``run.events()`` to train.
    """
    from mnistkit.host.loading import load_registry
    from mnistkit.runs.assemble import prepare
    from mnistkit.runs.config import RunConfig

    config = RunConfig(model=model, epochs=epochs, learning_rate=learning_rate, seed=seed, data="sample", **options)
    return prepare(config, load_registry(), out=out, data=sample(train, test))
