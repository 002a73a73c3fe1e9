"""The contract checks: one small function per property a plugin must have.

Every check takes a ``Target`` (one registration of one plugin) and raises
``AssertionError`` with a message that tells the author what to fix. Checks
use small fixed inputs, the bundled MNIST sample and fixed seeds, so they are
fast and give the same verdict every time. The model, optimizer and metric
checks live in their own modules; this one lists them (``CHECKS``) and holds
the checks every plugin and every lesson get.
"""

from __future__ import annotations

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
    """The lesson file exists and parses as a lesson (front matter, a title) with a body."""
    from mnistkit.errors import MnistkitError
    from mnistkit.curriculum.lessons import parse_lesson

    path = target.lesson
    require(path is not None and path.is_file(), target, f"its lesson {target.spec.lesson!r} does not exist")
    try:
        lesson = parse_lesson(path.read_text(encoding="utf-8"), path)
    except MnistkitError as exc:
        fail(target, f"its lesson does not parse: {exc}")
    require(bool(lesson.title.strip()), target, f"its lesson {path} has no title")
    body = "\n".join(line for line in lesson.body.splitlines() if not line.startswith("# "))
    require(len(body.split()) >= 20, target, f"its lesson {path} has (almost) no body: write at least a paragraph")


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
)
OPTIMIZER_CHECKS = (
    check_optimizer_builds,
    check_optimizer_takes_a_schedule,
    check_optimizer_compiles_once,
    check_optimizer_steps_lower_loss,
    check_optimizer_same_seed_same_result,
    check_optimizer_learns,
    check_lesson,
)
METRIC_CHECKS = (
    check_metric_values_in_bounds,
    check_metric_report_is_well_formed,
    check_metric_compiles_once,
    check_metric_is_deterministic,
    check_lesson,
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
