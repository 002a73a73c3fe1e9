"""The hooks a mnistkit plugin can implement: this module is the contract.

A plugin is a module with functions decorated by ``hookimpl``. The host calls
each hook once per plugin and hands it a ``register`` callback; the plugin
calls ``register(spec)`` once per thing it provides (a ``ModelSpec``,
``OptimizerSpec`` or ``MetricSpec`` from ``mnistkit.specs``). The host
validates every spec, and a bad one is reported with the plugin's name
without stopping the others. Builtin plugins (``mnistkit_plugins``) use
exactly this path, found through the ``mnistkit`` entry-point group like
third-party packages::

    [project.entry-points.mnistkit]
    my_plugin = "my_package.plugin"

The entry point's name is the plugin's name (``mnistkit plugins``,
``--disable-plugin my_plugin``). A ``.py`` file or module can also be loaded
with ``--plugin PATH_OR_MODULE`` or ``MNISTKIT_PLUGINS``.

The host imports every plugin module each time it starts, even for
``mnistkit plugins`` and ``mnistkit lessons``, so a plugin module should
import only ``mnistkit.hookspecs`` and ``mnistkit.specs`` at its top, and
import JAX, Flax, optax or TensorFlow inside its factories (and metric
functions): listing then takes milliseconds, not seconds. The builtin
plugins do so (``mnistkit_plugins.models`` builds the networks of
``mnistkit_plugins.networks`` inside its factories); ``mnistkit plugins``
names any plugin whose import takes more than a second.

Every spec names its paired lesson, ``lesson="my_package:lessons/my_model.md"``
(a markdown file shipped as package data, read with ``importlib.resources``;
for a plugin file, a path relative to it). Registering a name that another
plugin registered, a spec of the wrong type, or a lesson that does not exist
is a problem reported as ``plugin 'NAME': ...``; the registration is skipped.

A lesson can come with exercises, code the learner writes and mnistkit
checks: put each in a folder of an ``exercises/`` folder beside the lesson
file (``my_package/lessons/exercises/my-exercise/``, shipped as package data
too), with ``exercise.md`` (front matter whose ``lesson:`` is the lesson's
id, the task, ``## Hints``), ``starter.py``, ``solution.py``, ``check.py`` and
``mistakes/*.py``. ``mnistkit exercises`` and the TUI list them after the
curriculum's, and the contract check ``lesson_exercises`` proves them: the
starter fails with the message it names, the solution passes, each mistake
fails with its own. ``mnistkit.curriculum.exercises`` describes the format;
``lessons/README.md`` is the guide.

Plugin modules should not do heavy work at import: they are imported only
when a command needs plugins. ``mnistkit.testing`` checks every registration
against these contracts (``pytest --mnistkit-plugin my_plugin``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

PROJECT = "mnistkit"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_models(register: Callable[[Any], None]) -> None:
    """Register models by calling ``register(ModelSpec(...))`` once per model.

    ``ModelSpec.factory`` is called as ``factory(rngs, **options)``:
    ``rngs`` is an ``nnx.Rngs`` seeded from the run's seed (draw every random
    number from it, so the same seed gives the same model), and ``options``
    are the spec's declared ``options`` with their defaults, overridden by
    ``--model-opt key=value`` (converted to the default's type). It returns an
    ``nnx.Module`` that maps a float32 batch of shape ``(B, 28, 28, 1)`` with
    values in [0, 1] to float32 logits of shape ``(B, 10)`` for any ``B``.
    mnistkit calls the factory under ``jax.jit``, so that every initialiser
    runs in one compiled program; a factory that cannot be traced (it reads
    a parameter's value on the host, or loads weights from a file) is simply
    called again as written, so nothing is required of it.

    Models with dropout or batch norm follow ``model.train()`` /
    ``model.eval()``: the engine calls ``model.train()`` before update steps
    and ``model.eval()`` before evaluation and prediction, and eval mode must
    be deterministic and leave the state unchanged. The call must not change
    the module's structure (no Python attributes set in ``__call__``), or
    every step compiles again.

    A factory that raises (any ``Exception``), returns something else than
    an ``nnx.Module`` or gives the wrong output shape stops ``mnistkit run``
    with one line naming the plugin and the model, and ``--verbose`` adds the
    traceback. The line quotes the exception's message; for ``TypeError`` and
    ``ValueError``, which is how to reject a bad option value, the message
    alone, so write it for the user.
    ``accuracy_floor`` and ``expected_failures`` are read by the contract
    checks (``mnistkit.testing``).
    """


@hookspec
def register_optimizers(register: Callable[[Any], None]) -> None:
    """Register optimizers by calling ``register(OptimizerSpec(...))`` once per optimizer.

    ``OptimizerSpec.factory`` is called as ``factory(learning_rate, **options)``
    where ``learning_rate`` is a float or an optax schedule (a function of the
    step count, from ``mnistkit run --schedule``; pass it on to optax as is),
    and returns an ``optax.GradientTransformation``. The engine wraps it in
    ``nnx.Optimizer(model, tx, wrt=nnx.Param)``. ``OptimizerSpec.learning_rate``
    is the rate used when the user gives no ``--learning-rate``.
    """


@hookspec
def register_metrics(register: Callable[[Any], None]) -> None:
    """Register metrics by calling ``register(MetricSpec(...))`` once per metric.

    The name must be a Python identifier: it becomes the ``train_<name>`` and
    ``test_<name>`` columns of the history (metrics.csv/json, curves.png,
    TensorBoard, the TUI). A metric implements one or both of:

    ``MetricSpec.per_example(logits, labels)`` receives float32 logits
    ``(B, 10)`` and int32 labels ``(B,)`` inside the jitted train and
    evaluation steps and returns ``(B,)`` float values (``jax.numpy`` only, no
    host calls; keep it cheap, it runs every step). Their mean over an epoch's
    training images becomes ``train_<name>`` and over all test images
    ``test_<name>``.

    ``MetricSpec.on_evaluation(EvaluationOutputs)`` runs on the host after
    every evaluation with all test logits and labels as numpy arrays and
    returns a ``MetricReport`` or ``None``: ``values`` join the epoch's test
    metrics (``test_<key>``), ``text`` is printed at the end of a run,
    ``artifacts`` (file name -> bytes, e.g. a PNG) are written into the run
    directory.

    Every value must be finite and within ``MetricSpec.bounds``; a value
    outside them stops the run with a message naming the plugin. The builtin
    ``accuracy`` and ``loss`` are always on; others are chosen with
    ``mnistkit run --metric NAME``.
    """
