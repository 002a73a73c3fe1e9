"""docs/plugins.md, the plugin guide, stays true: its files make a plugin that passes every check."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from mnistkit.host.loading import load_registry
from mnistkit.specs import MetricSpec, OptimizerSpec
from mnistkit.testing import check_plugin

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"
FILE_BLOCK = re.compile(r"<!-- file: (\S+) -->\n(`{3,})\w*\n(.*?)\n\2\n", re.DOTALL)
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)\n```\n", re.DOTALL | re.MULTILINE)


@pytest.fixture
def guide_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The guide's six files, written out as it says, importable."""
    files = FILE_BLOCK.findall(GUIDE.read_text())
    assert [name for name, _, _ in files] == [
        "pyproject.toml", "mnistkit_tiny_cnn/__init__.py", "mnistkit_tiny_cnn/model.py", "mnistkit_tiny_cnn/plugin.py",
        "mnistkit_tiny_cnn/lessons/tiny-cnn.md", "tests/test_contract.py"]
    for name, _, text in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text + "\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_the_guides_pyproject_points_the_entry_point_at_its_plugin_module(guide_package):
    project = tomllib.loads((guide_package / "pyproject.toml").read_text())
    assert project["project"]["entry-points"]["mnistkit"] == {"tiny-cnn": "mnistkit_tiny_cnn.plugin"}
    assert "mnistkit_tiny_cnn.lessons" in project["tool"]["setuptools"]["packages"]


def test_the_guides_plugin_passes_every_contract_check(guide_package):
    module = "mnistkit_tiny_cnn.plugin"
    registry = load_registry([module])
    assert registry.problems == [] and registry.owners[("model", "tiny-cnn")] == module
    check_plugin(module, extra=[module])


def test_the_guides_optimizer_and_metric_examples_register_valid_specs(guide_package):
    registered = []
    prose = FILE_BLOCK.sub("", GUIDE.read_text())
    for code in (block for block in PYTHON_BLOCK.findall(prose) if "@hookimpl" in block):
        namespace: dict = {}
        exec(compile(code, str(GUIDE), "exec"), namespace)  # noqa: S102 - the guide's own example code
        for hook in ("register_optimizers", "register_metrics"):
            if hook in namespace:
                namespace[hook](registered.append)
    assert [type(spec) for spec in registered] == [OptimizerSpec, MetricSpec, MetricSpec]
    import numpy as np

    from mnistkit.specs import EvaluationOutputs

    logits = np.eye(10, dtype=np.float32)[[3, 1, 4]] * 5
    labels = np.array([3, 1, 5])
    margin, wrong = registered[1], registered[2]
    assert np.all((np.asarray(margin.per_example(logits, labels)) >= 0) & (np.asarray(margin.per_example(logits, labels)) <= 1))
    assert wrong.on_evaluation(EvaluationOutputs(1, logits, labels)).values == {"wrong_share": pytest.approx(1 / 3)}


def test_the_guide_lists_every_stage_a_lesson_can_name():
    import mnistkit.curriculum.tutorial_stages  # noqa: F401  (registers the stages)
    from mnistkit.curriculum.context import STAGES

    text = " ".join(GUIDE.read_text().split())
    listed = re.search(r"The stages are (.*?) \(in the order", text).group(1)
    assert re.findall(r"`(\w+)`", listed) == list(STAGES)


def test_the_guide_names_expected_failures_as_the_check_tables_do():
    text = GUIDE.read_text()
    keys = re.findall(r'expected_failures=\{"(\w+)"', text)
    assert keys and all(not key.startswith("check_") for key in keys)
    assert all(f"| `{key}` |" in text for key in keys)
