"""The package's shape is its architecture: layers that import downward, no cycles, short modules.

The layers are import-linter contracts in ``pyproject.toml`` (``[tool.importlinter]``),
checked here with ``lint-imports``; the README's layout section describes them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "mnistkit"
MAX_LINES = 400
MAX_TOP_LEVEL_MODULES = 6


def test_the_layers_import_downward_only():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    if lint is None:
        pytest.fail("lint-imports is missing: install the test extra (pip install -e '.[test]')")
    done = subprocess.run([lint, "--config", str(ROOT / "pyproject.toml")], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def module_graph() -> dict[str, set[str]]:
    """Every mnistkit module and the mnistkit modules it imports (at the top or inside a function)."""
    import grimp

    graph = grimp.build_graph("mnistkit", include_external_packages=False)
    return {module: set(graph.find_modules_directly_imported_by(module)) for module in graph.modules}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), ignoring a package's import of its own children."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def edges(module: str) -> set[str]:
        return {other for other in graph[module] if not other.startswith(module + ".")}

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in edges(module):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_no_modules_import_each_other_in_a_circle():
    assert cycles(module_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"p": {"p.child"}, "p.child": {"p"}}) == []


def test_no_module_is_longer_than_a_few_hundred_lines():
    long = {str(path.relative_to(ROOT)): n for path in [*PACKAGE.rglob("*.py"), *(ROOT / "plugins").glob("*.py")]
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_at_most_six_modules_sit_directly_in_the_package():
    top = sorted(path.name for path in PACKAGE.glob("*.py") if path.name not in ("__init__.py", "__main__.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top


def test_the_readmes_three_hops_from_model_cnn_to_an_nnx_module_hold():
    """`--model cnn` -> `Registry.model` -> `host.build.build_model` -> the plugin's factory."""
    import inspect

    from mnistkit.host import build
    from mnistkit.host.registry import Registry
    from mnistkit.runs import assemble

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "mnistkit/runs/assemble.py" in readme and "mnistkit/host/build.py" in readme
    prepare = inspect.getsource(assemble._prepare)
    assert "registry.model(config.model)" in prepare and "build_model(model_spec" in prepare
    assert hasattr(Registry, "model") and "spec.factory(nnx.Rngs(seed)" in inspect.getsource(build.build_model)
