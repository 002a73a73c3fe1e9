"""The plugin host: find plugins, collect what they register, report problems.

Plugins come from the ``mnistkit`` entry-point group (the builtin ones in
``mnistkit_plugins`` and any installed package), from ``--plugin`` paths or
module names, and from ``MNISTKIT_PLUGINS`` (separated by ``os.pathsep``).
A plugin that fails is reported as a ``Problem`` and skipped; everything else
keeps working.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import sys
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from mnistkit import hookspecs
from mnistkit.errors import ConfigError, PluginError
from mnistkit.specs import MetricSpec, ModelSpec, OptimizerSpec

ENTRY_POINT_GROUP = "mnistkit"


@dataclass(frozen=True)
class PluginInfo:
    """Where a plugin came from and whether it loaded."""

    name: str
    source: str
    version: str
    loaded: bool


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one plugin, worded for the user."""

    plugin: str
    message: str
    details: str = ""

    def __str__(self) -> str:
        return f"plugin {self.plugin!r}: {self.message}"


@dataclass
class Registry:
    """Everything the loaded plugins registered, by name, and what went wrong."""

    models: dict[str, ModelSpec] = field(default_factory=dict)
    optimizers: dict[str, OptimizerSpec] = field(default_factory=dict)
    metrics: dict[str, MetricSpec] = field(default_factory=dict)
    owners: dict[tuple[str, str], str] = field(default_factory=dict)
    plugins: list[PluginInfo] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def model(self, name: str) -> ModelSpec:
        return _lookup("model", self.models, name)

    def optimizer(self, name: str) -> OptimizerSpec:
        return _lookup("optimizer", self.optimizers, name)

    def metric(self, name: str) -> MetricSpec:
        return _lookup("metric", self.metrics, name)


def _lookup(kind: str, table: dict[str, Any], name: str) -> Any:
    if name not in table:
        known = ", ".join(sorted(table)) or "none"
        raise ConfigError(f"unknown {kind} {name!r} (known {kind}s: {known})")
    return table[name]


def load_registry(extra: Iterable[str] = (), disabled: Iterable[str] = ()) -> Registry:
    """Load every enabled plugin and collect its registrations."""
    disabled = set(disabled) | _env_list("MNISTKIT_DISABLE_PLUGINS")
    extra = [*_env_list_ordered("MNISTKIT_PLUGINS"), *extra]
    registry = Registry()
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)

    for ep in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if ep.name in disabled:
            continue
        dist = ep.dist
        source = dist.metadata["Name"] if dist else "?"
        version = dist.version if dist else "?"
        module = _guard(registry, ep.name, "failed to import", ep.load)
        _add(pm, registry, ep.name, module, source, version)

    for ref in extra:
        name = Path(ref).stem if ref.endswith(".py") else ref
        if name in disabled:
            continue
        module = _guard(registry, name, "failed to import", lambda: _import_ref(ref))
        _add(pm, registry, name, module, ref, "local")

    for hook, kind, table, spec_type in (
        (pm.hook.register_models, "model", registry.models, ModelSpec),
        (pm.hook.register_optimizers, "optimizer", registry.optimizers, OptimizerSpec),
        (pm.hook.register_metrics, "metric", registry.metrics, MetricSpec),
    ):
        for impl in reversed(hook.get_hookimpls()):
            register = _registrar(registry, impl.plugin_name, kind, table, spec_type)
            _guard(registry, impl.plugin_name, f"raised in register_{kind}s", lambda: impl.function(register))
    return registry


def _add(pm: pluggy.PluginManager, registry: Registry, name: str, module: Any, source: str, version: str) -> None:
    registry.plugins.append(PluginInfo(name, source, version, loaded=module is not None))
    if module is not None:
        pm.register(module, name=name)


def _registrar(registry: Registry, plugin: str, kind: str, table: dict[str, Any], spec_type: type):
    def register(spec: Any) -> None:
        if not isinstance(spec, spec_type):
            registry.problems.append(
                Problem(plugin, f"registered a {type(spec).__name__} as a {kind}; expected {spec_type.__name__}")
            )
            return
        owner = registry.owners.get((kind, spec.name))
        if owner is not None:
            registry.problems.append(
                Problem(plugin, f"{kind} {spec.name!r} is already registered by plugin {owner!r}; kept {owner!r}'s")
            )
            return
        registry.owners[(kind, spec.name)] = plugin
        table[spec.name] = spec

    return register


def _guard(registry: Registry, plugin: str, what: str, call) -> Any:
    try:
        return call()
    except Exception as exc:  # a plugin's bug must not take the host down
        registry.problems.append(Problem(plugin, f"{what}: {type(exc).__name__}: {exc}", traceback.format_exc()))
        return None


def _import_ref(ref: str) -> ModuleType:
    """Import a plugin given as a ``.py`` path or a dotted module name."""
    if ref.endswith(".py") or os.sep in ref:
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
    return [item for item in os.environ.get(var, "").split(os.pathsep) if item.strip()]


def _env_list(var: str) -> set[str]:
    return {item.strip() for item in os.environ.get(var, "").replace(",", os.pathsep).split(os.pathsep) if item.strip()}
