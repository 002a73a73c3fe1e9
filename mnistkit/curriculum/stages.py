"""Runnable stages: each lesson's step of the tutorial, run on real mnistkit code.

A stage is a named function ``run(ctx, emit) -> values``. ``ctx`` is a
``StageContext`` holding what the stages have built so far (the data, the
model, the optimizer, the trained model and its history); ``emit`` receives
what a person should see, as it happens: ``str`` (plain text), rich
renderables (tables, text, the digit grid), ``Note`` (what the stage
machinery is doing, such as recomputing a requirement) and, from the
``train`` stage, every ``mnistkit.engine.events`` event of the run, so a view can
show live metrics. ``values`` are plain numbers and strings for tests and
views (``{"params": 824458}``). Stage functions print nothing.

``run_stage(ctx, "predict", emit)`` first runs, in order, every stage that
``predict`` needs and that ``ctx`` does not hold yet, so a learner can jump to
any stage; ``reset(ctx, "model")`` forgets a stage and everything built on it.
The ``train`` stage keeps its trained model in mnistkit's home
(``<home>/lessons/``) so another program (the next ``mnistkit lesson run``,
the TUI) restores it instead of training again with the same settings.

Importing this module is cheap; each stage imports JAX and friends itself.
"""

from __future__ import annotations

import time
from typing import Any

from mnistkit.curriculum import tutorial_stages  # registers the tutorial's stages
from mnistkit.curriculum.context import (
    STAGES,
    Emit,
    Note,
    Stage,
    StageContext,
    StageResult,
    StageStopped,
    lesson_config,
    plugin_registry,
    settle_config,
)
from mnistkit.curriculum.train_cache import cache_paths, restore_training
from mnistkit.errors import ConfigError

__all__ = ["STAGES", "Emit", "Note", "Stage", "StageContext", "StageResult", "StageStopped", "dependents", "get_stage", "lesson_config",
           "plan", "plugin_registry", "reset", "run_stage", "tutorial_stages"]


def get_stage(name: str) -> Stage:
    if name not in STAGES:
        raise ConfigError(f"no stage {name!r}; the stages are: {', '.join(STAGES)}")
    return STAGES[name]


def plan(name: str) -> list[str]:
    """``name``'s requirements, each after its own, then ``name``."""
    order: list[str] = []

    def visit(current: str) -> None:
        for required in get_stage(current).requires:
            visit(required)
        if current not in order:
            order.append(current)

    visit(name)
    return order


def dependents(name: str) -> list[str]:
    """The stages that build on ``name``, directly or not."""
    get_stage(name)
    return [other for other in STAGES if other != name and name in plan(other)]


def run_stage(ctx: StageContext, name: str, emit: Emit = lambda item: None) -> StageResult:
    """Run stage ``name`` (again, if it ran before), after any requirement ``ctx`` lacks.

    Requirements already in ``ctx`` are reused; a missing ``train`` is
    restored from the cache when its settings match. What builds on ``name``
    is forgotten, since it would describe the old result. Errors a user can
    cause raise ``MnistkitError``; a plugin's fault is a ``PluginError`` that
    names the plugin, as in ``mnistkit run``.
    """
    settle_config(ctx)
    with plugin_registry(ctx).blame():
        for required in plan(name)[:-1]:
            if required in ctx.results:
                continue
            if required == "train" and restore_training(ctx, emit):
                continue
            emit(Note(f"First the {required!r} stage ({get_stage(required).title}), which {name!r} builds on."))
            _run_one(ctx, required, emit)
        for other in dependents(name):
            _forget(ctx, other)
        return _run_one(ctx, name, emit)


def _run_one(ctx: StageContext, name: str, emit: Emit) -> StageResult:
    shown: list[Any] = []

    def collect(item: Any) -> None:
        shown.append(item)
        emit(item)

    start = time.perf_counter()
    values = get_stage(name).run(ctx, collect)
    result = StageResult(name, values, tuple(shown), time.perf_counter() - start)
    ctx.results[name] = result
    return result


def reset(ctx: StageContext, name: str) -> list[str]:
    """Forget stage ``name`` and every stage built on it, in ``ctx`` and on disk.

    Returns the names of the stages forgotten.
    """
    names = [name, *dependents(name)]
    for each in names:
        _forget(ctx, each)
    if "train" in names:
        cache_paths(ctx)[0].unlink(missing_ok=True)
        cache_paths(ctx)[1].unlink(missing_ok=True)
    return names


def _forget(ctx: StageContext, name: str) -> None:
    ctx.results.pop(name, None)
    for attribute in get_stage(name).produces:
        setattr(ctx, attribute, StageContext.__dataclass_fields__[attribute].default)
