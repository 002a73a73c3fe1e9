"""What ``mnistkit plugins`` shows: every plugin, where it came from, what it provides.

``listing`` is the JSON form; ``render`` prints the same for a person,
grouped per plugin so it reads at 80 columns: a header line (name, the
distribution and version it came from, loaded or not), one line per thing it
registers (kind, name, description, lesson, options), then its problems.
"""

from __future__ import annotations

from typing import Any

from mnistkit.host.registry import Registry

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
            "provides": items,
            "problems": [p.message for p in registry.problems if p.plugin == info.name],
        })
    return {
        "plugins": plugins,
        "provides": provides,
        "problems": [{"plugin": p.plugin, "message": p.message} for p in registry.problems],
    }


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
