"""Find the plugins, collect what they register, and report their problems.

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

import dataclasses
import functools
import importlib
import importlib.metadata
import importlib.resources
import importlib.util
import math
import os
import re
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from mnistkit import environment, hookspecs
from mnistkit.errors import PluginError
from mnistkit.host.registry import KINDS, PluginInfo, Problem, Registry
from mnistkit.specs import MetricSpec, ModelSpec, OptimizerSpec

ENTRY_POINT_GROUP = "mnistkit"
BUILTIN_DISTRIBUTION = "mnistkit"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def load_registry(extra: Iterable[str] = (), disabled: Iterable[str] = ()) -> Registry:
    """Load every enabled plugin and collect its registrations.

    ``extra`` are ``--plugin`` values (a ``.py`` path or a module name),
    loaded after ``MNISTKIT_PLUGINS`` and after every entry point; ``disabled``
    are plugin names to skip, on top of ``MNISTKIT_DISABLE_PLUGINS``.
    """
    disabled = set(disabled) | environment.disabled_plugins()
    registry = Registry()
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    bases: dict[str, Path | None] = {}

    for ep in _entry_points():
        if ep.name in disabled:
            continue
        dist = ep.dist
        source, version = (dist.metadata["Name"], dist.version) if dist else ("?", "?")
        module, seconds = _timed_import(registry, ep.name, ep.load)
        _add(pm, registry, PluginInfo(ep.name, source, version, module is not None, "entry point", ep.value, seconds),
             module)
        bases[ep.name] = _folder_of(module)

    for ref in [*environment.plugin_refs(), *extra]:
        name = _local_name(ref)
        if name in disabled:
            continue
        module, seconds = _timed_import(registry, name, functools.partial(_import_ref, ref))
        origin = "--plugin or MNISTKIT_PLUGINS"
        _add(pm, registry, PluginInfo(name, ref, "local", module is not None, origin, getattr(module, "__name__", ref),
                                      seconds), module)
        bases[name] = _folder_of(module)

    for kind in KINDS:
        hook = getattr(pm.hook, f"register_{kind}s")
        for impl in hook.get_hookimpls():  # in registration order: builtins first
            register = _registrar(registry, impl.plugin_name, kind, bases.get(impl.plugin_name))
            _guard(registry, impl.plugin_name, f"raised in register_{kind}s", functools.partial(impl.function, register))
    return registry


SLOW_IMPORT_SECONDS = 1.0
"""A plugin whose module takes longer than this to import is named by ``mnistkit plugins``."""

_NATIVE_LOG_LINE = re.compile(
    r"(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IWE]\d{4} [\d:.]+\s+\d+ \S+:\d+\] .*"
    r"|To enable the following instructions: .*rebuild TensorFlow with the appropriate compiler flags\.)\n?"
)
"""The start-up lines TensorFlow's C++ side (absl, oneDNN) prints when a plugin imports it."""


def _timed_import(registry: Registry, name: str, load: Callable[[], Any]) -> tuple[Any, float]:
    """Import a plugin's module, timed, with TensorFlow's native start-up lines kept off the terminal."""
    start = time.perf_counter()
    with _without_native_start_up_lines():
        module = _guard(registry, name, "failed to import", load)
    return module, time.perf_counter() - start


@contextmanager
def _without_native_start_up_lines() -> Iterator[None]:
    """While plugins import, C-level writes to stderr (fd 2) are held back; all but the native log lines then pass.

    A plugin module that imports TensorFlow would otherwise print absl's and
    oneDNN's start-up lines on every command that loads plugins. What a
    plugin prints itself still reaches the terminal, after its import.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real stderr (some embeddings): nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            try:
                sys.stderr.flush()
            except (OSError, ValueError):
                pass
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            lines = held.read().decode(errors="replace").splitlines(keepends=True)
            kept = "".join(line for line in lines if not _NATIVE_LOG_LINE.fullmatch(line))
            if kept:
                os.write(2, kept.encode())


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
        registry.plugins.append(dataclasses.replace(info, loaded=False))
        return
    if module is not None and pm.is_registered(module):
        first = pm.get_name(module)
        registry.problems.append(Problem(
            info.name, f"is the same module as plugin {first!r} ({info.module}); it is loaded once, as {first!r}"
        ))
        registry.plugins.append(dataclasses.replace(info, loaded=False))
        return
    if module is not None:
        try:
            pm.register(module, name=info.name)
        except Exception as exc:  # noqa: BLE001 - pluggy rejects hook functions with the wrong arguments
            registry.problems.append(Problem(info.name, f"could not be registered: {exc}", traceback.format_exc()))
            module = None
        else:
            _check_hooks(pm, registry, info.name, module)
    registry.plugins.append(dataclasses.replace(info, loaded=module is not None))


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
            owner_info = registry.info(owner)
            assert owner_info is not None  # an owner is a plugin whose hook ran, so it is in registry.plugins
            registry.problems.append(Problem(
                plugin,
                f"registered {kind} {spec.name!r}, which plugin {owner!r} (from {_where(owner_info)}) "
                f"already registered; kept the one from {owner!r}. Rename one, or disable one with --disable-plugin",
            ))
            return
        registry.owners[(kind, spec.name)] = plugin
        registry.lessons[(kind, spec.name)] = lesson
        table[spec.name] = spec

    return register


def _validate(spec: Any, kind: str, spec_type: type[ModelSpec | OptimizerSpec | MetricSpec]) -> None:
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
    except Exception as exc:  # noqa: BLE001 - a plugin's bug must not take the host down
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
