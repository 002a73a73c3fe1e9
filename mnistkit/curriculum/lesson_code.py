"""The code in a lesson: find its blocks and markers, run them as a reader would.

The conventions (``lessons/README.md`` explains them to authors):

- A fenced block tagged ``python`` (or ``py``) runs, wherever markdown
  draws it (top level, indented, in a list item or a quote): the blocks are
  the ones ``mnistkit.curriculum.lessons.find_code_blocks`` finds. Blocks
  run in document order in one namespace per lesson, so later blocks see
  what earlier ones defined. Other fences (``bash``, ``text``) are only
  shown; a fence that is drawn as Python but would not run (``python3``,
  ``pycon``, ...) is refused.
- ``<!-- no-run: REASON -->`` on the line right before a block skips it; the
  reason is required and shown in test reports.
- ``<!-- ci: EPOCHS=1, STEPS=20 -->`` right before a block gives short
  settings for the test suite: each name must be assigned at the top level of
  that block (``EPOCHS = 10``), and the test runs it with the given value
  instead. A reader sees and runs the full setting.
- ``# prints: TEXT`` at the end of a code line: the block's output must have
  a line equal to TEXT (stripped); several such comments must match lines in
  the order they appear.
- ``<!-- check: EXPR -->`` anywhere in the prose: EXPR, a Python expression,
  must be true in the lesson's namespace at that point of the document. Put
  one beside every figure the prose states (a shape, a count, a range), so
  the prose cannot drift from what the code does.

Nothing heavy is imported here; the code in lessons imports what it needs.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
import sys
import tokenize
import types
from dataclasses import dataclass, field
from typing import Any

from mnistkit.curriculum.lessons import Lesson, find_code_blocks
from mnistkit.errors import ConfigError

RUNNABLE = ("python", "py")
DRAWN_AS_PYTHON = ("python3", "py3", "pycon", "ipython", "ipython3", "sage")
"""Fence tags a highlighter draws as Python but that do not run: refused, so no claim goes unchecked."""
MARKER = re.compile(r"<!--[ \t]*(no-run|ci|check)[ \t]*:(.*?)-->", re.DOTALL)
_PRINTS = re.compile(r"#[ \t]*prints:[ \t]?(.*)$")


@dataclass(frozen=True)
class CodeBlock:
    """A fenced code block of a lesson; ``line`` is the file line of its first code line."""

    code: str
    line: int
    language: str
    skip: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    expected: tuple[tuple[int, str], ...] = ()

    @property
    def runs(self) -> bool:
        return self.language in RUNNABLE and self.skip is None


@dataclass(frozen=True)
class Check:
    """A ``<!-- check: EXPR -->`` marker at ``line``."""

    expr: str
    line: int


@dataclass(frozen=True)
class BlockRun:
    """What one block did: its printed output (None when skipped)."""

    block: CodeBlock
    output: str | None


@dataclass
class LessonRun:
    namespace: dict[str, Any]
    blocks: list[BlockRun]

    @property
    def output(self) -> str:
        """Everything the lesson's blocks printed, in order."""
        return "".join(run.output or "" for run in self.blocks)


class LessonCodeFailure(Exception):
    """A lesson's code raised, printed something else than it says, or a check is false."""


def steps(lesson: Lesson) -> list[CodeBlock | Check]:
    """The lesson's code blocks and checks in document order.

    Raises ``ConfigError`` (naming the file and line) for an unclosed fence,
    a fence drawn as Python that would not run, a marker that is malformed
    or precedes no code block, and a ``ci`` override on a block that does
    not run.
    """
    lines = lesson.body.splitlines()
    first = lesson.body_line
    blocks = {block.start: block for block in find_code_blocks("\n".join(lines))}
    found: list[CodeBlock | Check] = []
    pending: list[tuple[int, str, str]] = []  # markers waiting for their block
    i = 0
    while i < len(lines):
        number = first + i
        line = lines[i]
        if i in blocks:
            block = blocks[i]
            if not block.closed:
                raise _error(lesson, number, "this code block is never closed")
            if block.language in DRAWN_AS_PYTHON:
                raise _error(lesson, number, f"a ```{block.language} block is drawn as Python but does not run: "
                             "tag it ```python (it runs in the tests) or ```text (shown only)")
            found.append(_block(lesson, block.code, first + block.code_start, block.language, pending))
            pending = []
            i = max(block.end, i + 1)
            continue
        stripped = line.strip()
        markers = list(MARKER.finditer(line))
        if "<!--" in line and not markers and "-->" not in line and re.search(r"<!--[ \t]*(no-run|ci|check)\b", line):
            raise _error(lesson, number, "a marker comment must open and close on one line: <!-- kind: ... -->")
        for marker in markers:
            kind, value = marker.group(1), marker.group(2).strip()
            if kind == "check":
                found.append(Check(_expression(lesson, number, value), number))
            else:
                pending.append((number, kind, value))
        block_markers_only = (bool(markers) and not MARKER.sub("", stripped).strip()
                              and all(m.group(1) != "check" for m in markers))
        if pending and stripped and not block_markers_only:
            raise _error(lesson, pending[0][0], f"a `{pending[0][1]}` marker must be right before a code block")
        i += 1
    if pending:
        raise _error(lesson, pending[0][0], f"a `{pending[0][1]}` marker must be right before a code block")
    return found


def code_blocks(lesson: Lesson) -> list[CodeBlock]:
    """The lesson's code blocks (fenced or indented), in order."""
    return [step for step in steps(lesson) if isinstance(step, CodeBlock)]


def _block(lesson: Lesson, code: str, line: int, language: str, markers: list[tuple[int, str, str]]) -> CodeBlock:
    skip, overrides = None, {}
    for number, kind, value in markers:
        if kind == "no-run":
            if not value:
                raise _error(lesson, number, "a no-run marker needs its reason: <!-- no-run: needs the network -->")
            skip = value
        else:
            overrides.update(_overrides(lesson, number, value))
    if overrides and (language not in RUNNABLE or skip):
        raise _error(lesson, markers[0][0], "a `ci` marker only makes sense before a python block that runs")
    expected = tuple(
        (line + offset, match.group(1).strip())
        for offset, text in enumerate(_comments(code) if language in RUNNABLE else [])
        if text is not None and (match := _PRINTS.search(text))
    )
    return CodeBlock(code, line, language, skip, overrides, expected)


def _comments(code: str) -> list[str | None]:
    """The comment on each line of ``code`` (None where there is none)."""
    comments: list[str | None] = [None] * (code.count("\n") + 1)
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type == tokenize.COMMENT:
                comments[token.start[0] - 1] = token.string
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass  # the block does not parse; running it reports that
    return comments


def _overrides(lesson: Lesson, number: int, text: str) -> dict[str, Any]:
    try:
        call = ast.parse(f"f({text})", mode="eval").body
        assert isinstance(call, ast.Call) and not call.args and call.keywords
        return {kw.arg: ast.literal_eval(kw.value) for kw in call.keywords if kw.arg}
    except (SyntaxError, ValueError, AssertionError, TypeError, MemoryError, RecursionError):
        raise _error(lesson, number, f"a ci marker reads `<!-- ci: NAME=VALUE, ... -->` with Python literals, got {text!r}") from None


def _expression(lesson: Lesson, number: int, text: str) -> str:
    try:
        ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        raise _error(lesson, number, f"a check marker holds a Python expression, got {text!r}") from None
    return text


def _error(lesson: Lesson, line: int, message: str) -> ConfigError:
    return ConfigError(f"{lesson.path}:{line}: {message}")


def run_lesson_code(lesson: Lesson, *, short: bool = True, namespace: dict[str, Any] | None = None) -> LessonRun:
    """Run the lesson's blocks and checks in order, in one namespace, as a reader would.

    ``short`` applies the ``ci`` markers' short settings. The namespace is
    that of a module registered in ``sys.modules`` for the run (so classes
    defined in a block behave as in a script). Raises ``LessonCodeFailure``
    naming the file and line when a block raises, prints something other
    than its ``# prints:`` comments say, or a check is false.
    """
    module = types.ModuleType(f"mnistkit_lesson_{lesson.id.replace('-', '_')}")
    if namespace:
        module.__dict__.update(namespace)
    sys.modules[module.__name__] = module
    runs: list[BlockRun] = []
    try:
        for step in steps(lesson):
            if isinstance(step, Check):
                _check(lesson, step, module.__dict__)
            elif not step.runs:
                runs.append(BlockRun(step, None))
            else:
                runs.append(BlockRun(step, _run_block(lesson, step, module.__dict__, short)))
    finally:
        sys.modules.pop(module.__name__, None)
    return LessonRun(module.__dict__, runs)


def _run_block(lesson: Lesson, block: CodeBlock, namespace: dict[str, Any], short: bool) -> str:
    where = f"{lesson.path}:{block.line}"
    try:
        tree = ast.parse(block.code, filename=str(lesson.path))
    except SyntaxError as err:
        raise LessonCodeFailure(f"{where}: the code block does not parse: {err}") from err
    ast.increment_lineno(tree, block.line - 1)
    if short and block.overrides:
        _apply_overrides(tree, block, where)
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            exec(compile(tree, str(lesson.path), "exec", dont_inherit=True), namespace)  # noqa: S102 - running the lesson is the point
    except Exception as err:
        printed = buffer.getvalue()
        tail = f"\nIt printed:\n{printed}" if printed else ""
        raise LessonCodeFailure(f"{where}: the code block raised {type(err).__name__}: {err}{tail}") from err
    output = buffer.getvalue()
    _match_prints(block, output, lesson)
    return output


def _apply_overrides(tree: ast.Module, block: CodeBlock, where: str) -> None:
    unused = set(block.overrides)
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in block.overrides:
                node.value = ast.copy_location(ast.Constant(block.overrides[name]), node.value)
                unused.discard(name)
    if unused:
        raise LessonCodeFailure(f"{where}: the ci marker sets {', '.join(sorted(unused))}, which the block never assigns at its top level")


def _match_prints(block: CodeBlock, output: str, lesson: Lesson) -> None:
    lines = [line.strip() for line in output.splitlines()]
    position = 0
    for line, text in block.expected:
        try:
            position = lines.index(text, position) + 1
        except ValueError:
            printed = f"printed:\n{output}" if output else "printed nothing"
            raise LessonCodeFailure(
                f"{lesson.path}:{line}: the comment says the code prints {text!r}, "
                f"but the block (line {block.line}) {printed}"
            ) from None


def _check(lesson: Lesson, check: Check, namespace: dict[str, Any]) -> None:
    try:
        value = eval(check.expr, namespace)
    except Exception as err:
        raise LessonCodeFailure(f"{lesson.path}:{check.line}: check `{check.expr}` raised {type(err).__name__}: {err}") from err
    if not value:
        raise LessonCodeFailure(f"{lesson.path}:{check.line}: check `{check.expr}` is false; the prose and the code disagree")
