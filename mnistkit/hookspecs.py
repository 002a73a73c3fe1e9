"""The hooks a mnistkit plugin can implement: this module is the contract.

A plugin is a module (or object) with functions decorated by ``hookimpl``. The
host calls each hook once per plugin and hands it a ``register`` callback; the
plugin calls ``register(spec)`` once per thing it provides. The host validates
every spec, and a bad one is reported with the plugin's name without stopping
the others. Builtin plugins (``mnistkit_plugins``) use exactly this path,
found through the ``mnistkit`` entry-point group like third-party packages::

    [project.entry-points.mnistkit]
    my_models = "my_package.models"

Plugin modules should not do heavy work at import: they are imported only
when a command needs plugins.
"""

from __future__ import annotations

import pluggy

PROJECT = "mnistkit"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_models(register):  # type: ignore[no-untyped-def]
    """Register models by calling ``register(ModelSpec(...))`` once per model.

    A ``ModelSpec.factory`` is called as ``factory(rngs, **options)`` where
    ``rngs`` is an ``nnx.Rngs`` seeded from the run's seed and ``options`` are
    the spec's declared options (defaults overridden by ``--model-opt``). It
    returns an ``nnx.Module`` that maps a float32 batch of shape
    ``(B, 28, 28, 1)`` with values in [0, 1] to float32 logits of shape
    ``(B, 10)``. Models with dropout or batch norm follow ``model.train()`` /
    ``model.eval()``: the engine puts the model in train mode for updates and
    in eval mode for evaluation and prediction.
    """


@hookspec
def register_optimizers(register):  # type: ignore[no-untyped-def]
    """Register optimizers by calling ``register(OptimizerSpec(...))``.

    An ``OptimizerSpec.factory`` is called as
    ``factory(learning_rate, **options)`` where ``learning_rate`` is a float
    or an optax schedule (a function of the step count), and returns an
    ``optax.GradientTransformation``. The engine wraps it in
    ``nnx.Optimizer(model, tx, wrt=nnx.Param)``.
    """


@hookspec
def register_metrics(register):  # type: ignore[no-untyped-def]
    """Register metrics by calling ``register(MetricSpec(...))``.

    ``MetricSpec.per_example(logits, labels)`` receives float32 logits
    ``(B, 10)`` and int32 labels ``(B,)`` inside the jitted train and
    evaluation steps and returns ``(B,)`` values (jit-compatible, no host
    calls); their mean over an epoch's training images becomes
    ``train_<name>`` and over all test images ``test_<name>``.
    ``MetricSpec.on_evaluation(EvaluationOutputs)`` runs on the host after
    every evaluation with all test logits and labels as numpy arrays and
    returns a ``MetricReport`` (extra values, terminal text, files for the run
    directory) or ``None``. Every value must be finite and within
    ``MetricSpec.bounds``. The builtin ``accuracy`` and ``loss`` are metrics
    like any other and are always on; others are chosen with ``--metric``.
    """
