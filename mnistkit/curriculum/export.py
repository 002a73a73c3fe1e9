"""Export a lesson as a Jupyter notebook or a plain Python script.

The lesson's prose becomes markdown cells and each Python block that runs
becomes a code cell, in document order, so the notebook runs top to bottom as
the test suite runs the lesson (``mnistkit.curriculum.lesson_code``). The
script is the same cells in the "percent" format (``# %%``) that VS Code,
PyCharm, Spyder and jupytext open as cells; ``python lesson.py`` runs it.

What changes on the way out:

- the markers for the test suite (``<!-- no-run -->``, ``<!-- ci -->``,
  ``<!-- check -->``) are dropped;
- a ``no-run`` block is shown, not run, with its reason;
- in the notebook, each "Check yourself" answer is folded in a
  ``<details>`` element, opened with a click;
- with ``short=True``, the ``ci`` markers' short settings replace the
  lesson's values in the code, so the export runs in seconds.

Importing this module is cheap (the CLI builds its options from ``FORMATS``);
the lesson parser comes with the first export, nbformat with the first notebook.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from mnistkit.curriculum.lessons import Lesson

Format = Literal["ipynb", "py"]
FORMATS: tuple[Format, ...] = ("ipynb", "py")


def as_format(text: str | None) -> Format | None:
    """``text`` as a ``Format``, or None when it names none."""
    return next((fmt for fmt in FORMATS if fmt == text), None)


@dataclass(frozen=True)
class Cell:
    kind: Literal["markdown", "code"]
    source: str


def lesson_cells(lesson: Lesson, *, short: bool = False, fold_answers: bool = False) -> list[Cell]:
    """The lesson as cells: a header, then its prose and its code, in order.

    Raises ``ConfigError`` for a lesson whose code blocks are malformed (as
    the test suite would).
    """
    from mnistkit.curriculum.lesson_code import RUNNABLE, code_blocks
    from mnistkit.curriculum.lessons import find_code_blocks, hide_answers

    body = hide_answers(lesson.body, _details) if fold_answers else lesson.body
    lines = body.splitlines()
    blocks = {block.line: block for block in code_blocks(lesson)}
    cells = [Cell("markdown", _header(lesson, short))]
    prose: list[str] = []

    def flush() -> None:
        text = "\n".join(prose).strip("\n")
        if text.strip():
            cells.append(Cell("markdown", text))
        prose.clear()

    position = 0
    for found in find_code_blocks("\n".join(lines)):
        prose.extend(_without_markers(lines[position:found.start]))
        position = max(found.end, found.start + 1)
        block = blocks.get(lesson.body_line + found.code_start)
        if block is None or block.language not in RUNNABLE:
            prose.extend(lines[found.start:position])  # shown as the lesson shows it
        elif block.skip is not None:
            prose.extend([f"*Not run here: {block.skip}.*", "", *lines[found.start:position]])
        else:
            flush()
            code = _shortened(block.code, block.overrides) if short and block.overrides else block.code
            cells.append(Cell("code", code.rstrip("\n")))
    prose.extend(_without_markers(lines[position:]))
    flush()
    return cells


def export_lesson(lesson: Lesson, fmt: Format, *, short: bool = False, version: str = "") -> str:
    """The lesson as the text of a ``.ipynb`` notebook or a ``.py`` script."""
    if fmt == "py":
        return _script(lesson_cells(lesson, short=short))
    import nbformat
    from nbformat import v4

    cells = lesson_cells(lesson, short=short, fold_answers=True)
    notebook = v4.new_notebook(metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "mnistkit": {"lesson": lesson.id, "version": version, "short": short},
    })
    for number, cell in enumerate(cells):
        make = v4.new_code_cell if cell.kind == "code" else v4.new_markdown_cell
        notebook.cells.append(make(cell.source, id=f"{lesson.id}-{number}"[-64:]))
    nbformat.validate(notebook)
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def _header(lesson: Lesson, short: bool) -> str:
    where = f"A lesson of the plugin `{lesson.plugin}`" if lesson.plugin else f"Lesson {lesson.order} of the mnistkit curriculum"
    needs = f"; it builds on {', '.join(lesson.prerequisites)}" if lesson.prerequisites else ""
    speed = (" The training settings are the short ones the test suite uses, so it runs in seconds;"
             " export without `--short` for the lesson's own." if short else "")
    return (f"*{where}, about {lesson.minutes} minutes{needs}. Run the cells in order, in a Python that has "
            f"mnistkit installed.{speed} `mnistkit lesson show {lesson.id}` shows the lesson in the terminal, "
            f"and `mnistkit tui` beside a training form.*")


def _details(answer: str) -> str:
    return f"<details><summary>Answer</summary>{answer}</details>"  # as many lines as the answer: blocks keep their place


def _without_markers(lines: list[str]) -> list[str]:
    """Prose lines with the test-suite markers removed (a line holding only markers goes)."""
    from mnistkit.curriculum.lesson_code import MARKER

    kept = []
    for line in lines:
        cleaned = MARKER.sub("", line).rstrip()
        if cleaned.strip() or not line.strip():
            kept.append(cleaned)
    return kept


def _shortened(code: str, overrides: dict[str, Any]) -> str:
    """``code`` with each top-level ``NAME = value`` of ``overrides`` given the override's value."""
    source = code.encode()
    starts = [0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    edits = []
    for node in ast.parse(code).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in overrides and node.value.end_lineno is not None and node.value.end_col_offset is not None:
                start = starts[node.value.lineno - 1] + node.value.col_offset
                end = starts[node.value.end_lineno - 1] + node.value.end_col_offset
                edits.append((start, end, repr(overrides[name]).encode()))
    for start, end, value in sorted(edits, reverse=True):
        source = source[:start] + value + source[end:]
    return source.decode()


def _script(cells: list[Cell]) -> str:
    parts = []
    for cell in cells:
        if cell.kind == "code":
            parts.append(f"# %%\n{cell.source}\n")
        else:
            commented = "\n".join(f"# {line}".rstrip() for line in cell.source.splitlines())
            parts.append(f"# %% [markdown]\n{commented}\n")
    return "\n".join(parts)
