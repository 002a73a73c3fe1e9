"""The plugin host: find plugins, collect what they register, report problems.

Plugins come from the ``mnistkit`` entry-point group (the builtin ones in
``mnistkit_plugins`` first, then every other installed package), from
``--plugin`` paths or module names, and from ``MNISTKIT_PLUGINS`` (separated
by ``os.pathsep``). ``--disable-plugin`` and ``MNISTKIT_DISABLE_PLUGINS``
(separated by ``os.pathsep`` or commas) skip plugins by name.

The host owns validation: a plugin that fails to import, raises in a hook,
registers something that is not a spec, registers a name that is taken, or
names a lesson that does not exist is reported as one ``Problem`` naming the
plugin, and only that registration (or plugin) is skipped; everything else
keeps working.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.resources
import importlib.util
import math
import os
import re
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from mnistkit import hookspecs
from mnistkit.errors import ConfigError, PluginError
from mnistkit.specs import MetricSpec, ModelSpec, OptimizerSpec

ENTRY_POINT_GROUP = "mnistkit"
BUILTIN_DISTRIBUTION = "mnistkit"
KINDS = {"model": ModelSpec, "optimizer": OptimizerSpec, "metric": MetricSpec}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class PluginInfo:
    """Where a plugin came from and whether it loaded.

    ``source`` is the distribution an entry point belongs to, or the path or
    module given with ``--plugin`` / ``MNISTKIT_PLUGINS``; ``version`` is the
    distribution's version (``"local"`` for those).
    """

    name: str
    source: str
    version: str
    loaded: bool
    origin: str = "entry point"
    module: str = ""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one plugin, worded for the user; ``details`` holds the traceback."""

    plugin: str
    message: str
    details: str = ""

    def __str__(self) -> str:
        return f"plugin {self.plugin!r}: {self.message}"


@dataclass
class Registry:
    """Everything the loaded plugins registered, by name, and what went wrong.

    ``owners`` maps ``(kind, name)`` to the plugin that registered it and
    ``lessons`` to the lesson file it names, resolved to a path.
    """

    models: dict[str, ModelSpec] = field(default_factory=dict)
    optimizers: dict[str, OptimizerSpec] = field(default_factory=dict)
    metrics: dict[str, MetricSpec] = field(default_factory=dict)
    owners: dict[tuple[str, str], str] = field(default_factory=dict)
    lessons: dict[tuple[str, str], Path] = field(default_factory=dict)
    plugins: list[PluginInfo] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def model(self, name: str) -> ModelSpec:
        return _lookup("model", self.models, name)

    def optimizer(self, name: str) -> OptimizerSpec:
        return _lookup("optimizer", self.optimizers, name)

    def metric(self, name: str) -> MetricSpec:
        return _lookup("metric", self.metrics, name)

    def table(self, kind: str) -> dict[str, Any]:
        return {"model": self.models, "optimizer": self.optimizers, "metric": self.metrics}[kind]

    def info(self, plugin: str) -> PluginInfo | None:
        return next((p for p in self.plugins if p.name == plugin), None)

    def provided_by(self, plugin: str) -> list[tuple[str, Any]]:
        """``(kind, spec)`` for everything ``plugin`` registered, in registration order."""
        return [(kind, self.table(kind)[name]) for (kind, name), owner in self.owners.items() if owner == plugin]

    def lessons_by_plugin(self) -> dict[str, list[Path]]:
        """Each plugin's lesson files, without repeats, in registration order."""
        out: dict[str, list[Path]] = {}
        for key, owner in self.owners.items():
            paths = out.setdefault(owner, [])
            if self.lessons[key] not in paths:
                paths.append(self.lessons[key])
        return out

    @contextmanager
    def blame(self) -> Iterator[None]:
        """Name the plugin in a ``PluginError`` about one of its registrations.

        Building a model or optimizer and running a metric raise
        ``PluginError("model 'x' ...")``; inside this block such an error
        comes out as ``plugin 'p': model 'x' ...``.
        """
        try:
            yield
        except PluginError as exc:
            message = str(exc)
            owner = next(
                (owner for (kind, name), owner in self.owners.items() if message.startswith(f"{kind} {name!r}")),
                None,
            )
            if owner is None or message.startswith("plugin "):
                raise
            raise PluginError(f"plugin {owner!r}: {message}") from exc


def _lookup(kind: str, table: dict[str, Any], name: str) -> Any:
    if name not in table:
        known = ", ".join(sorted(table)) or "none"
        raise ConfigError(f"unknown {kind} {name!r} (known {kind}s: {known}; see `mnistkit plugins`)")
    return table[name]


def load_registry(extra: Iterable[str] = (), disabled: Iterable[str] = ()) -> Registry:
    """Load every enabled plugin and collect its registrations.

    ``extra`` are ``--plugin`` values (a ``.py`` path or a module name),
    loaded after ``MNISTKIT_PLUGINS`` and after every entry point; ``disabled``
    are plugin names to skip, on top of ``MNISTKIT_DISABLE_PLUGINS``.
    """
    disabled = set(disabled) | _env_list("MNISTKIT_DISABLE_PLUGINS")
    registry = Registry()
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    bases: dict[str, Path | None] = {}

    for ep in _entry_points():
        if ep.name in disabled:
            continue
        dist = ep.dist
        source, version = (dist.metadata["Name"], dist.version) if dist else ("?", "?")
        module = _guard(registry, ep.name, "failed to import", ep.load)
        _add(pm, registry, PluginInfo(ep.name, source, version, module is not None, "entry point", ep.value), module)
        bases[ep.name] = _folder_of(module)

    for ref in [*_env_list_ordered("MNISTKIT_PLUGINS"), *extra]:
        name = _local_name(ref)
        if name in disabled:
            continue
        module = _guard(registry, name, "failed to import", lambda: _import_ref(ref))
        origin = "--plugin or MNISTKIT_PLUGINS"
        _add(pm, registry, PluginInfo(name, ref, "local", module is not None, origin, getattr(module, "__name__", ref)), module)
        bases[name] = _folder_of(module)

    for kind in KINDS:
        hook = getattr(pm.hook, f"register_{kind}s")
        for impl in hook.get_hookimpls():  # in registration order: builtins first
            register = _registrar(registry, impl.plugin_name, kind, bases.get(impl.plugin_name))
            _guard(registry, impl.plugin_name, f"raised in register_{kind}s", lambda: impl.function(register))
    return registry


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    """The group's entry points, builtin ones first, then by distribution and name."""

    def order(ep: importlib.metadata.EntryPoint) -> tuple:
        dist = ep.dist.metadata["Name"] if ep.dist else ""
        return (dist != BUILTIN_DISTRIBUTION, dist.lower(), ep.name)

    return sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=order)


def _add(pm: pluggy.PluginManager, registry: Registry, info: PluginInfo, module: Any) -> None:
    """Register ``module`` under ``info.name``, unless the name or the module is taken."""
    taken = registry.info(info.name)
    if taken is not None:
        registry.problems.append(Problem(
            info.name,
            f"the name is already used by the plugin from {_where(taken)}; skipped the one from {_where(info)} "
            "(rename its entry point, or disable one with --disable-plugin)",
        ))
        registry.plugins.append(PluginInfo(info.name, info.source, info.version, False, info.origin, info.module))
        return
    if module is not None and pm.is_registered(module):
        first = pm.get_name(module)
        registry.problems.append(Problem(
            info.name, f"is the same module as plugin {first!r} ({info.module}); it is loaded once, as {first!r}"
        ))
        registry.plugins.append(PluginInfo(info.name, info.source, info.version, False, info.origin, info.module))
        return
    if module is not None:
        try:
            pm.register(module, name=info.name)
        except Exception as exc:  # pluggy rejects hook functions with the wrong arguments
            registry.problems.append(Problem(info.name, f"could not be registered: {exc}", traceback.format_exc()))
            module = None
        else:
            _check_hooks(pm, registry, info.name, module)
    registry.plugins.append(PluginInfo(info.name, info.source, info.version, module is not None, info.origin, info.module))


def _check_hooks(pm: pluggy.PluginManager, registry: Registry, name: str, module: Any) -> None:
    """Tell the author about misspelt hooks and modules that implement none."""
    callers = pm.get_hookcallers(module) or []
    known = ", ".join(f"register_{kind}s" for kind in KINDS)
    for caller in callers:
        if caller.spec is None:
            registry.problems.append(Problem(name, f"implements unknown hook {caller.name!r} (mnistkit's hooks: {known})"))
    if not callers:
        registry.problems.append(Problem(name, f"implements no mnistkit hook (mark {known} with @hookimpl)"))


def _where(info: PluginInfo) -> str:
    return f"{info.source} {info.version}" if info.version != "local" else info.source


def _registrar(registry: Registry, plugin: str, kind: str, base: Path | None) -> Callable[[Any], None]:
    """The ``register`` callback handed to one plugin's ``register_<kind>s`` hook."""
    spec_type = KINDS[kind]
    table = registry.table(kind)

    def register(spec: Any) -> None:
        try:
            _validate(spec, kind, spec_type)
            lesson = lesson_file(spec.lesson, base)
        except PluginError as exc:
            label = f"{kind} {spec.name!r}" if isinstance(spec, spec_type) and isinstance(spec.name, str) else kind
            registry.problems.append(Problem(plugin, f"registered {label} but {exc}; skipped it"))
            return
        owner = registry.owners.get((kind, spec.name))
        if owner == plugin:
            registry.problems.append(Problem(plugin, f"registered {kind} {spec.name!r} twice; kept the first"))
            return
        if owner is not None:
            registry.problems.append(Problem(
                plugin,
                f"registered {kind} {spec.name!r}, which plugin {owner!r} (from {_where(registry.info(owner))}) "
                f"already registered; kept {owner!r}'s. Rename one, or disable one with --disable-plugin",
            ))
            return
        registry.owners[(kind, spec.name)] = plugin
        registry.lessons[(kind, spec.name)] = lesson
        table[spec.name] = spec

    return register


def _validate(spec: Any, kind: str, spec_type: type) -> None:
    """Raise ``PluginError`` saying what is wrong with ``spec`` as a ``kind``."""
    if not isinstance(spec, spec_type):
        raise PluginError(f"it is a {type(spec).__name__}, not a mnistkit.specs.{spec_type.__name__}")
    if not isinstance(spec.name, str) or not _NAME.match(spec.name):
        raise PluginError(f"its name {spec.name!r} is not a word of letters, digits, '.', '_' or '-'")
    if not isinstance(spec.lesson, str) or not spec.lesson:
        raise PluginError("it names no lesson (set lesson='package:path/to/lesson.md')")
    if not isinstance(spec.expected_failures, Mapping):
        raise PluginError("its expected_failures is not a mapping of check name to reason")
    if isinstance(spec, MetricSpec):
        if not spec.name.isidentifier():
            raise PluginError(f"its name {spec.name!r} is not a Python identifier (it becomes the train_/test_ column names)")
        if spec.per_example is None and spec.on_evaluation is None:
            raise PluginError("it has neither per_example nor on_evaluation")
        low, high = spec.bounds
        if not low <= high or math.isnan(low) or math.isnan(high):
            raise PluginError(f"its bounds {spec.bounds} are not a range (low, high)")
        return
    if not callable(spec.factory):
        raise PluginError(f"its factory is a {type(spec.factory).__name__}, not something callable")
    if not isinstance(spec.options, Mapping):
        raise PluginError("its options are not a mapping of option name to default")
    if not 0.0 <= spec.accuracy_floor <= 1.0:
        raise PluginError(f"its accuracy_floor {spec.accuracy_floor} is not between 0 and 1")


def lesson_file(ref: str, base: Path | None = None) -> Path:
    """Resolve a spec's ``lesson`` to the markdown file; ``PluginError`` if it is missing.

    ``"package:relative/path.md"`` is looked up with ``importlib.resources``
    (so the file must ship as package data); a plain path is taken relative to
    ``base``, the folder of the plugin's module file.
    """
    package, sep, relative = ref.partition(":")
    if sep and all(part.isidentifier() for part in package.split(".")):
        try:
            resource = importlib.resources.files(package).joinpath(relative)
        except (ModuleNotFoundError, TypeError) as exc:
            raise PluginError(f"its lesson {ref!r} names package {package!r}, which cannot be imported ({exc})") from exc
        if not resource.is_file():
            raise PluginError(f"its lesson {ref!r} does not exist (no {relative!r} in package {package!r})")
        return Path(str(resource))
    path = Path(ref)
    if not path.is_absolute() and base is not None:
        path = base / path
    if not path.is_file():
        raise PluginError(f"its lesson {ref!r} does not exist ({path} is not a file)")
    return path


def _guard(registry: Registry, plugin: str, what: str, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except Exception as exc:  # a plugin's bug must not take the host down
        registry.problems.append(Problem(plugin, f"{what}: {type(exc).__name__}: {exc}", traceback.format_exc()))
        return None


def _folder_of(module: Any) -> Path | None:
    """Where a plugin module's file is: plain-path lessons are relative to it."""
    file = getattr(module, "__file__", None)
    return Path(file).resolve().parent if file else None


def _is_path(ref: str) -> bool:
    return ref.endswith(".py") or os.sep in ref or "/" in ref


def _local_name(ref: str) -> str:
    return Path(ref).stem if _is_path(ref) else ref


def _import_ref(ref: str) -> ModuleType:
    """Import a plugin given as a ``.py`` path or a dotted module name."""
    if _is_path(ref):
        path = Path(ref)
        if not path.is_file():
            raise PluginError(f"no such plugin file: {path}")
        name = f"mnistkit_local_{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module
    return importlib.import_module(ref)


def _env_list_ordered(var: str) -> list[str]:
    return [item.strip() for item in os.environ.get(var, "").split(os.pathsep) if item.strip()]


def _env_list(var: str) -> set[str]:
    return {item.strip() for item in os.environ.get(var, "").replace(",", os.pathsep).split(os.pathsep) if item.strip()}


def check_builds(registry: Registry) -> None:
    """Build every model and optimizer with its default options and try every metric.

    What fails becomes a ``Problem`` of the plugin that registered it (a model
    with the wrong output shape, a factory that raises or returns the wrong
    type, a metric out of its bounds). Used by ``mnistkit plugins --check``;
    the contract checks (``mnistkit.testing``) go much further.
    """
    from mnistkit.runs.config import build_optimizer

    def attempt(kind: str, name: str, call: Callable[[], Any]) -> None:
        owner = registry.owners[(kind, name)]
        try:
            call()
        except PluginError as exc:
            registry.problems.append(Problem(owner, str(exc)))
        except Exception as exc:  # a plugin's bug, reported like the others
            registry.problems.append(Problem(owner, f"{kind} {name!r} failed: {type(exc).__name__}: {exc}", traceback.format_exc()))

    for name, spec in registry.models.items():
        attempt("model", name, lambda spec=spec: _try_model(spec))
    for name, spec in registry.optimizers.items():
        attempt("optimizer", name, lambda spec=spec: build_optimizer(spec, spec.learning_rate, dict(spec.options)))
    for name, spec in registry.metrics.items():
        attempt("metric", name, lambda spec=spec: _try_metric(spec))


def _try_model(spec: ModelSpec) -> None:
    """Build the model abstractly (shapes only, nothing computed) and check its output shape."""
    import jax
    import jax.numpy as jnp
    from flax import nnx

    from mnistkit.specs import IMAGE_SHAPE, NUM_CLASSES

    model = nnx.eval_shape(lambda: spec.factory(nnx.Rngs(0), **dict(spec.options)))
    if not isinstance(model, nnx.Module):
        raise PluginError(f"model {spec.name!r}: factory returned {type(model).__name__}, not an nnx.Module")
    model.eval()
    graphdef, state = nnx.split(model)
    x = jax.ShapeDtypeStruct((2, *IMAGE_SHAPE), jnp.float32)
    out = jax.eval_shape(lambda state, x: nnx.merge(graphdef, state)(x), state, x)
    if getattr(out, "shape", None) != (2, NUM_CLASSES):
        shape = tuple(out.shape) if hasattr(out, "shape") else type(out).__name__
        raise PluginError(f"model {spec.name!r} maps a (2, 28, 28, 1) batch to shape {shape}; expected (2, {NUM_CLASSES})")


def _try_metric(spec: MetricSpec) -> None:
    import numpy as np

    from mnistkit.specs import NUM_CLASSES, EvaluationOutputs

    logits = np.random.default_rng(0).normal(size=(32, NUM_CLASSES)).astype(np.float32)
    labels = np.arange(32, dtype=np.int32) % NUM_CLASSES
    low, high = spec.bounds
    values = []
    if spec.per_example is not None:
        out = np.asarray(spec.per_example(logits, labels))
        if out.shape != labels.shape:
            raise PluginError(f"metric {spec.name!r}: per_example returns shape {out.shape}; expected {labels.shape}")
        values += out.tolist()
    if spec.on_evaluation is not None:
        report = spec.on_evaluation(EvaluationOutputs(1, logits, labels))
        values += list(report.values.values()) if report is not None else []
    bad = [v for v in values if not (math.isfinite(v) and low <= v <= high)]
    if bad:
        raise PluginError(f"metric {spec.name!r}: value {bad[0]} is outside its bounds [{low}, {high}]")
