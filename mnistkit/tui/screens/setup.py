"""Choosing what to train: plugins, hyper-parameters and data, with help on the focused field beside them.

The screen returns a ``RunConfig`` (or None on Esc). Every value is
checked here with the same functions ``mnistkit run`` uses
(``mnistkit.runs.config.check_numbers``); a bad one gets a message above the
Train button and the screen stays open. The panel beside the form follows
the focus: a plugin's lesson for the model, the optimizer, a metric and
their options; for any other field what it does and which lesson teaches it.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.validation import Function, Integer, Number
from textual.widget import Widget
from textual.widgets import Button, Footer, Header, Input, Label, Markdown, Select, SelectionList, Static

from mnistkit.curriculum.loader import Curriculum
from mnistkit.data import SOURCES, data_status
from mnistkit.errors import ConfigError, MnistkitError
from mnistkit.runs.config import DTYPES, RunConfig, check_numbers
from mnistkit.runs.schedules import SCHEDULES
from mnistkit.specs import parse_options
from mnistkit.tui.screens.form_help import (
    BUILTIN_METRICS,
    ENGINE_HELP,
    ENGINES,
    FIELD_HELP,
    OPTIONS_HELP,
    data_line,
    options_text,
    tables_as_lists,
)
from mnistkit.tui.widgets.checklist import CheckList

BUTTON_HELP = {
    "train": "**Train** starts a run with the settings on the left and shows it in the run tab (Enter here, or "
             "**ctrl+s** from any field). A value the run cannot take is named under the form instead.",
    "back": "**Back** closes the form without training, and forgets what you changed here (Enter here, or "
            "**Esc**). To keep a change, train with it.",
}


class SetupScreen(Screen[RunConfig | None]):
    """A small form; Enter or the Train button starts the run, Esc goes back."""

    # What mnistkit.tcss does not say: the focused field's mark, the option rows' full width, the docked buttons.
    DEFAULT_CSS = """
    SetupScreen #setup-form {
        scrollbar-size-vertical: 1;
    }
    SetupScreen .field-label, SetupScreen .inner, SetupScreen .stacked-label {
        border-left: blank;
    }
    SetupScreen .stacked-label {
        width: auto;
        color: $text-muted;
    }
    SetupScreen .-focused {
        border-left: tall $accent;
        text-style: bold;
    }
    SetupScreen .row.-stacked {
        layout: vertical;
    }
    SetupScreen .row.-stacked Input {
        margin: 0 0 0 1;
    }
    SetupScreen #setup-lesson-body {
        padding: 0;
    }
    SetupScreen #setup-actions {
        height: auto;
        padding: 0 1;
    }
    """

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Back"),
        Binding("ctrl+s", "submit", "Train"),
    ]

    def __init__(self, registry, curriculum: Curriculum, config: RunConfig):
        super().__init__()
        self.registry = registry
        self.curriculum = curriculum
        self.config = config
        self.field: str | None = None
        """The field that has the focus (its id), None when none of them has."""
        self._chosen: dict[str, object] = {}
        self._labels: dict[str, Label] = {}

    def compose(self) -> ComposeResult:
        config = self.config
        registry = self.registry
        metrics = [name for name in sorted(registry.metrics) if name not in BUILTIN_METRICS]
        model = config.model if config.model in registry.models else next(iter(sorted(registry.models)), None)
        optimizer = config.optimizer if config.optimizer in registry.optimizers else next(iter(sorted(registry.optimizers)), None)
        positive = [Number(), Function(_positive, "must be a positive number")]
        yield Header()
        with Horizontal(id="setup"):
            with Vertical(id="setup-column"):
                with VerticalScroll(id="setup-form", can_focus=False):  # its fields take the focus, not the box
                    with self._row("Model", "model"):
                        yield Select([(name, name) for name in sorted(registry.models)], value=model or Select.NULL,
                                     allow_blank=model is None, compact=True, id="model")
                    with self._row("Optimizer", "optimizer"):
                        yield Select([(name, name) for name in sorted(registry.optimizers)], value=optimizer or Select.NULL,
                                     allow_blank=optimizer is None, compact=True, id="optimizer")
                    with self._row("Metrics", "metrics", "accuracy and loss are always on; Space ticks one"):
                        if metrics:
                            yield CheckList(*[(name, name, name in config.metrics) for name in metrics], id="metrics")
                        else:
                            yield Static("[dim]only accuracy and loss[/]", id="metrics-none")
                    with self._row("Epochs", "epochs"):
                        yield Input(_number_text(config.epochs), id="epochs", compact=True, validators=positive)
                        yield self._label("Batch", "batch_size", "inner")
                        yield Input(str(config.batch_size), id="batch_size", compact=True, validators=[Integer(minimum=1)])
                    with self._row("Learn. rate", "learning_rate"):
                        yield Input(str(config.learning_rate), id="learning_rate", compact=True, validators=positive)
                        yield self._label("Seed", "seed", "inner")
                        yield Input(str(config.seed), id="seed", compact=True, validators=[Integer()])
                    with self._row("Schedule", "schedule", "how the learning rate changes over the run"):
                        yield Select([(name, name) for name in SCHEDULES], value=config.schedule, allow_blank=False,
                                     compact=True, id="schedule")
                    with self._row("Engine", "engine", ENGINE_HELP):
                        yield Select([(name, name) for name in ENGINES], value=config.engine, allow_blank=False,
                                     compact=True, id="engine")
                    with self._row("Dtype", "dtype", "what the forward pass computes in"):
                        yield Select([(name, name) for name in DTYPES], value=config.dtype, allow_blank=False,
                                     compact=True, id="dtype")
                    with self._row("Model options", "model_options", OPTIONS_HELP, stacked=True):
                        yield Input(id="model_options", compact=True)
                    with self._row("Optimizer options", "optimizer_options", OPTIONS_HELP, stacked=True):
                        yield Input(id="optimizer_options", compact=True)
                    with self._row("Data", "data", "auto picks full MNIST when it is set up, else the bundled sample"):
                        yield Select([(source, source) for source in SOURCES], value=config.data, allow_blank=False,
                                     compact=True, id="data")
                    yield Static("", id="data-line")
                    with self._row("Data folder", "data_dir", "a folder with the four MNIST .gz files, for auto or idx"):
                        yield Input(config.data_dir or "", placeholder="optional", id="data_dir", compact=True)
                with Vertical(id="setup-actions"):  # under the form: the Train button is in view however far it scrolls
                    yield Static("", id="form-error")
                    with Horizontal(id="setup-buttons"):
                        yield Button("Train", variant="primary", compact=True, id="train")
                        yield Button("Back", compact=True, id="back")
            with VerticalScroll(id="setup-lesson"):
                yield Markdown("", id="setup-lesson-body")
        yield Footer()

    def _label(self, text: str, field: str, classes: str = "field-label") -> Label:
        """The label of ``field``, marked while that field has the focus."""
        label = self._labels[field] = Label(text, classes=classes)
        return label

    def _row(self, text: str, field: str, tooltip: str | None = None, stacked: bool = False) -> Horizontal:
        """A form row: ``field``'s label, then the fields composed inside the ``with`` block (under it if ``stacked``)."""
        row = Horizontal(classes="row -stacked" if stacked else "row")
        row.compose_add_child(self._label(text, field, "stacked-label" if stacked else "field-label"))
        if tooltip:
            row.tooltip = tooltip
        return row

    def on_mount(self) -> None:
        self.sub_title = "choose what to train"
        for kind in ("model", "optimizer"):
            self._use_plugin(kind)
        self._show_data()
        self.query_one("#model", Select).focus()
        self._focus_field("model")

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
        if self.field == "metrics":
            self._show_lesson("metric", event.selection.value)

    def on_descendant_focus(self, event) -> None:
        self._focus_field(_field_of(event.widget, self._labels))
        if event.widget.id in BUTTON_HELP:
            self.query_one("#setup-lesson-body", Markdown).update(BUTTON_HELP[event.widget.id])

    def _focus_field(self, field: str | None) -> None:
        """Mark ``field``'s label and show its help beside the form; None (a button, the help itself) marks none."""
        for name, label in self._labels.items():
            label.set_class(name == field, "-focused")
        if field is not None and field != self.field:
            self._show_help(field)
        self.field = field

    def _show_help(self, field: str) -> None:
        if field in ("model", "optimizer"):
            self._show_lesson(field)
        elif field in ("model_options", "optimizer_options"):
            kind = field.removesuffix("_options")
            self._show_lesson(kind, intro=f"**{kind.capitalize()} options**: {OPTIONS_HELP}; "
                                          "an option left out keeps its default.")
        elif field == "metrics":
            metrics = self.query_one("#metrics", SelectionList)
            if metrics.highlighted is not None:
                self._show_lesson("metric", metrics.get_option_at_index(metrics.highlighted).value)
        elif field in FIELD_HELP:
            help_ = FIELD_HELP[field]
            lesson = self.curriculum.get(help_.lesson)
            where = (f"\n\n{self.curriculum.position(lesson).capitalize()} teaches it: *{lesson.title}*."
                     if lesson is not None else "")
            self.query_one("#setup-lesson-body", Markdown).update(f"**{help_.title}**\n\n{help_.text}{where}")
        self.query_one("#setup-lesson", VerticalScroll).scroll_home(animate=False)

    def _show_lesson(self, kind: str, name: str | None = None, intro: str = "") -> None:
        """The lesson of plugin ``name`` (else the one chosen) of ``kind``, after ``intro``."""
        table = {"model": self.registry.models, "optimizer": self.registry.optimizers, "metric": self.registry.metrics}[kind]
        chosen = name if name is not None else self.query_one(f"#{kind}", Select).value
        spec = table.get(chosen)
        body = self.query_one("#setup-lesson-body", Markdown)
        if spec is None:
            body.update(intro)
            return
        assert isinstance(chosen, str)  # it names a spec, so it is not Select.NULL
        lesson = self.curriculum.for_spec(self.registry, kind, chosen)
        heading = (f"{intro}\n\n" if intro else "") + f"*{kind} `{chosen}`: {spec.description}*\n\n"
        body.update(heading + (tables_as_lists(lesson.body) if lesson else f"No lesson found for `{spec.lesson}`."))

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
            epochs=_whole_if_whole(number("epochs", float)),
            batch_size=number("batch_size", int),
            learning_rate=number("learning_rate", float),
            seed=number("seed", int),
            schedule=str(self.query_one("#schedule", Select).value),
            engine=str(self.query_one("#engine", Select).value),
            dtype=str(self.query_one("#dtype", Select).value),
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


def _field_of(widget: Widget | None, fields) -> str | None:
    """The form field ``widget`` is, or is inside (a Select's overlay), as its id; None if it is no field."""
    while widget is not None:
        if widget.id in fields:
            return widget.id
        parent = widget.parent
        widget = parent if isinstance(parent, Widget) else None
    return None


def _number_text(value: float) -> str:
    """``2`` for 2.0, ``0.75`` for 0.75: how a number of epochs is written on the command line."""
    return f"{value:g}"


def _whole_if_whole(value: float) -> float:
    """A whole number of epochs as an int (as ``mnistkit run --epochs`` gives it), a fraction as it is."""
    return int(value) if value.is_integer() else value


def _without_flags(message: str) -> str:
    """The checks are worded for ``mnistkit run``; in the form, ``--learning-rate`` reads "learning rate"."""
    return re.sub(r"--([a-z][a-z-]*)", lambda match: match.group(1).replace("-", " "), message)


def _positive(text: str) -> bool:
    try:
        value = float(text)
    except ValueError:
        return False
    return math.isfinite(value) and value > 0
