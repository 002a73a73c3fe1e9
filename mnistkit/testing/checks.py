"""The contract checks: one small function per property a plugin must have.

Every check takes a ``Target`` (one registration of one plugin) and raises
``AssertionError`` with a message that tells the author what to fix. Checks
use small fixed inputs, the bundled MNIST sample and fixed seeds, so they are
fast and give the same verdict every time. The model, optimizer and metric
checks live in their own modules; this one lists them (``CHECKS``) and holds
the checks every plugin and every lesson get.
"""

from __future__ import annotations

import contextlib
import functools
import tempfile
from collections.abc import Callable

from mnistkit.specs import MetricSpec
from mnistkit.testing.common import Target, fail, require
from mnistkit.testing.metric_checks import (
    check_metric_compiles_once,
    check_metric_is_deterministic,
    check_metric_report_is_well_formed,
    check_metric_values_in_bounds,
)
from mnistkit.testing.model_checks import (
    check_model_builds,
    check_model_compiles_once,
    check_model_eval_is_deterministic,
    check_model_gradients,
    check_model_learns,
    check_model_output_shape_and_dtype,
    check_model_same_seed_same_result,
)
from mnistkit.testing.optimizer_checks import (
    check_optimizer_builds,
    check_optimizer_compiles_once,
    check_optimizer_learns,
    check_optimizer_same_seed_same_result,
    check_optimizer_steps_lower_loss,
    check_optimizer_takes_a_schedule,
)

__all__ = ["CHECKS", "Target", "applies"]


def check_lesson(target: Target) -> None:
    """The lesson file exists and parses as a lesson (front matter, a title) with a body, and its code runs.

    Its Python blocks and checks run as the test suite runs the builtin
    lessons (``mnistkit.curriculum.lesson_code.run_lesson_code`` with the
    ``ci`` markers' short settings, in a temporary working directory): each
    block must run and print what its ``# prints:`` comments say.
    """
    from mnistkit.curriculum.lesson_code import LessonCodeFailure
    from mnistkit.curriculum.lessons import parse_lesson
    from mnistkit.errors import MnistkitError

    path = target.lesson
    if path is None or not path.is_file():
        fail(target, f"its lesson {target.spec.lesson!r} does not exist")
    text = path.read_text(encoding="utf-8")
    try:
        lesson = parse_lesson(text, path)
    except MnistkitError as exc:
        fail(target, f"its lesson does not parse: {exc}")
    require(bool(lesson.title.strip()), target, f"its lesson {path} has no title")
    body = "\n".join(line for line in lesson.body.splitlines() if not line.startswith("# "))
    require(len(body.split()) >= 20, target, f"its lesson {path} has (almost) no body: write at least a paragraph")
    try:
        _run_lesson_code(target.plugin, str(path), text)
    except MnistkitError as exc:
        fail(target, f"its lesson's code blocks are malformed: {exc}")
    except LessonCodeFailure as exc:
        fail(target, f"its lesson's code does not do what the lesson says: {exc}")


@functools.lru_cache(maxsize=64)
def _run_lesson_code(plugin: str, path: str, text: str) -> None:
    """Run a plugin's lesson code once per process and text (several specs share a lesson); a failure raises again."""
    from mnistkit.curriculum.lesson_code import run_lesson_code
    from mnistkit.curriculum.lessons import parse_lesson

    with tempfile.TemporaryDirectory(prefix="mnistkit-lesson-") as folder, contextlib.chdir(folder):
        run_lesson_code(parse_lesson(text, path), short=True)


def check_lesson_exercises(target: Target) -> None:
    """Each exercise of the lesson is proven as the test suite proves the builtin ones.

    The exercises are the folders in the ``exercises/`` folder beside the
    lesson file whose ``lesson:`` is this lesson's id (see
    ``mnistkit.curriculum.exercises``). Each must parse; its starter must fail
    with the message its front matter names, its solution must pass, and each
    mistake must fail with its message (``mnistkit.curriculum.proving``). A
    lesson without exercises passes.
    """
    from mnistkit.curriculum.exercises import EXERCISES_FOLDER, exercises_beside
    from mnistkit.curriculum.lessons import parse_lesson
    from mnistkit.errors import ConfigError

    path = target.lesson
    if path is None or not path.is_file() or not (path.parent / EXERCISES_FOLDER).is_dir():
        return
    lesson_id = parse_lesson(path.read_text(encoding="utf-8"), path).id
    try:
        found = [exercise for exercise in exercises_beside(path, target.plugin) if exercise.lesson == lesson_id]
    except ConfigError as exc:
        fail(target, f"an exercise beside its lesson does not parse: {exc}")
    failing = [proof.describe() for proof in _proofs(tuple(e.folder for e in found), target.plugin) if not proof.holds]
    require(not failing, target, "its lesson's exercises do not prove:\n  " + "\n  ".join(failing))


@functools.cache
def _proofs(folders: tuple, plugin: str) -> tuple:
    """The proofs of the exercises in ``folders``, once per process (the specs that share a lesson share its exercises)."""
    from mnistkit.curriculum.exercises import parse_exercise
    from mnistkit.curriculum.proving import prove

    return tuple(prove([parse_exercise(folder, plugin) for folder in folders])) if folders else ()


def check_plugin_loads_cleanly(target: Target) -> None:
    """The plugin imports, registers, and has no problems (an unknown hook, a bad spec, a taken name)."""
    registry = target.registry
    info = registry.info(target.plugin)
    require(info is not None, target, "is not installed or given: no entry point in the 'mnistkit' group has this name")
    problems = [p.message for p in registry.problems if p.plugin == target.plugin]
    require(not problems, target, "has problems:\n  " + "\n  ".join(problems))
    require(info.loaded, target, "did not load")


def check_plugin_registers_something(target: Target) -> None:
    """The plugin registers at least one model, optimizer or metric."""
    require(bool(target.registry.provided_by(target.plugin)), target, "registers nothing")


PLUGIN_CHECKS: tuple[Callable[[Target], None], ...] = (check_plugin_loads_cleanly, check_plugin_registers_something)
MODEL_CHECKS = (
    check_model_builds,
    check_model_output_shape_and_dtype,
    check_model_eval_is_deterministic,
    check_model_compiles_once,
    check_model_gradients,
    check_model_same_seed_same_result,
    check_model_learns,
    check_lesson,
    check_lesson_exercises,
)
OPTIMIZER_CHECKS = (
    check_optimizer_builds,
    check_optimizer_takes_a_schedule,
    check_optimizer_compiles_once,
    check_optimizer_steps_lower_loss,
    check_optimizer_same_seed_same_result,
    check_optimizer_learns,
    check_lesson,
    check_lesson_exercises,
)
METRIC_CHECKS = (
    check_metric_values_in_bounds,
    check_metric_report_is_well_formed,
    check_metric_compiles_once,
    check_metric_is_deterministic,
    check_lesson,
    check_lesson_exercises,
)
CHECKS = {"plugin": PLUGIN_CHECKS, "model": MODEL_CHECKS, "optimizer": OPTIMIZER_CHECKS, "metric": METRIC_CHECKS}


def applies(check: Callable[[Target], None], target: Target) -> bool:
    """Whether ``check`` makes sense for ``target`` (metric hooks it does not implement are skipped)."""
    if isinstance(target.spec, MetricSpec):
        if check is check_metric_compiles_once:
            return target.spec.per_example is not None
        if check is check_metric_report_is_well_formed:
            return target.spec.on_evaluation is not None
    return True
