"""What the loaded plugins registered, and which plugin is at fault when something fails.

``Registry`` is filled by ``mnistkit.host.loading.load_registry``; everything
else reads it: the run API looks specs up by name, the curriculum finds the
plugins' lessons, and ``blame`` names the plugin behind an error.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mnistkit.errors import MnistkitError, PluginError, match_name, unknown_name
from mnistkit.specs import MetricSpec, ModelSpec, OptimizerSpec

KINDS: dict[str, type[ModelSpec | OptimizerSpec | MetricSpec]] = {"model": ModelSpec, "optimizer": OptimizerSpec, "metric": MetricSpec}


@dataclass(frozen=True)
class PluginInfo:
    """Where a plugin came from and whether it loaded.

    ``source`` is the distribution an entry point belongs to, or the path or
    module given with ``--plugin`` / ``MNISTKIT_PLUGINS``; ``version`` is the
    distribution's version (``"local"`` for those). ``import_seconds`` is how
    long importing its module took.
    """

    name: str
    source: str
    version: str
    loaded: bool
    origin: str = "entry point"
    module: str = ""
    import_seconds: float = 0.0


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

    def name(self, kind: str, name: str) -> str:
        """The registered ``kind`` name the user meant by ``name`` (case is forgiven); ``ConfigError`` with close names otherwise."""
        return _canonical(kind, self.table(kind), name)

    def table(self, kind: str) -> dict[str, Any]:
        tables: dict[str, dict[str, Any]] = {"model": self.models, "optimizer": self.optimizers, "metric": self.metrics}
        return tables[kind]

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

    def culprit(self, exc: BaseException) -> str | None:
        """The plugin at fault for ``exc``, or None when no plugin's code or registration is involved.

        A ``PluginError`` about a registration (``"model 'x' ..."``) names its
        owner; otherwise the innermost frame of the traceback that belongs
        to a loaded plugin's module does.
        """
        if isinstance(exc, PluginError):
            message = str(exc)
            for (kind, name), owner in self.owners.items():
                if message.startswith(f"{kind} {name!r}"):
                    return owner
        modules = {info.module: info.name for info in self.plugins if info.loaded and info.module}
        culprit = None
        for frame, _ in traceback.walk_tb(exc.__traceback__):
            module = frame.f_globals.get("__name__", "")
            for prefix, name in modules.items():
                if module == prefix or module.startswith(prefix + "."):
                    culprit = name
        return culprit

    @contextmanager
    def blame(self) -> Iterator[None]:
        """Inside this block, a plugin's fault comes out as a ``PluginError`` that names the plugin.

        The one way mnistkit names a plugin at fault, for the CLI and the TUI
        alike. A ``PluginError`` about a registration (building a model or an
        optimizer, a metric's value) gets ``plugin 'p': `` in front; any other
        exception raised in a plugin's code becomes ``plugin 'p' raised
        ValueError: ...``, with the original as its cause (``--verbose``
        shows it). Errors of the user's and mnistkit's own bugs pass through.
        """
        try:
            yield
        except PluginError as exc:
            owner = self.culprit(exc)
            if owner is None or str(exc).startswith("plugin "):
                raise
            raise PluginError(f"plugin {owner!r}: {exc}") from exc
        except MnistkitError:
            raise
        except Exception as exc:
            owner = self.culprit(exc)
            if owner is None:
                raise
            what = (str(exc).strip().splitlines() or [""])[0]
            raise PluginError(f"plugin {owner!r} raised {type(exc).__name__}: {what}") from exc

def _lookup(kind: str, table: dict[str, Any], name: str) -> Any:
    return table[_canonical(kind, table, name)]


def _canonical(kind: str, table: dict[str, Any], name: str) -> str:
    found = match_name(name, table)
    if found is None:
        raise unknown_name(kind, name, table, "`mnistkit plugins`")
    return found


