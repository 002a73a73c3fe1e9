"""The contract checks (mnistkit.testing): every builtin passes them, and they catch broken plugins."""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mnistkit.host.loading import load_registry
from mnistkit.testing import check_plugin, checks_for, parametrize_with_checks

BUILTIN = sorted(ep.name for ep in importlib.metadata.entry_points(group="mnistkit")
                 if ep.dist and ep.dist.metadata["Name"] == "mnistkit")


def test_the_builtin_plugins_and_the_pytest_plugin_are_entry_points():
    assert {"models", "optimizers", "metrics"} <= set(BUILTIN)
    assert "mnistkit.testing.pytest_plugin" in {ep.value for ep in importlib.metadata.entry_points(group="pytest11")}


@parametrize_with_checks(*BUILTIN)
def test_builtin_plugin_contract(check):
    check()


def test_every_builtin_model_and_optimizer_trains_to_a_floor_well_above_chance():
    registry = load_registry()
    specs = [registry.table(kind)[name] for (kind, name), owner in registry.owners.items()
             if owner in BUILTIN and kind in ("model", "optimizer")]
    assert len(specs) >= 8
    assert all(spec.accuracy_floor >= 0.5 for spec in specs), {s.name: s.accuracy_floor for s in specs}


LESSON = """---
id: plugin-contract-test
title: Contract test lesson
order: 992
minutes: 1
prerequisites: []
---

# Contract test lesson

This body has enough words to count as a body for the contract checks that these tests run over it.
"""

PLUGIN = """
import numpy as np
import jax.numpy as jnp
from flax import nnx
from mnistkit.hookspecs import hookimpl
from mnistkit.specs import MetricReport, MetricSpec, ModelSpec


class Forgetful(nnx.Module):
    def __init__(self, rngs, *, width: int = 8):
        self.dense = nnx.Linear(784, 10, rngs=nnx.Rngs(0))  # ignores the rngs it is given
        self.calls = 0

    def __call__(self, x):
        self.calls = self.calls + 1  # a Python value that changes: every call retraces
        return self.dense(x.reshape(x.shape[0], -1))


@hookimpl
def register_models(register):
    register(ModelSpec("forgetful", Forgetful, "lesson.md", options={"width": 8},
                       expected_failures={"check_model_learns": "too small to learn", "check_no_such_check": "typo"}))


@hookimpl
def register_metrics(register):
    register(MetricSpec("jitter", "lesson.md", "A random number each time.",
                        on_evaluation=lambda outputs: MetricReport({"jitter": float(np.random.random())}),
                        expected_failures={"check_metric_is_deterministic": "random on purpose"}))
    register(MetricSpec("overflow", "lesson.md", "Says 2 where 1 is the most.",
                        per_example=lambda logits, labels: jnp.full(labels.shape, 2.0)))
"""


@pytest.fixture
def plugin_file(tmp_path: Path) -> Path:
    (tmp_path / "lesson.md").write_text(LESSON)
    path = tmp_path / "sloppy.py"
    path.write_text(textwrap.dedent(PLUGIN))
    return path


def failure(check) -> str:
    with pytest.raises(AssertionError) as info:
        check()
    return str(info.value)


def test_the_checks_name_the_plugin_and_say_what_to_fix(plugin_file):
    checks = {check.id: check for check in checks_for(str(plugin_file))}
    assert "ignores the rngs argument" in failure(checks["model:forgetful:same_seed_same_result"])
    assert "changed the model's structure" in failure(checks["model:forgetful:compiles_once"])
    message = failure(checks["metric:overflow:values_in_bounds"])
    assert message.startswith("metric 'overflow' of plugin 'sloppy':") and "outside the declared bounds [0.0, 1.0]" in message
    assert "expected_failures names check_no_such_check" in failure(checks["model:forgetful:expected_failures_name_checks"])
    assert checks["metric:jitter:is_deterministic"].expected_failure == "random on purpose"
    checks["model:forgetful:output_shape_and_dtype"]()
    checks["metric:jitter:lesson"]()


def test_check_plugin_lists_every_unexpected_failure(plugin_file):
    with pytest.raises(AssertionError) as info:
        check_plugin(str(plugin_file))
    message = str(info.value)
    assert "model:forgetful:same_seed_same_result" in message and "metric:overflow:values_in_bounds" in message
    assert "metric:jitter:is_deterministic" not in message and "model:forgetful:learns" not in message


def test_an_unknown_plugin_fails_its_load_check():
    [loads, _registers] = checks_for("no-such-plugin")
    assert "is not installed or given" in failure(loads)


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=300)


def test_the_one_line_pytest_command_runs_the_checks_with_expected_failures(tmp_path):
    (tmp_path / "lesson.md").write_text(LESSON)
    (tmp_path / "jitter.py").write_text(textwrap.dedent("""
        import numpy as np
        from mnistkit.hookspecs import hookimpl
        from mnistkit.specs import MetricReport, MetricSpec

        @hookimpl
        def register_metrics(register):
            register(MetricSpec("jitter", "lesson.md", "A random number each time.",
                                on_evaluation=lambda outputs: MetricReport({"jitter": float(np.random.random())}),
                                expected_failures={"check_metric_is_deterministic": "random on purpose"}))
    """))
    result = run("-m", "pytest", "-p", "no:cacheprovider", "-q", "-rx", "--mnistkit-plugin", "jitter.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 passed, 1 xfailed" in result.stdout
    assert "metric:jitter:is_deterministic" in result.stdout and "random on purpose" in result.stdout

    result = run("-m", "mnistkit", "plugin", "check", "jitter.py", "-k", "lesson or loads", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout  # loads_cleanly, lesson and lesson_exercises


FAULTY = """
import jax.numpy as jnp
from flax import nnx
from mnistkit.hookspecs import hookimpl
from mnistkit.specs import MetricReport, MetricSpec, ModelSpec


class Flat(nnx.Module):
    def __init__(self, rngs, *, classes: int = 10, poison: bool = False):
        self.dense = nnx.Linear(784, classes, rngs=rngs)
        self.poison = poison

    def __call__(self, x):
        logits = self.dense(x.reshape(x.shape[0], -1))
        return logits * jnp.nan if self.poison else logits


def divide(logits, labels):
    raise ZeroDivisionError("division by zero")


@hookimpl
def register_models(register):
    register(ModelSpec("nine", Flat, "lesson.md", options={"classes": 9}, accuracy_floor=0.3))
    register(ModelSpec("poisoned", Flat, "lesson.md", options={"poison": True}, accuracy_floor=0.0))
    register(ModelSpec("nine", Flat, "lesson.md"))


@hookimpl
def register_metrics(register):
    register(MetricSpec("divider", "lesson.md", "Raises on every batch.", per_example=divide,
                        on_evaluation=lambda outputs: MetricReport({"share": 1 / 0})))
"""


@pytest.fixture
def faulty_checks(tmp_path: Path) -> dict:
    (tmp_path / "lesson.md").write_text(LESSON)
    path = tmp_path / "faulty.py"
    path.write_text(textwrap.dedent(FAULTY))
    return {check.id: check for check in checks_for(str(path))}


def outcome(check) -> str | None:
    """The failure message of ``check``, or None when it passes; any other exception fails the test."""
    try:
        check()
    except AssertionError as exc:
        return str(exc)
    return None


def test_a_metric_that_raises_fails_each_check_naming_the_hook_and_the_exception(faulty_checks):
    for short in ("values_in_bounds", "report_is_well_formed", "compiles_once", "is_deterministic"):
        message = outcome(faulty_checks[f"metric:divider:{short}"])
        assert message is not None and message.startswith("metric 'divider' of plugin 'faulty': "), short
        assert "raised ZeroDivisionError: division by zero" in message, message
        assert ("per_example" in message) or ("on_evaluation" in message), message


def test_nan_logits_fail_only_where_they_are_the_cause_and_say_so(faulty_checks):
    messages = {short: outcome(check) for (kind, name, short), check in
                ((tuple(id.split(":")), check) for id, check in faulty_checks.items()) if name == "poisoned"}
    assert "non-finite logits in eval mode at initialisation" in messages["output_shape_and_dtype"]
    for short in ("compiles_once", "gradients", "learns"):
        assert "logits are not finite at initialisation" in messages[short], (short, messages[short])
    # No symptom dressed up as another fault: NaN is the same NaN on both calls and seeds.
    assert messages["eval_is_deterministic"] is None, messages["eval_is_deterministic"]
    assert messages["same_seed_same_result"] is None, messages["same_seed_same_result"]
    assert all("Dropout" not in m and "different train losses" not in m for m in messages.values() if m)


def test_a_model_with_nine_outputs_fails_learns_and_gradients(faulty_checks):
    for short in ("output_shape_and_dtype", "learns", "gradients", "compiles_once"):
        message = outcome(faulty_checks[f"model:nine:{short}"])
        assert message is not None, short
        assert "expected (" in message and ", 10)" in message, message


def test_messages_name_the_plugin_once(tmp_path, faulty_checks):
    message = outcome(faulty_checks["plugin:faulty:loads_cleanly"])
    assert message.startswith("plugin 'faulty': has problems:"), message
    assert message.count("plugin 'faulty'") == 1, message
    assert "registered model 'nine' twice; kept the first" in message

    (tmp_path / "clash.py").write_text(textwrap.dedent("""
        from mnistkit.hookspecs import hookimpl
        from mnistkit.specs import OptimizerSpec

        @hookimpl
        def register_optimizers(register):
            register(OptimizerSpec("adamw", lambda rate: None, "lesson.md"))
    """))
    message = outcome(checks_for(str(tmp_path / "clash.py"))[0])
    assert "kept the one from 'optimizers'" in message and "'s" not in message, message


def test_expected_failures_take_the_name_the_test_id_ends_with(tmp_path):
    (tmp_path / "lesson.md").write_text(LESSON)
    path = tmp_path / "shy.py"
    path.write_text(textwrap.dedent("""
        from mnistkit.hookspecs import hookimpl
        from mnistkit.specs import MetricReport, MetricSpec

        @hookimpl
        def register_metrics(register):
            register(MetricSpec("shy", "lesson.md", "Says a half.", on_evaluation=lambda outputs: MetricReport({"shy": 0.5}),
                                expected_failures={"is_deterministic": "short name", "check_lesson": "long name"}))
    """))
    checks = {check.id: check for check in checks_for(str(path))}
    assert checks["metric:shy:is_deterministic"].expected_failure == "short name"
    assert checks["metric:shy:lesson"].expected_failure == "long name"
    assert "metric:shy:expected_failures_name_checks" not in checks


CLAIMS = """
from mnistkit.hookspecs import hookimpl
from mnistkit.specs import MetricReport, MetricSpec


@hookimpl
def register_metrics(register):
    register(MetricSpec("half", "lesson.md", "Says a half.", on_evaluation=lambda outputs: MetricReport({"half": 0.5})))
"""


def lesson_check(tmp_path: Path, code: str):
    """The lesson check of a one-metric plugin whose lesson ends with one Python block (at line 14)."""
    (tmp_path / "lesson.md").write_text(LESSON + f"\n```python\n{code}```\n")
    (tmp_path / "claims.py").write_text(textwrap.dedent(CLAIMS))
    return {check.id: check for check in checks_for(str(tmp_path / "claims.py"))}["metric:half:lesson"]


def test_a_plugin_lessons_wrong_prints_comment_fails_its_lesson_check(tmp_path):
    message = outcome(lesson_check(tmp_path, "print(1 + 1)  # prints: 3\n"))
    assert message is not None and message.startswith("metric 'half' of plugin 'claims': its lesson's code"), message
    assert f"{tmp_path / 'lesson.md'}:14: the comment says the code prints '3'" in message, message
    assert "the block (line 14) printed:\n2" in message, message


def test_a_plugin_lessons_code_runs_in_a_scratch_folder_and_passes_when_right(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = "import pathlib\npathlib.Path('figure.txt').write_text('x')\nprint(1 + 1)  # prints: 2\n"
    assert outcome(lesson_check(tmp_path, code)) is None
    assert not (tmp_path / "figure.txt").exists()


def test_a_plugin_lessons_raising_block_fails_naming_the_line(tmp_path):
    message = outcome(lesson_check(tmp_path, "import nonexistent_module_for_the_test\n"))
    assert message is not None and f"{tmp_path / 'lesson.md'}:14: the code block raised ModuleNotFoundError" in message, message


def exercise_check(tmp_path: Path, solution: str):
    """The lesson_exercises check of a one-metric plugin whose lesson has one exercise with this solution."""
    (tmp_path / "lesson.md").write_text(LESSON)
    (tmp_path / "claims.py").write_text(textwrap.dedent(CLAIMS))
    lesson_id = LESSON.split("id: ", 1)[1].split()[0]
    folder = tmp_path / "exercises" / "half-it"
    folder.mkdir(parents=True)
    (folder / "exercise.md").write_text(f'---\nid: half-it\nlesson: {lesson_id}\ntitle: Half\nstarter_fails_with: "not a half"\n'
                                        "---\nWrite `half()`.\n\n## Hints\n1. One over two.\n")
    (folder / "starter.py").write_text("def half():\n    return 1  # TODO\n")
    (folder / "solution.py").write_text(solution)
    (folder / "check.py").write_text("from mnistkit.curriculum.checks import Failed\n\n\ndef check(learner):\n"
                                     "    if learner.half() != 0.5:\n        raise Failed('half() is not a half.')\n"
                                     "    return 'a half.'\n")
    return {check.id: check for check in checks_for(str(tmp_path / "claims.py"))}["metric:half:lesson_exercises"]


def test_a_plugin_exercise_is_proven_like_the_builtin_ones(tmp_path):
    assert outcome(exercise_check(tmp_path, "def half():\n    return 0.5\n")) is None
    (tmp_path / "wrong").mkdir()
    message = outcome(exercise_check(tmp_path / "wrong", "def half():\n    return 2\n"))
    assert message is not None and "its lesson's exercises do not prove" in message, message
    assert "half-it solution" in message and "should pass; failed: half() is not a half." in message, message
