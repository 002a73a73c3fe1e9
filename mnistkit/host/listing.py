"""What ``mnistkit plugins`` shows: every plugin, where it came from, what it provides.

``listing`` is the JSON form; ``render`` prints the same for a person,
grouped per plugin so it reads at 80 columns: a header line (name, the
distribution and version it came from, loaded or not), one line per thing it
registers (kind, name, description, lesson, options), then its problems.
"""

from __future__ import annotations

import functools
import math
import traceback
from collections.abc import Callable
from typing import Any

from mnistkit.errors import PluginError
from mnistkit.host.registry import Problem, Registry
from mnistkit.specs import MetricSpec, ModelSpec, OptimizerSpec

KIND_ORDER = ("model", "optimizer", "metric")


def _kinds(registry: Registry, plugin: str) -> list[str]:
    provided = {kind for kind, _ in registry.provided_by(plugin)}
    return [kind for kind in KIND_ORDER if kind in provided]


def _options(spec: Any) -> dict[str, Any]:
    return dict(getattr(spec, "options", {}) or {})


def listing(registry: Registry) -> dict[str, Any]:
    """Plugins with what each provides, a flat ``provides`` list, and every problem."""
    plugins, provides = [], []
    for info in registry.plugins:
        items = []
        for kind, spec in registry.provided_by(info.name):
            item = {
                "kind": kind,
                "name": spec.name,
                "plugin": info.name,
                "description": spec.description,
                "lesson": spec.lesson,
                "lesson_file": str(registry.lessons[(kind, spec.name)]),
                "options": _options(spec),
            }
            if kind == "optimizer":
                item["learning_rate"] = spec.learning_rate
            items.append(item)
        provides += items
        plugins.append({
            "name": info.name,
            "kinds": _kinds(registry, info.name),
            "distribution": info.source if info.version != "local" else None,
            "version": info.version,
            "source": info.source,
            "origin": info.origin,
            "module": info.module,
            "loaded": info.loaded,
            "import_seconds": round(info.import_seconds, 3),
            "slow_import": slow_import(info),
            "provides": items,
            "problems": [p.message for p in registry.problems if p.plugin == info.name],
        })
    return {
        "plugins": plugins,
        "provides": provides,
        "problems": [{"plugin": p.plugin, "message": p.message} for p in registry.problems],
    }


def slow_import(info) -> bool:
    """Whether a plugin took more than ``SLOW_IMPORT_SECONDS`` to import (mnistkit's own never should)."""
    from mnistkit.host.loading import SLOW_IMPORT_SECONDS

    return info.import_seconds > SLOW_IMPORT_SECONDS


def render(registry: Registry, console, verbose: bool = False) -> None:
    """Print the listing for a person with a rich ``console``."""
    from rich.markup import escape
    from rich.table import Table

    loaded = sum(p.loaded for p in registry.plugins)
    problems = len(registry.problems)
    console.print(f"{loaded} of {len(registry.plugins)} plugins loaded, {problems} problem{'' if problems == 1 else 's'}.")
    console.print("[dim]Use them: mnistkit run --model NAME --optimizer NAME --metric NAME[/]")
    for info in registry.plugins:
        origin = (f"from {info.source} {info.version}" if info.version != "local"
                  else f"local, from {info.source}")
        state = "[green]loaded[/]" if info.loaded else "[red]not loaded[/]"
        kinds = ", ".join(f"{k}s" for k in _kinds(registry, info.name)) or "nothing"
        console.print()
        console.print(f"[bold]{escape(info.name)}[/]  {escape(origin)}  {state}  [dim]({kinds})[/]")
        if slow_import(info):
            console.print(f"  [yellow]slow:[/] importing it took {info.import_seconds:.1f} s, which every mnistkit "
                          "command pays; import heavy modules (jax, flax, tensorflow) inside its factories",
                          soft_wrap=True)
        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True, style="bold")
        grid.add_column(ratio=1)
        for kind, spec in registry.provided_by(info.name):
            details = escape(spec.description or "")
            details += f"\n[dim]lesson:[/] {escape(spec.lesson)}"
            if kind == "optimizer":
                details += f"\n[dim]default learning rate:[/] {spec.learning_rate}"
            options = _options(spec)
            if options:
                details += "\n[dim]options:[/] " + escape(", ".join(f"{k}={v}" for k, v in options.items()))
            grid.add_row(f"  {kind}", escape(spec.name), details)
        if grid.row_count:
            console.print(grid)
        for problem in registry.problems:
            if problem.plugin == info.name:
                console.print(f"  [red]problem:[/] {escape(problem.message)}", soft_wrap=True)
                if verbose and problem.details:
                    console.print(problem.details, markup=False, highlight=False)
    orphans = [p for p in registry.problems if registry.info(p.plugin) is None]
    for problem in orphans:
        console.print(f"[red]problem:[/] {escape(str(problem))}")
    if not verbose and any(p.details for p in registry.problems):
        console.print("\n[dim]Add --verbose to see the tracebacks.[/]")


def check_builds(registry: Registry) -> None:
    """Build every model and optimizer with its default options and try every metric.

    What fails becomes a ``Problem`` of the plugin that registered it (a model
    with the wrong output shape, a factory that raises or returns the wrong
    type, a metric out of its bounds). Used by ``mnistkit plugins --check``;
    the contract checks (``mnistkit.testing``) go much further.
    """
    from mnistkit.host.build import build_optimizer

    def try_optimizer(spec: OptimizerSpec) -> None:
        build_optimizer(spec, spec.learning_rate, dict(spec.options))

    def attempt(kind: str, name: str, call: Callable[[], Any]) -> None:
        owner = registry.owners[(kind, name)]
        try:
            call()
        except PluginError as exc:
            registry.problems.append(Problem(owner, str(exc)))
        except Exception as exc:  # noqa: BLE001 - a plugin's bug, reported like the others
            registry.problems.append(Problem(owner, f"{kind} {name!r} failed: {type(exc).__name__}: {exc}", traceback.format_exc()))

    for name, model in registry.models.items():
        attempt("model", name, functools.partial(_try_model, model))
    for name, optimizer in registry.optimizers.items():
        attempt("optimizer", name, functools.partial(try_optimizer, optimizer))
    for name, metric in registry.metrics.items():
        attempt("metric", name, functools.partial(_try_metric, metric))


def _try_model(spec: ModelSpec) -> None:
    """Check the model's output shape abstractly (nothing computed), then that its first logits are finite."""
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
    import numpy as np

    real = spec.factory(nnx.Rngs(0), **dict(spec.options))  # now with numbers: are the first logits finite?
    real.eval()
    images = np.random.default_rng(0).uniform(size=(2, *IMAGE_SHAPE)).astype(np.float32)
    if not np.isfinite(np.asarray(real(jnp.asarray(images)))).all():
        raise PluginError(f"model {spec.name!r} gives logits that are not finite (NaN or infinite) at initialisation; "
                          "check its initialisers and its forward pass")


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
