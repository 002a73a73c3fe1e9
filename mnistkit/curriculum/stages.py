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

import importlib.metadata
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mnistkit.errors import ConfigError

Emit = Callable[[Any], None]


@dataclass(frozen=True)
class Note:
    """A message about the stages themselves, such as "recomputing data first"."""

    text: str


@dataclass(frozen=True)
class StageSettings:
    """The knobs the stages use; the defaults are the tutorial's, with short training."""

    data: str = "auto"
    data_dir: str | None = None
    model: str | None = None  # None: the tutorial's "cnn"
    optimizer: str | None = None  # None: the tutorial's "adamw"
    learning_rate: float | None = None  # None: the optimizer's own default (0.005 for adamw)
    batch_size: int = 32
    epochs: int = 2
    seed: int = 0
    out_dir: Path | None = None  # curves.png, predictions.png, the train cache; default <home>/lessons
    cache: bool = True  # keep the trained model on disk for the next program

    @property
    def model_name(self) -> str:
        return self.model or "cnn"

    @property
    def optimizer_name(self) -> str:
        return self.optimizer or "adamw"

    def output_dir(self) -> Path:
        if self.out_dir is not None:
            return Path(self.out_dir)
        from mnistkit.data.locations import home_dir

        return home_dir() / "lessons"


@dataclass(frozen=True)
class StageResult:
    """What a finished stage left: its values and everything it emitted."""

    stage: str
    values: dict[str, Any]
    shown: tuple[Any, ...]
    seconds: float


@dataclass
class StageContext:
    """Shared state of the stages; each stage sets the attributes it ``produces``."""

    settings: StageSettings = field(default_factory=StageSettings)
    results: dict[str, StageResult] = field(default_factory=dict)
    registry: Any = None
    data: Any = None  # mnistkit.data.MnistArrays
    model: Any = None  # the freshly initialised model
    tx: Any = None  # the optax GradientTransformation
    optimizer: Any = None  # nnx.Optimizer over ``model``
    trained: Any = None  # a trained copy of ``model``
    history: tuple[dict[str, float], ...] = ()
    predictions: Any = None  # mnistkit.engine.events.Predictions


@dataclass(frozen=True)
class Stage:
    """A runnable step of the tutorial; see ``stage`` for the fields."""

    name: str
    title: str
    requires: tuple[str, ...]
    produces: tuple[str, ...]
    run: Callable[[StageContext, Emit], dict[str, Any]]


STAGES: dict[str, Stage] = {}


def stage(name: str, title: str, requires: tuple[str, ...] = (), produces: tuple[str, ...] = ()):
    """Register the decorated ``run(ctx, emit) -> values`` as stage ``name``.

    ``requires`` names the stages whose results it reads from the context;
    ``produces`` the context attributes it sets (cleared when it is reset).
    """

    def add(fn: Callable[[StageContext, Emit], dict[str, Any]]):
        STAGES[name] = Stage(name, title, requires, produces, fn)
        return fn

    return add


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
    cause raise ``MnistkitError``.
    """
    for required in plan(name)[:-1]:
        if required in ctx.results:
            continue
        if required == "train" and _restore_training(ctx, emit):
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
        _cache_paths(ctx.settings)[0].unlink(missing_ok=True)
        _cache_paths(ctx.settings)[1].unlink(missing_ok=True)
    return names


def _forget(ctx: StageContext, name: str) -> None:
    ctx.results.pop(name, None)
    for attribute in get_stage(name).produces:
        setattr(ctx, attribute, StageContext.__dataclass_fields__[attribute].default)


def plugin_registry(ctx: StageContext):
    """The plugin registry the stages build models and optimizers from (loaded once per context)."""
    if ctx.registry is None:
        from mnistkit.host.registry import load_registry

        ctx.registry = load_registry()
    return ctx.registry


def learning_rate(ctx: StageContext) -> float:
    """The learning rate of the settings, or else the optimizer plugin's default."""
    if ctx.settings.learning_rate is not None:
        return ctx.settings.learning_rate
    return float(getattr(plugin_registry(ctx).optimizer(ctx.settings.optimizer_name), "learning_rate", 0.005))


# The train stage's cache: the trained parameters and the history, keyed by the settings.


def _cache_paths(settings: StageSettings) -> tuple[Path, Path]:
    folder = settings.output_dir()
    return folder / "train-cache.json", folder / "train-cache.npz"


def _cache_key(ctx: StageContext) -> dict[str, Any]:
    s = ctx.settings
    settings = {"model": s.model_name, "optimizer": s.optimizer_name, "learning_rate": learning_rate(ctx),
                "batch_size": s.batch_size, "epochs": s.epochs, "seed": s.seed}
    return {"settings": settings, "data": ctx.data.description if ctx.data is not None else None,
            "mnistkit": importlib.metadata.version("mnistkit")}


def save_training(ctx: StageContext) -> None:
    if not ctx.settings.cache:
        return
    import jax
    import numpy as np
    from flax import nnx

    leaves = jax.tree.leaves(nnx.state(ctx.trained))
    if not all(isinstance(x, jax.Array) and np.issubdtype(x.dtype, np.number) for x in leaves):
        return  # e.g. random-key state: not worth a cache
    meta, arrays = _cache_paths(ctx.settings)
    try:
        meta.parent.mkdir(parents=True, exist_ok=True)
        meta.unlink(missing_ok=True)  # the arrays are valid only once the key is written after them
        with open(arrays, "wb") as f:
            np.savez(f, *[np.asarray(x) for x in leaves])
        meta.write_text(json.dumps({"key": _cache_key(ctx), "history": list(ctx.history)}))
    except OSError:
        meta.unlink(missing_ok=True)  # a cache we cannot write only means training again next time


def _restore_training(ctx: StageContext, emit: Emit) -> bool:
    """Restore the train stage from the cache if it matches; True if it did."""
    if not ctx.settings.cache:
        return False
    meta, arrays = _cache_paths(ctx.settings)
    try:
        saved = json.loads(meta.read_text())
        if saved.get("key") != json.loads(json.dumps(_cache_key(ctx))):
            return False
        import jax
        import numpy as np
        from flax import nnx

        trained = nnx.clone(ctx.model)
        state = nnx.state(trained)
        leaves, treedef = jax.tree.flatten(state)
        with np.load(arrays) as npz:
            loaded = [npz[f"arr_{i}"] for i in range(len(npz.files))]
        if len(loaded) != len(leaves) or any(a.shape != b.shape or a.dtype != b.dtype for a, b in zip(loaded, leaves)):
            return False
        nnx.update(trained, jax.tree.unflatten(treedef, [jax.numpy.asarray(x) for x in loaded]))
        history = tuple(saved["history"])
    except Exception:  # a missing, stale or damaged cache only means training again
        return False
    ctx.trained, ctx.history = trained, history
    ctx.results["train"] = StageResult("train", {"epochs": len(history), "history": list(history), "restored": True}, (), 0.0)
    emit(Note(f"Restored the trained model of the 'train' stage ({len(history)} epochs, same settings); "
              "`mnistkit lesson reset train` forgets it."))
    return True


from mnistkit.curriculum import tutorial_stages# noqa: E402,F401  (registers the tutorial's stages)
