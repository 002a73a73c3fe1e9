"""Choosing what to train: plugins, hyper-parameters and data, with each plugin's lesson beside them.

The screen returns a ``RunConfig`` (or None on Esc). Every value is
checked here with the same functions ``mnistkit run`` uses; a bad one gets a
message under the form and the screen stays open.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.validation import Function, Integer, Number
from textual.widgets import Button, Footer, Header, Input, Label, Markdown, Select, SelectionList, Static

from mnistkit.curriculum.loader import Curriculum
from mnistkit.data import SOURCES, data_status
from mnistkit.errors import ConfigError, MnistkitError
from mnistkit.runs.config import RunConfig, check_numbers
from mnistkit.runs.schedules import SCHEDULES
from mnistkit.specs import parse_options

BUILTIN_METRICS = ("accuracy", "loss")
"""Always computed by the engine, so not offered as choices."""

ENGINES = ("fast", "tutorial")
ENGINE_HELP = ("fast: the data stays on the device and one compiled step gathers each batch; "
               "tutorial: the original tutorial's loop, tf.data feeding an nnx.jit step")


def options_text(options) -> str:
    """``{"features": 32, "hidden": 256}`` -> ``"features=32 hidden=256"``."""
    return " ".join(f"{key}={value}" for key, value in options.items())


def data_line(rows: list[dict], choice: str) -> str:
    """What data source ``choice`` means on this machine and how to switch, as console markup.

    ``rows`` are ``mnistkit.data.data_status()``'s.
    """
    by_source = {row["source"]: row for row in rows}
    row = next((r for r in rows if r["auto"]), None) if choice == "auto" else by_source.get(choice)
    if row is None:
        return "[red]auto finds no usable data:[/] the data folder set up is broken; see `mnistkit data status`"
    if not row["available"]:
        return f"[red]{escape(choice)} is not available:[/] {escape(row['detail'])}"
    images = f"{row['train']:,} train, {row['test']:,} test" if row.get("train") else ""
    prefix = "auto uses " if choice == "auto" else ""
    if row["source"] == "sample":
        full = next((r for r in rows if r["source"] != "sample" and r["available"]), None)
        switch = ("choose auto for full MNIST" if full else
                  "for full MNIST run [b]mnistkit data import DIR[/], or give a folder below")
        return f"{prefix}the [b]bundled sample[/] ({images}); {switch}."
    where = f" from {escape(row['where'])}" if row.get("where") else ""
    return f"{prefix}[b]full MNIST[/]{where} ({images}); choose sample for the small bundled set."


class SetupScreen(Screen[RunConfig | None]):
    """A small form; Enter or the Train button starts the run, Esc goes back."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Back"),
        Binding("ctrl+s", "submit", "Train"),
    ]

    def __init__(self, registry, curriculum: Curriculum, config: RunConfig):
        super().__init__()
        self.registry = registry
        self.curriculum = curriculum
        self.config = config
        self._chosen: dict[str, object] = {}

    def compose(self) -> ComposeResult:
        config = self.config
        registry = self.registry
        metrics = [name for name in sorted(registry.metrics) if name not in BUILTIN_METRICS]
        model = config.model if config.model in registry.models else next(iter(sorted(registry.models)), None)
        optimizer = config.optimizer if config.optimizer in registry.optimizers else next(iter(sorted(registry.optimizers)), None)
        positive = [Number(), Function(_positive, "must be a positive number")]
        yield Header()
        with Horizontal(id="setup"):
            with VerticalScroll(id="setup-form"):
                with _row("Model"):
                    yield Select([(name, name) for name in sorted(registry.models)], value=model or Select.NULL,
                                 allow_blank=model is None, compact=True, id="model")
                with _row("Optimizer"):
                    yield Select([(name, name) for name in sorted(registry.optimizers)], value=optimizer or Select.NULL,
                                 allow_blank=optimizer is None, compact=True, id="optimizer")
                with _row("Metrics", "accuracy and loss are always on; Space ticks one"):
                    if metrics:
                        yield SelectionList[str](*[(name, name, name in config.metrics) for name in metrics], id="metrics")
                    else:
                        yield Static("[dim]only accuracy and loss[/]", id="metrics-none")
                with _row("Epochs"):
                    yield Input(str(config.epochs), id="epochs", compact=True, validators=[Integer(minimum=1)])
                    yield Label("Batch", classes="inner")
                    yield Input(str(config.batch_size), id="batch_size", compact=True, validators=[Integer(minimum=1)])
                with _row("Learn. rate"):
                    yield Input(str(config.learning_rate), id="learning_rate", compact=True, validators=positive)
                    yield Label("Seed", classes="inner")
                    yield Input(str(config.seed), id="seed", compact=True, validators=[Integer()])
                with _row("Schedule", "how the learning rate changes over the run"):
                    yield Select([(name, name) for name in SCHEDULES], value=config.schedule, allow_blank=False,
                                 compact=True, id="schedule")
                with _row("Engine", ENGINE_HELP):
                    yield Select([(name, name) for name in ENGINES], value=config.engine, allow_blank=False,
                                 compact=True, id="engine")
                with _row("Model opts", "key=value pairs, separated by spaces"):
                    yield Input(id="model_options", compact=True)
                with _row("Optim. opts", "key=value pairs, separated by spaces"):
                    yield Input(id="optimizer_options", compact=True)
                with _row("Data", "auto picks full MNIST when it is set up, else the bundled sample"):
                    yield Select([(source, source) for source in SOURCES], value=config.data, allow_blank=False,
                                 compact=True, id="data")
                yield Static("", id="data-line")
                with _row("Data folder", "a folder with the four MNIST .gz files, for auto or idx"):
                    yield Input(config.data_dir or "", placeholder="optional", id="data_dir", compact=True)
                yield Static("", id="form-error")
                with Horizontal(id="setup-buttons"):
                    yield Button("Train", variant="primary", compact=True, id="train")
                    yield Button("Back", compact=True, id="back")
            with VerticalScroll(id="setup-lesson"):
                yield Markdown("", id="setup-lesson-body")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "choose what to train"
        for kind in ("model", "optimizer"):
            self._use_plugin(kind)
        self._show_data()
        self._show_lesson("model")
        self.query_one("#model", Select).focus()

    def _fill_options(self, kind: str, chosen: dict | None = None) -> None:
        name = self.query_one(f"#{kind}", Select).value
        table = self.registry.models if kind == "model" else self.registry.optimizers
        if name in table:
            defaults = table[name].options
            options = {**defaults, **{k: v for k, v in (chosen or {}).items() if k in defaults}}
            self.query_one(f"#{kind}_options", Input).value = options_text(options)

    @on(Select.Changed, "#data")
    def _show_data(self) -> None:
        choice = str(self.query_one("#data", Select).value)
        try:
            line = data_line(data_status(), choice)
        except MnistkitError as err:
            line = f"[red]{escape(str(err))}[/]"
        self.query_one("#data-line", Static).update(line)

    @on(Select.Changed, "#model, #optimizer")
    def _plugin_changed(self, event: Select.Changed) -> None:
        kind = event.select.id
        assert kind is not None  # the handler listens to #model and #optimizer only
        if self._chosen.get(kind) == event.value:
            return  # the Select announcing its first value
        self._use_plugin(kind)
        self._show_lesson(kind)

    def _use_plugin(self, kind: str) -> None:
        """Fill in the options of the chosen model or optimizer; a newly chosen optimizer brings its learning rate."""
        name = self._chosen[kind] = self.query_one(f"#{kind}", Select).value
        same = name == getattr(self.config, kind)
        self._fill_options(kind, getattr(self.config, f"{kind}_options") if same else None)
        if kind == "optimizer" and not same and name in self.registry.optimizers:
            self.query_one("#learning_rate", Input).value = str(self.registry.optimizers[name].learning_rate)

    @on(SelectionList.SelectionHighlighted, "#metrics")
    def _metric_highlighted(self, event: SelectionList.SelectionHighlighted) -> None:
        self._show_lesson("metric", event.selection.value)

    def on_descendant_focus(self, event) -> None:
        widget_id = event.widget.id
        if widget_id in ("model", "optimizer"):
            self._show_lesson(widget_id)
        elif widget_id == "metrics":
            metrics = self.query_one("#metrics", SelectionList)
            if metrics.highlighted is not None:
                self._show_lesson("metric", metrics.get_option_at_index(metrics.highlighted).value)

    def _show_lesson(self, kind: str, name: str | None = None) -> None:
        table = {"model": self.registry.models, "optimizer": self.registry.optimizers, "metric": self.registry.metrics}[kind]
        chosen = name if name is not None else self.query_one(f"#{kind}", Select).value
        spec = table.get(chosen)
        body = self.query_one("#setup-lesson-body", Markdown)
        if spec is None:
            body.update("")
            return
        assert isinstance(chosen, str)  # it names a spec, so it is not Select.NULL
        lesson = self.curriculum.for_spec(self.registry, kind, chosen)
        heading = f"*{kind} `{chosen}`: {spec.description}*\n\n"
        body.update(heading + (lesson.body if lesson else f"No lesson found for `{spec.lesson}`."))

    @on(Input.Changed)
    def _validate(self, event: Input.Changed) -> None:
        if event.validation_result is not None and not event.validation_result.is_valid:
            assert event.input.id is not None  # every Input on this screen has an id
            label = event.input.id.replace("_", " ")
            self._error(f"{label}: " + "; ".join(event.validation_result.failure_descriptions))
        else:
            self._error("")

    def _error(self, message: str) -> None:
        error = self.query_one("#form-error", Static)
        error.update(f"[red]{escape(message)}[/]" if message else "")
        if message:
            error.scroll_visible(animate=False)

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#train")
    @on(Input.Submitted)
    def action_submit(self) -> None:
        try:
            config = self._config()
        except MnistkitError as err:
            self._error(_without_flags(str(err)))
            return
        self.dismiss(config)

    def _config(self) -> RunConfig:
        """The form as a run configuration, checked; raises ``MnistkitError`` with a message for the form."""

        def number(field: str, kind: type):
            text = self.query_one(f"#{field}", Input).value.strip()
            try:
                return kind(text)
            except ValueError:
                what = "a whole number" if kind is int else "a number"
                raise ConfigError(f"{field.replace('_', ' ')} must be {what}, got {text!r}") from None

        model, optimizer = self.query_one("#model", Select).value, self.query_one("#optimizer", Select).value
        model_spec, optimizer_spec = self.registry.model(str(model)), self.registry.optimizer(str(optimizer))
        data = str(self.query_one("#data", Select).value)
        data_dir = self.query_one("#data_dir", Input).value.strip() or None
        if data_dir and data not in ("auto", "idx"):
            raise ConfigError(f"a data folder is read as IDX files; choose data auto or idx, not {data}")
        metrics = self.query("#metrics")
        config = replace(
            self.config,
            model=model_spec.name,
            optimizer=optimizer_spec.name,
            epochs=number("epochs", int),
            batch_size=number("batch_size", int),
            learning_rate=number("learning_rate", float),
            seed=number("seed", int),
            schedule=str(self.query_one("#schedule", Select).value),
            engine=str(self.query_one("#engine", Select).value),
            metrics=tuple(metrics.first(SelectionList).selected) if metrics else (),
            data=data,
            data_dir=data_dir,
            model_options=parse_options("model", model_spec, self._pairs("model_options")),
            optimizer_options=parse_options("optimizer", optimizer_spec, self._pairs("optimizer_options")),
        )
        check_numbers(config)
        return config

    def _pairs(self, field: str) -> list[str]:
        return self.query_one(f"#{field}", Input).value.replace(",", " ").split()


def _row(label: str, tooltip: str | None = None) -> Horizontal:
    """A form row: a fixed-width label, then the fields composed inside the ``with`` block."""
    row = Horizontal(classes="row")
    row.compose_add_child(Label(label, classes="field-label"))
    if tooltip:
        row.tooltip = tooltip
    return row


def _without_flags(message: str) -> str:
    """The checks are worded for ``mnistkit run``; in the form, ``--learning-rate`` reads "learning rate"."""
    return re.sub(r"--([a-z][a-z-]*)", lambda match: match.group(1).replace("-", " "), message)


def _positive(text: str) -> bool:
    try:
        value = float(text)
    except ValueError:
        return False
    return math.isfinite(value) and value > 0
