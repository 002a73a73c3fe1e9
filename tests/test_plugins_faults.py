"""A broken plugin is reported in one line naming it and the problem, and everything else keeps working."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from mnistkit.cli import main
from mnistkit.host.build import build_model
from mnistkit.host.loading import load_registry

HEADER = """\
from flax import nnx
import jax.numpy as jnp
from mnistkit.hookspecs import hookimpl
from mnistkit.specs import MetricSpec, ModelSpec, OptimizerSpec


class Tiny(nnx.Module):
    def __init__(self, rngs, *, outputs: int = 10):
        self.dense = nnx.Linear(784, outputs, rngs=rngs)

    def __call__(self, x):
        return self.dense(x.reshape(x.shape[0], -1))


"""

LESSON = """\
---
id: plugin-test-lesson
title: A lesson for a test plugin
order: 990
minutes: 1
prerequisites: []
---

# A test lesson

Enough words to count as a body for the contract checks of a plugin that only exists in a test.
"""


@pytest.fixture
def write_plugin(tmp_path: Path):
    """``write(name, code)`` saves a local plugin file (with imports and a ``Tiny`` model) next to ``lesson.md``."""
    (tmp_path / "lesson.md").write_text(LESSON)

    def write(name: str, code: str) -> str:
        path = tmp_path / f"{name}.py"
        path.write_text(HEADER + textwrap.dedent(code))
        return str(path)

    return write


@pytest.fixture
def make_dist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """``make(dist, version, entry_points, modules)`` installs a fake distribution on ``sys.path``."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    made: list[str] = []

    def make(dist: str, version: str, entry_points: dict[str, str], modules: dict[str, str]) -> None:
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text("[mnistkit]\n" + "".join(f"{k} = {v}\n" for k, v in entry_points.items()))
        for module, code in modules.items():
            (site / f"{module}.py").write_text(HEADER + textwrap.dedent(code))
            made.append(module)
        (site / "lesson.md").write_text(LESSON)

    yield make
    for module in made:
        sys.modules.pop(module, None)


def model_plugin(name: str, lesson: str = "lesson.md", **spec) -> str:
    extra = "".join(f", {k}={v!r}" for k, v in spec.items())
    return f"""
    @hookimpl
    def register_models(register):
        register(ModelSpec({name!r}, Tiny, {lesson!r}{extra}))
    """


def problems_of(registry, plugin: str) -> list[str]:
    return [str(p) for p in registry.problems if p.plugin == plugin]


def assert_builtins_work(registry, culprits: tuple[str, ...]) -> None:
    """The builtin plugins loaded, registered everything and build a working model."""
    assert {p.name for p in registry.plugins if p.loaded} >= {"models", "optimizers", "metrics"}
    assert {"cnn", "mlp", "lenet5", "cnn-bn"} <= set(registry.models)
    assert {"adamw", "adam", "sgd", "lion"} <= set(registry.optimizers)
    assert {"accuracy", "loss", "confusion"} <= set(registry.metrics)
    assert all(p.plugin in culprits for p in registry.problems), registry.problems
    spec = registry.model("mlp")
    assert build_model(spec, dict(spec.options), 0) is not None


def test_a_plugin_that_fails_to_import_is_reported_with_its_error(write_plugin):
    path = write_plugin("broken", "import a_dependency_nobody_installed\n")
    registry = load_registry([path])
    [problem] = problems_of(registry, "broken")
    assert problem.startswith("plugin 'broken': failed to import: ModuleNotFoundError")
    assert "a_dependency_nobody_installed" in problem
    assert registry.info("broken").loaded is False
    assert_builtins_work(registry, ("broken",))


def test_a_hook_that_raises_is_reported_and_its_other_hooks_still_count(write_plugin):
    path = write_plugin("raiser", model_plugin("fine") + """
    @hookimpl
    def register_metrics(register):
        raise RuntimeError("metric table not found")
    """)
    registry = load_registry([path])
    assert problems_of(registry, "raiser") == [
        "plugin 'raiser': raised in register_metrics: RuntimeError: metric table not found"]
    assert registry.owners[("model", "fine")] == "raiser"
    assert_builtins_work(registry, ("raiser",))


def test_a_plugin_registering_a_name_twice_keeps_the_first_and_says_so(write_plugin):
    path = write_plugin("stutter", """
    @hookimpl
    def register_models(register):
        register(ModelSpec("echo", Tiny, "lesson.md", description="first"))
        register(ModelSpec("echo", Tiny, "lesson.md", description="second"))
    """)
    registry = load_registry([path])
    assert problems_of(registry, "stutter") == ["plugin 'stutter': registered model 'echo' twice; kept the first"]
    assert registry.model("echo").description == "first"
    assert_builtins_work(registry, ("stutter",))


def test_two_plugins_registering_one_name_is_an_error_naming_both_sources(make_dist):
    make_dist("mnistkit-alpha", "1.0", {"alpha": "alpha_plugin"}, {"alpha_plugin": model_plugin("twin", description="alpha's")})
    make_dist("mnistkit-beta", "2.0", {"beta": "beta_plugin"}, {"beta_plugin": model_plugin("twin", description="beta's")})
    registry = load_registry()
    [problem] = problems_of(registry, "beta")
    assert "model 'twin'" in problem and "'alpha' (from mnistkit-alpha 1.0)" in problem
    assert problem.startswith("plugin 'beta':")
    assert registry.model("twin").description == "alpha's"
    assert_builtins_work(registry, ("beta",))


def test_a_plugin_cannot_replace_a_builtin_model(write_plugin):
    path = write_plugin("usurper", model_plugin("cnn", description="not the tutorial's"))
    registry = load_registry([path])
    [problem] = problems_of(registry, "usurper")
    assert "model 'cnn'" in problem and "plugin 'models' (from mnistkit" in problem
    assert registry.model("cnn").description.startswith("The tutorial's CNN")
    assert_builtins_work(registry, ("usurper",))


@pytest.mark.parametrize(("call", "expected"), [
    ('register({"name": "dicty"})', "registered model but it is a dict, not a mnistkit.specs.ModelSpec; skipped it"),
    ('register(OptimizerSpec("mixup", Tiny, "lesson.md"))', "it is a OptimizerSpec, not a mnistkit.specs.ModelSpec"),
    ('register(ModelSpec("bad name!", Tiny, "lesson.md"))', "its name 'bad name!' is not a word"),
    ('register(ModelSpec("notcallable", 42, "lesson.md"))', "its factory is a int, not something callable"),
])
def test_registering_the_wrong_type_is_reported(write_plugin, call, expected):
    path = write_plugin("wrongtype", f"""
    @hookimpl
    def register_models(register):
        {call}
    """)
    registry = load_registry([path])
    [problem] = problems_of(registry, "wrongtype")
    assert problem.startswith("plugin 'wrongtype': registered model") and expected in problem
    assert_builtins_work(registry, ("wrongtype",))


@pytest.mark.parametrize(("lesson", "expected"), [
    ("mnistkit_lessons:no-such-lesson.md", "its lesson 'mnistkit_lessons:no-such-lesson.md' does not exist"),
    ("no_such_package_anywhere:intro.md", "names package 'no_such_package_anywhere', which cannot be imported"),
    ("missing.md", "its lesson 'missing.md' does not exist"),
])
def test_a_lesson_that_does_not_exist_is_reported_and_the_registration_skipped(write_plugin, lesson, expected):
    path = write_plugin("nolesson", model_plugin("orphan", lesson=lesson))
    registry = load_registry([path])
    [problem] = problems_of(registry, "nolesson")
    assert problem.startswith("plugin 'nolesson': registered model 'orphan' but ") and expected in problem
    assert "orphan" not in registry.models
    assert_builtins_work(registry, ("nolesson",))


def test_a_model_with_the_wrong_output_shape_stops_the_run_with_one_line(write_plugin, capsys, tmp_path):
    path = write_plugin("wideout", model_plugin("seven", options={"outputs": 7}))
    code = main(["run", "--plugin", path, "--model", "seven", "--data", "sample", "--epochs", "1", "--out", str(tmp_path / "runs")])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["mnistkit: error: plugin 'wideout': model 'seven' maps a (2, 28, 28, 1) batch to shape (2, 7); expected (2, 10)"]
    assert_builtins_work(load_registry([path]), ())


def test_plugins_check_builds_every_model_and_names_the_broken_one(write_plugin, capsys):
    path = write_plugin("wideout", model_plugin("seven", options={"outputs": 7}))
    assert main(["plugins", "--check", "--plugin", path]) == 1
    out = capsys.readouterr().out
    assert "problem: model 'seven' maps a (2, 28, 28, 1) batch to shape (2, 7); expected (2, 10)" in out
    assert main(["plugins", "--check"]) == 0


def test_a_factory_returning_the_wrong_type_names_the_plugin(write_plugin, capsys, tmp_path):
    path = write_plugin("notamodule", """
    @hookimpl
    def register_models(register):
        register(ModelSpec("fake", lambda rngs: "a string", "lesson.md"))
    """)
    assert main(["run", "--plugin", path, "--model", "fake", "--data", "sample", "--out", str(tmp_path / "runs")]) == 2
    assert capsys.readouterr().err.strip() == (
        "mnistkit: error: plugin 'notamodule': model 'fake': factory returned str, not an nnx.Module")


def test_misspelt_hooks_and_plugins_without_hooks_are_reported(write_plugin):
    typo = write_plugin("typo", """
    @hookimpl
    def register_model(register):
        pass
    """)
    empty = write_plugin("empty", "VALUE = 1\n")
    registry = load_registry([typo, empty])
    [typo_problem] = problems_of(registry, "typo")
    assert "implements unknown hook 'register_model'" in typo_problem and "register_models" in typo_problem
    assert problems_of(registry, "empty") == [
        "plugin 'empty': implements no mnistkit hook (mark register_models, register_optimizers, register_metrics with @hookimpl)"]
    assert_builtins_work(registry, ("typo", "empty"))


def test_two_entry_points_naming_one_module_load_it_once(make_dist):
    make_dist("mnistkit-double", "0.3", {"first": "double_plugin", "second": "double_plugin"},
              {"double_plugin": model_plugin("doubled")})
    registry = load_registry()
    assert problems_of(registry, "second") == [
        "plugin 'second': is the same module as plugin 'first' (double_plugin); it is loaded once, as 'first'"]
    assert registry.owners[("model", "doubled")] == "first"
    assert_builtins_work(registry, ("second",))


def test_an_entry_point_that_takes_a_builtin_plugin_name_is_skipped(make_dist):
    make_dist("mnistkit-squatter", "0.1", {"models": "squatter_plugin"}, {"squatter_plugin": model_plugin("squat")})
    registry = load_registry()
    [problem] = problems_of(registry, "models")
    assert "already used by the plugin from mnistkit" in problem and "mnistkit-squatter 0.1" in problem
    assert "squat" not in registry.models
    assert_builtins_work(registry, ("models",))


def test_problems_are_one_line_each_and_verbose_adds_the_traceback(write_plugin, capsys, tmp_path):
    path = write_plugin("broken", "raise ValueError('bad [config] value')\n")
    args = ["run", "--plugin", path, "--model", "no-such-model", "--out", str(tmp_path / "runs")]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == "warning: plugin 'broken': failed to import: ValueError: bad [config] value"
    assert err[1].startswith("mnistkit: error: unknown model 'no-such-model' (known models: cnn, cnn-bn, lenet5, mlp")
    assert len(err) == 2
    assert main([*args, "--verbose"]) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "raise ValueError('bad [config] value')" in err


def test_a_disabled_plugin_is_not_imported(write_plugin, monkeypatch):
    path = write_plugin("broken", "raise ImportError('should not be imported')\n")
    assert load_registry([path], disabled=["broken"]).problems == []
    monkeypatch.setenv("MNISTKIT_DISABLE_PLUGINS", "broken,optimizers")
    registry = load_registry([path])
    assert registry.problems == [] and registry.optimizers == {} and "cnn" in registry.models
    names = [p.name for p in registry.plugins]
    assert names[:2] == ["metrics", "models"] and "broken" not in names and "optimizers" not in names


def test_a_metric_name_must_be_usable_as_a_column_name(write_plugin):
    path = write_plugin("hyphen", """
    @hookimpl
    def register_metrics(register):
        register(MetricSpec("f-1", "lesson.md", per_example=lambda logits, labels: labels * 0.0))
        register(MetricSpec("empty", "lesson.md"))
    """)
    registry = load_registry([path])
    assert problems_of(registry, "hyphen") == [
        ("plugin 'hyphen': registered metric 'f-1' but its name 'f-1' is not a Python identifier "
         "(it becomes the train_/test_ column names); skipped it"),
        "plugin 'hyphen': registered metric 'empty' but it has neither per_example nor on_evaluation; skipped it",
    ]
    assert_builtins_work(registry, ("hyphen",))
