"""The plugin browser: what every plugin provides, where it came from, and what failed."""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from mnistkit.curriculum.loader import Curriculum

KINDS = (("model", "models"), ("optimizer", "optimizers"), ("metric", "metrics"))


class PluginsScreen(Screen[None]):
    """Everything ``mnistkit plugins`` knows, with the problems of plugins that failed."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back"), Binding("q", "app.pop_screen", "Back", show=False)]

    def __init__(self, registry, curriculum: Curriculum):
        super().__init__()
        self.registry = registry
        self.curriculum = curriculum

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="plugins"):
            yield Static("[b]What the plugins provide[/]  [dim]↑↓ to read each one's description[/]")
            yield DataTable(id="provides", cursor_type="row", zebra_stripes=True)
            yield Static("", id="provides-detail")
            yield Static("[b]Plugins[/]")
            yield DataTable(id="sources", cursor_type="row")
            yield Static("", id="problems")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "plugins"
        provides = self.query_one("#provides", DataTable)
        provides.add_columns("name", "kind", "plugin", "lesson")
        for kind, attribute in KINDS:
            for name, spec in sorted(getattr(self.registry, attribute).items()):
                lesson = self.curriculum.for_spec(self.registry, kind, name)
                provides.add_row(name, kind, self.registry.owners.get((kind, name), "?"),
                                 lesson.title if lesson else spec.lesson, key=f"{kind}:{name}")
        sources = self.query_one("#sources", DataTable)
        sources.add_columns("plugin", "from", "version", "loaded")
        for info in self.registry.plugins:
            sources.add_row(info.name, info.source, info.version,
                            Text("yes", style="green") if info.loaded else Text("no", style="bold red"))
        problems = self.registry.problems
        self.query_one("#problems", Static).update(
            "\n".join(f"[red]✗[/] {escape(str(p))}" for p in problems) if problems else "[green]No plugin problems.[/]"
        )

    @on(DataTable.RowHighlighted, "#provides")
    def _describe(self, event: DataTable.RowHighlighted) -> None:
        kind, _, name = str(event.row_key.value).partition(":")
        spec = getattr(self.registry, dict(KINDS)[kind])[name]
        self.query_one("#provides-detail", Static).update(
            f"[b]{escape(name)}[/] {escape(spec.description or '(no description)')}  [dim]{escape(spec.lesson)}[/]"
        )
