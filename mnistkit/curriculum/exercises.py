"""Exercises: code the learner writes and mnistkit checks, stored beside the lessons.

An exercise is a folder in an ``exercises/`` folder beside its lesson's file
(``lessons/exercises/pipeline-scale/`` for the core curriculum; a plugin's
exercises sit in the ``exercises/`` folder beside the lesson file its spec
names). The folder holds::

    exercise.md      front matter (id, lesson, title, ...), the task, ## Hints
    starter.py       what the learner starts from, with TODOs
    solution.py      the reference solution
    check.py         def check(learner) -> str: raises checks.Failed("what to fix")
    mistakes/*.py    wrong solutions, each failing with the message its front matter names

The front matter::

    ---
    id: pipeline-scale                 # unique; lowercase letters, digits, -
    lesson: pipeline                   # the lesson it belongs to
    title: Scale the pixels to [0, 1]
    order: 1                           # among the lesson's exercises (default 1)
    timeout: 60                        # seconds the check may take (default 60)
    starter_fails_with: "still uint8"  # part of the message the starter gets
    mistakes:                          # mistakes/NAME.py -> part of its message
      divide-first: "divided before casting"
    ---

The body is the task statement (markdown); a ``## Hints`` section of
numbered items gives one to three hints, shown one at a time. ``lessons/README.md``
is the guide for writing one. Importing this module is cheap (PyYAML, no JAX).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mnistkit.errors import ConfigError

EXERCISES_FOLDER = "exercises"
DEFAULT_TIMEOUT = 60.0
FILES = ("exercise.md", "starter.py", "solution.py", "check.py")
_ID = re.compile(r"[a-z0-9][a-z0-9-]*", re.ASCII)
_HINTS_HEADING = re.compile(r"##[ \t]+hints[ \t]*#*[ \t]*$", re.IGNORECASE)
_ITEM = re.compile(r"(\d{1,2})[.)][ \t]+(.*)", re.ASCII)
_KEYS = {"id", "lesson", "title", "order", "timeout", "starter_fails_with", "mistakes"}
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Exercise:
    id: str
    lesson: str  # the id of the lesson it belongs to
    title: str
    task: str  # markdown: what to do
    hints: tuple[str, ...]
    folder: Path
    starter_fails_with: str
    mistakes: dict[str, str] = field(default_factory=dict)  # mistakes/NAME.py -> part of the message it gets
    order: int = 1
    timeout: float = DEFAULT_TIMEOUT
    plugin: str | None = None  # the plugin that ships it; None for the core curriculum

    @property
    def starter_path(self) -> Path:
        return self.folder / "starter.py"

    @property
    def solution_path(self) -> Path:
        return self.folder / "solution.py"

    @property
    def check_path(self) -> Path:
        return self.folder / "check.py"

    def mistake_path(self, name: str) -> Path:
        return self.folder / "mistakes" / f"{name}.py"

    @property
    def file_name(self) -> str:
        """The learner's file in the workspace: ``pipeline_scale.py`` (importable, like any module)."""
        return self.id.replace("-", "_") + ".py"

    def starter(self) -> str:
        return self.starter_path.read_text(encoding="utf-8")

    def solution(self) -> str:
        return self.solution_path.read_text(encoding="utf-8")


def parse_exercise(folder: Path, plugin: str | None = None) -> Exercise:
    """Read one exercise folder; ``ConfigError`` naming the file (and line) and what to fix."""
    folder = Path(folder)
    for name in FILES:
        if not (folder / name).is_file():
            raise ConfigError(f"{folder}: an exercise folder needs {', '.join(FILES)}; {name} is missing")
    path = folder / "exercise.md"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read the exercise: {err}") from err
    lines = text.splitlines()
    if not lines or lines[0].strip().lstrip("\ufeff") != "---":
        raise ConfigError(f"{path}:1: an exercise starts with a front-matter block between two `---` lines")
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        raise ConfigError(f"{path}:1: the front-matter block is not closed by a line `---`")
    meta = _front_matter("\n".join(lines[1:end]), path)
    task, hints = _split_hints(lines[end + 1:], path, first_line=end + 2)
    mistakes = meta.get("mistakes") or {}
    for name in mistakes:
        if not (folder / "mistakes" / f"{name}.py").is_file():
            raise ConfigError(f"{path}: mistake {name!r} has no file mistakes/{name}.py")
    return Exercise(id=meta["id"], lesson=meta["lesson"], title=meta["title"], task=task, hints=hints, folder=folder,
                    starter_fails_with=meta["starter_fails_with"], mistakes=dict(mistakes),
                    order=meta.get("order", 1), timeout=float(meta.get("timeout", DEFAULT_TIMEOUT)), plugin=plugin)


def _front_matter(text: str, path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        raise ConfigError(f"{path}:{line}: the front matter is not valid YAML: {getattr(err, 'problem', err)}") from err
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:2: the front matter must be `key: value` lines")
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown front-matter key {unknown[0]!r}; the keys are {', '.join(sorted(_KEYS))}")
    for key in ("id", "lesson", "title", "starter_fails_with"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise ConfigError(f"{path}: the front matter needs `{key}:` (text)")
    if not _ID.fullmatch(data["id"]):
        raise ConfigError(f"{path}: exercise id {data['id']!r} must be lowercase letters, digits and -")
    if not isinstance(data.get("order", 1), int) or data.get("order", 1) < 1:
        raise ConfigError(f"{path}: `order:` must be a whole number, 1 or more")
    timeout = data.get("timeout", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise ConfigError(f"{path}: `timeout:` must be a number of seconds above 0")
    mistakes = data.get("mistakes") or {}
    if not isinstance(mistakes, dict) or not all(isinstance(k, str) and isinstance(v, str) and v for k, v in mistakes.items()):
        raise ConfigError(f"{path}: `mistakes:` maps a file name in mistakes/ (without .py) to part of its message")
    return data


def _split_hints(lines: list[str], path: Path, first_line: int) -> tuple[str, tuple[str, ...]]:
    """The task (everything but the hints) and the hints, one string each."""
    start = next((i for i, line in enumerate(lines) if _HINTS_HEADING.match(line.strip())), None)
    if start is None:
        raise ConfigError(f"{path}: an exercise needs a `## Hints` section of one to three numbered hints")
    stop = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    hints: list[list[str]] = []
    for line in lines[start + 1:stop]:
        item = _ITEM.match(line)
        if item:
            hints.append([item.group(2).strip()])
        elif line.strip() and hints:
            hints[-1].append(line.strip())
    if not 1 <= len(hints) <= 3:
        raise ConfigError(f"{path}:{first_line + start}: `## Hints` must have one to three numbered hints, not {len(hints)}")
    task = "\n".join(lines[:start] + lines[stop:]).strip() + "\n"
    return task, tuple(" ".join(parts) for parts in hints)


def exercises_beside(lesson_file: Path, plugin: str | None = None) -> list[Exercise]:
    """Every exercise in the ``exercises/`` folder beside ``lesson_file``, sorted by folder name."""
    root = Path(lesson_file).parent / EXERCISES_FOLDER
    if not root.is_dir():
        return []
    return [parse_exercise(folder, plugin) for folder in sorted(root.iterdir()) if (folder / "exercise.md").is_file()]


@dataclass(frozen=True)
class ExerciseSet:
    """Every exercise, in the curriculum's order (core lessons first, then plugins'), plus what failed to load."""

    exercises: tuple[Exercise, ...] = ()
    problems: tuple[str, ...] = ()

    def __iter__(self):
        return iter(self.exercises)

    def __len__(self) -> int:
        return len(self.exercises)

    def get(self, exercise_id: str) -> Exercise:
        """The exercise ``exercise_id`` (case aside); ``ConfigError`` naming close ids, or listing them all."""
        from mnistkit.errors import did_you_mean, match_name

        ids = [exercise.id for exercise in self.exercises]
        found = match_name(exercise_id, ids)
        if found is not None:
            return self.exercises[ids.index(found)]
        of_lesson = [exercise.id for exercise in self.exercises if exercise.lesson == exercise_id]
        if of_lesson:
            raise ConfigError(f"{exercise_id!r} is a lesson; its exercise{'s are' if len(of_lesson) > 1 else ' is'} "
                              f"{' and '.join(of_lesson)} (see `mnistkit exercises`)")
        hint = did_you_mean(exercise_id, ids) or f"the exercises are: {', '.join(ids)}"
        raise ConfigError(f"no exercise {exercise_id!r}; {hint} (see `mnistkit exercises`)")

    def for_lesson(self, lesson_id: str) -> list[Exercise]:
        return [exercise for exercise in self.exercises if exercise.lesson == lesson_id]

    def following(self, exercise_id: str) -> Exercise | None:
        ids = [exercise.id for exercise in self.exercises]
        index = ids.index(exercise_id) + 1 if exercise_id in ids else 0
        return self.exercises[index] if index < len(self.exercises) else None


def load_exercises(curriculum) -> ExerciseSet:
    """The exercises of every lesson in ``curriculum`` (``mnistkit.curriculum.loader.Curriculum``).

    Exercises are read from the ``exercises/`` folder beside each lesson file
    (once per folder) and kept when their ``lesson`` is a lesson of the
    curriculum; one that fails to parse, names no loaded lesson or repeats an
    id is a line in ``problems``.
    """
    problems: list[str] = []
    found: list[Exercise] = []
    rank = {lesson.id: index for index, lesson in enumerate(curriculum.ordered())}
    owner = {lesson.id: lesson.plugin for lesson in curriculum.ordered()}
    seen_folders: set[Path] = set()
    for lesson in curriculum.ordered():
        root = (Path(lesson.path).parent / EXERCISES_FOLDER).resolve()
        if root in seen_folders or not root.is_dir():
            continue
        seen_folders.add(root)
        for folder in sorted(root.iterdir()):
            if not (folder / "exercise.md").is_file():
                continue
            try:
                exercise = parse_exercise(folder)
            except ConfigError as err:
                problems.append(str(err))
                continue
            if exercise.lesson not in rank:
                problems.append(f"{folder}/exercise.md: lesson {exercise.lesson!r} is not a loaded lesson")
                continue
            found.append(exercise)
    unique: list[Exercise] = []
    for exercise in sorted(found, key=lambda e: (rank[e.lesson], e.order, e.id)):
        if any(other.id == exercise.id for other in unique):
            problems.append(f"{exercise.folder}/exercise.md: exercise id {exercise.id!r} is used twice; rename one")
            continue
        plugin = owner[exercise.lesson]
        unique.append(exercise if plugin is None else _with_plugin(exercise, plugin))
    return ExerciseSet(tuple(unique), tuple(problems))


def _with_plugin(exercise: Exercise, plugin: str) -> Exercise:
    import dataclasses

    return dataclasses.replace(exercise, plugin=plugin)
