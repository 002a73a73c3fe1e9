"""The training form's words: what each field does and where it is taught, and how its side panel shows text.

Kept apart from ``setup.py`` (the screen itself) so each stays short.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.markup import escape

BUILTIN_METRICS = ("accuracy", "loss")
"""Always computed by the engine, so not offered as choices."""

ENGINES = ("fast", "tutorial")
ENGINE_HELP = ("fast: the data stays on the device and one compiled step gathers each batch; "
               "tutorial: the original tutorial's loop, tf.data feeding an nnx.jit step")
OPTIONS_HELP = "key=value pairs, separated by spaces"

@dataclass(frozen=True)
class FieldHelp:
    """What the help panel says for a field that is not a plugin: its name, what it does, the lesson that teaches it."""

    title: str
    text: str
    lesson: str | None = None


FIELD_HELP = {
    "epochs": FieldHelp("Epochs", "Passes over the training images. A fraction trains part of the last pass: 0.75 is "
                        "three quarters of one, as the speedrun recipe does (the fast engine only).", "train"),
    "batch_size": FieldHelp("Batch", "Images per train step: each step follows their mean gradient, so a larger "
                            "batch takes fewer, steadier steps per epoch.", "pipeline"),
    "learning_rate": FieldHelp("Learning rate", "How far each step moves the weights along the gradient. Each "
                               "optimizer brings its own; choosing one fills it in.", "optimizer"),
    "seed": FieldHelp("Seed", "Seeds the first weights and the order of the images: the same seed, the same run.",
                      "seeds"),
    "schedule": FieldHelp("Schedule", "How the learning rate changes over the run: constant, warmup-cosine (a climb, "
                          "then a slow decay) or one-cycle.", "plugin-schedules"),
    "engine": FieldHelp("Engine", ENGINE_HELP + ".", "train"),
    "dtype": FieldHelp("Dtype", "What the forward pass computes in. bfloat16 halves the memory traffic and pays on "
                       "GPUs and TPUs; the weights, the optimizer and the loss stay float32 (the fast engine only)."),
    "data": FieldHelp("Data", "auto picks full MNIST when it is set up, else the bundled sample of 6,000 training and "
                      "1,000 test images; idx reads the folder below, mnist the tensorflow-datasets copy.", "data"),
    "data_dir": FieldHelp("Data folder", "A folder with the four MNIST .gz files, read for data auto or idx.", "data"),
}
"""The help of every field that is not a plugin (nor a plugin's options), by the field's id."""


def options_text(options) -> str:
    """``{"features": 32, "hidden": 256}`` -> ``"features=32 hidden=256"``."""
    return " ".join(f"{key}={value}" for key, value in options.items())


def tables_as_lists(markdown: str) -> str:
    """``markdown`` with each table written as a list, one item per row, for a panel too narrow for its columns.

    ``| layer | output shape |`` over ``| input | (B, 28, 28, 1) |`` becomes
    ``- **input**: output shape (B, 28, 28, 1)``. Tables inside code fences stay as they are.
    """
    out: list[str] = []
    header: list[str] | None = None
    fenced = False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if fenced or not line.lstrip().startswith("|"):
            header = None
            out.append(line)
        elif header is None:
            header = cells
        elif not all(set(cell) <= set(":- ") for cell in cells):
            rest = ", ".join(f"{name} {value}" if name else value for name, value in zip(header[1:], cells[1:]))
            out.append(f"- **{cells[0]}**" + (f": {rest}" if rest else ""))
    return "\n".join(out)


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
