"""Lessons: parse the curriculum's markdown files (front matter, questions, answers).

A lesson is a markdown file in ``lessons/`` (installed as ``mnistkit_lessons``)
that starts with a front-matter block::

    ---
    id: pipeline
    title: The input pipeline
    order: 3
    stage: pipeline
    minutes: 12
    prerequisites: [data]
    ---

and has a ``## Check yourself`` section of numbered questions, each ending
with its answer in ``*(...)*``. ``lessons/README.md`` is the guide for lesson
authors, including the conventions for code blocks that the test suite runs
(see ``mnistkit.curriculum.lesson_code``).

The front matter is YAML, read with ``yaml.safe_load``; the body is
CommonMark, and ``find_code_blocks`` is the one place that says where its
code blocks are (markdown-it-py, the parser the terminal and the TUI draw
with). Importing this module is cheap: the standard library, PyYAML and
markdown-it-py, no JAX.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt

from mnistkit.errors import ConfigError

FRONT_MATTER_KEYS = ("id", "title", "order", "stage", "minutes", "prerequisites", "plugin")
REQUIRED_KEYS = ("id", "title", "order", "minutes")
PLUGIN_PREFIX = "plugin-"
"""Ids of plugin lessons start with this; the core curriculum's do not."""

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML was built with it (ten times faster), else the pure-Python one."""
_ID = re.compile(r"[a-z0-9][a-z0-9_-]*", re.ASCII)
_STAGE = re.compile(r"[a-z][a-z0-9_]*", re.ASCII)
_QUESTION = re.compile(r"(\d{1,3})[.)][ \t]+(.*)", re.ASCII)
_ANSWER = re.compile(r"\*\((.*)\)\*[ \t]*$", re.DOTALL)
_CHECK_HEADING = re.compile(r"##[ \t]+check yourself[ \t]*#*[ \t]*$", re.IGNORECASE)


@dataclass(frozen=True)
class Question:
    """A "check yourself" question with its answer (hidden until asked)."""

    question: str
    answer: str


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    order: int
    stage: str | None  # id of the runnable stage (see mnistkit.curriculum.stages), or None
    minutes: int
    prerequisites: tuple[str, ...]
    body: str  # markdown without the front matter
    path: Path
    plugin: str | None = None  # set for a plugin's paired lesson
    questions: tuple[Question, ...] = field(default_factory=tuple)
    body_line: int = 1  # line of the file where ``body`` starts

    @property
    def is_plugin_lesson(self) -> bool:
        return self.plugin is not None or self.id.startswith(PLUGIN_PREFIX)


def parse_lesson(text: str, path: Path | str) -> Lesson:
    """Parse one lesson file's text; ``path`` is where it came from (for errors).

    Any text either gives a ``Lesson`` or raises ``ConfigError`` whose message
    starts with ``path:line:`` and says what to fix.
    """
    path = Path(path)
    lines = text.splitlines()
    if not lines or lines[0].strip().lstrip("\ufeff") != "---":
        raise _error(path, 1, "a lesson starts with a front-matter block: a line `---`, then `key: value` lines, then `---`")
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        raise _error(path, 1, "the front-matter block is not closed by a line `---`")
    meta = _front_matter(lines[1:end], path)
    body = "\n".join(lines[end + 1 :])
    if text.endswith(("\n", "\r")):
        body += "\n"
    return Lesson(
        id=meta["id"],
        title=meta["title"],
        order=meta["order"],
        stage=meta.get("stage"),
        minutes=meta["minutes"],
        prerequisites=meta.get("prerequisites", ()),
        body=body,
        path=path,
        plugin=meta.get("plugin"),
        questions=parse_questions(lines[end + 1 :], path, first_line=end + 2),
        body_line=end + 2,
    )


def _front_matter(lines: list[str], path: Path) -> dict[str, Any]:
    text = "\n".join(lines)
    try:
        loader = _YAML_LOADER(text)  # one pass: the node (for line numbers) and the value built from it
        try:
            node = loader.get_single_node()
            data: Any = loader.construct_document(node) if node is not None else {}
        finally:
            loader.dispose()
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        raise _yaml_error(path, exc) from None
    meta: dict[str, Any] = {}
    if node is not None and not isinstance(node, yaml.MappingNode):
        got = lines[node.start_mark.line].strip()
        raise _error(path, node.start_mark.line + 2, f"expected `key: value` in the front matter, got {got!r}")
    for key_node, value_node in node.value if node is not None else ():
        number = key_node.start_mark.line + 2
        key = key_node.value
        if key not in FRONT_MATTER_KEYS:
            raise _error(path, number, f"unknown front-matter key {key!r}; known keys: {', '.join(FRONT_MATTER_KEYS)}")
        if key in meta:
            raise _error(path, number, f"front-matter key {key!r} is given twice")
        if key in ("order", "minutes") and isinstance(value_node, yaml.ScalarNode) and _NOT_DECIMAL.fullmatch(value_node.value):
            raise _error(path, number, f"write {key} as a plain decimal number, got {value_node.value!r} "
                                       "(YAML readers disagree on leading zeros: 010 is 8 to some, 10 to others)")
        meta[key] = _value(key, data[key], path, number)
    missing = [key for key in REQUIRED_KEYS if key not in meta]
    if missing:
        raise _error(path, 1, f"the front matter lacks {', '.join(missing)}")
    return meta


_NOT_DECIMAL = re.compile(r"[+-]?0[0-9_]+|[+-]?0[xXoObB].*|.*_.*")


def _yaml_error(path: Path, exc: Exception) -> ConfigError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
    hint = "put a value that holds `: ` or ` #`, or starts with a quote, in quotes"
    return _error(path, mark.line + 2 if mark else 1, f"the front matter is not valid YAML ({problem}); {hint}")


def _value(key: str, value: Any, path: Path, number: int) -> Any:
    if key in ("order", "minutes"):
        least = 1 if key == "minutes" else 0
        if type(value) is not int or value < least:  # not bool, which is an int to Python
            raise _error(path, number, f"{key} must be a whole number of at least {least}, got {value!r}")
        return value
    if key == "prerequisites":
        if not isinstance(value, list):
            raise _error(path, number, f"prerequisites must be a list like [data, model], got {value!r}")
        for item in value:
            if not (isinstance(item, str) and _ID.fullmatch(item)):
                raise _error(path, number, f"prerequisite {item!r} is not a lesson id (lowercase letters, digits, - and _)")
        return tuple(value)
    if key in ("stage", "plugin") and (value is None or (isinstance(value, str) and value.lower() == "none")):
        return None
    if key == "title":
        if value is None or (isinstance(value, str) and not value.strip()):
            raise _error(path, number, "title is empty")
        if not isinstance(value, str):
            raise _error(path, number, f"title must be text, got {value!r}: put it in quotes")
    if key == "id" and not (isinstance(value, str) and _ID.fullmatch(value)):
        raise _error(path, number, f"id must be lowercase letters, digits, - and _, got {value!r}")
    if key == "stage" and not (isinstance(value, str) and _STAGE.fullmatch(value)):
        raise _error(path, number, f"stage must be a stage name such as `data` or `train_step`, got {value!r}")
    if key == "plugin" and not isinstance(value, str):
        raise _error(path, number, f"plugin must be a plugin's name, got {value!r}")
    return value


def parse_questions(lines: list[str], path: Path | str, first_line: int = 1) -> tuple[Question, ...]:
    """The numbered questions under ``## Check yourself``, up to the next ``## `` heading.

    Each question may span lines and must end with its answer in ``*(...)*``.
    """
    questions: list[tuple[int, str]] = []
    inside = False
    for number, line, in_code in _outside_code(lines, first_line):
        stripped = line.strip()
        if in_code:
            continue
        if _CHECK_HEADING.fullmatch(stripped):
            inside = True
            continue
        if inside and re.match(r"#{1,2}[ \t]", stripped):
            break
        if not inside or not stripped:
            continue
        match = _QUESTION.fullmatch(stripped)
        if match:
            questions.append((number, match.group(2)))
        elif questions:
            questions[-1] = (questions[-1][0], f"{questions[-1][1]} {stripped}")
    parsed = []
    for number, item in questions:
        answer = _ANSWER.search(item)
        if not answer or not answer.group(1).strip():
            raise _error(Path(path), number, "a check-yourself question must end with its answer in *(...)*")
        parsed.append(Question(item[: answer.start()].strip(), answer.group(1).strip()))
    return tuple(parsed)


@dataclass(frozen=True)
class MarkdownCode:
    """A code block as CommonMark draws it, wherever it is (top level, list item, quote).

    ``start`` and ``end`` are the indexes of its first and past its last line
    in the text given to ``find_code_blocks`` (fences included); ``code`` is
    what is shown, its container's indentation removed, and starts at line
    ``code_start``. ``language`` is the first word of a fence's info string,
    lowercased ("" for an indented block); ``closed`` is False for a fence
    that runs to the end of its container.
    """

    start: int
    end: int
    code_start: int
    language: str
    code: str
    closed: bool = True


_MARKDOWN = MarkdownIt("commonmark").disable("inline")  # block structure is all we need: half the time


def find_code_blocks(text: str) -> list[MarkdownCode]:
    """The code blocks of a markdown text, in order: the one home for "where is the code"."""
    found = []
    for token in _MARKDOWN.parse(text if text.endswith("\n") else text + "\n"):  # every code line ends in \n
        if token.map is None or token.type not in ("fence", "code_block"):
            continue
        start, end = token.map
        if token.type == "code_block":
            found.append(MarkdownCode(start, end, start, "", token.content))
            continue
        closed = token.content.count("\n") == end - start - 2  # else the fence ran out without closing
        language = token.info.split()[0].lower() if token.info.split() else ""
        found.append(MarkdownCode(start, end, start + 1, language, token.content, closed))
    return found


def _outside_code(lines: list[str], first_line: int = 1):
    """Yield ``(line number, line, inside a code block)`` for each line."""
    inside = {i for block in find_code_blocks("\n".join(line.rstrip("\r\n") for line in lines))
              for i in range(block.start, block.end)}
    for index, line in enumerate(lines):
        yield first_line + index, line, index in inside


def hide_answers(body: str, placeholder: str | Callable[[str], str] = "*(answer hidden)*") -> str:
    """``body`` with every check-yourself answer replaced by ``placeholder``.

    An answer is the ``*(...)*`` that ends a line of the ``## Check yourself``
    section; it may span lines. A callable ``placeholder`` is given the
    answer's text (without ``*(`` and ``)*``) and returns what replaces it.
    """
    lines = body.splitlines(keepends=True)
    start = end = None
    for index, line, in_code in _outside_code(lines, 0):
        stripped = line.strip()
        if in_code:
            continue
        if start is None and _CHECK_HEADING.fullmatch(stripped):
            start = index + 1
        elif start is not None and re.match(r"#{1,2}[ \t]", stripped):
            end = index
            break
    if start is None:
        return body
    end = len(lines) if end is None else end
    section = "".join(lines[start:end])
    def replace(match: re.Match[str]) -> str:
        return placeholder(match.group(1)) if callable(placeholder) else placeholder

    hidden = re.sub(r"\*\((.*?)\)\*(?=[ \t]*$)", replace, section, flags=re.DOTALL | re.MULTILINE)
    return "".join(lines[:start]) + hidden + "".join(lines[end:])


def _error(path: Path, line: int, message: str) -> ConfigError:
    return ConfigError(f"{path}:{line}: {message}")


def lessons_dir() -> Path:
    """The folder of the installed lesson files (the ``mnistkit_lessons`` package)."""
    import mnistkit_lessons

    return Path(mnistkit_lessons.__file__).parent


def load_lessons(directory: Path | None = None) -> list[Lesson]:
    """Every lesson in ``directory`` (core and plugin lessons), sorted by ``order``.

    Raises ``ConfigError`` for a file that does not parse, two lessons with
    the same id or order, and a prerequisite that names no lesson.
    """
    directory = lessons_dir() if directory is None else Path(directory)
    paths = sorted(p for p in directory.glob("*.md") if p.name.lower() != "readme.md")
    lessons = [parse_lesson(p.read_text(encoding="utf-8"), p) for p in paths]
    seen_ids: dict[str, Path] = {}
    seen_orders: dict[int, Path] = {}
    for lesson in lessons:
        if lesson.id in seen_ids:
            raise ConfigError(f"{lesson.path}: lesson id {lesson.id!r} is also used by {seen_ids[lesson.id]}")
        if lesson.order in seen_orders:
            raise ConfigError(f"{lesson.path}: order {lesson.order} is also used by {seen_orders[lesson.order]}")
        seen_ids[lesson.id] = lesson.path
        seen_orders[lesson.order] = lesson.path
    for lesson in lessons:
        for prerequisite in lesson.prerequisites:
            if prerequisite not in seen_ids:
                raise ConfigError(f"{lesson.path}: prerequisite {prerequisite!r} is not a lesson id")
    return sorted(lessons, key=lambda lesson: lesson.order)


def load_curriculum() -> list[Lesson]:
    """The core lessons, sorted by ``order`` (plugin lessons left out)."""
    return [lesson for lesson in load_lessons() if not lesson.is_plugin_lesson]
