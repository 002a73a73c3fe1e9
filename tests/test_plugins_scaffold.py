"""`mnistkit plugin new NAME` writes a package that installs with pip, is listed, trains and passes its own checks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mnistkit.cli import main


def run(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


def test_a_scaffolded_plugin_installs_is_listed_trains_and_passes_its_checks(tmp_path, capsys, monkeypatch):
    assert main(["plugin", "new", "demo-net", "--dir", str(tmp_path)]) == 0
    root = tmp_path / "mnistkit-demo-net"
    assert "pip install -e ." in capsys.readouterr().out
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) == [
        "README.md",
        "mnistkit_demo_net/__init__.py",
        "mnistkit_demo_net/lessons/demo-net.md",
        "mnistkit_demo_net/model.py",
        "mnistkit_demo_net/plugin.py",
        "pyproject.toml",
        "tests/test_mnistkit_demo_net_contract.py",
    ]
    assert 'dependencies = ["mnistkit>=0.1,<0.2"]' in (root / "pyproject.toml").read_text()

    # A real (non-editable) pip install, into a folder of its own so the shared environment stays as it was.
    site = tmp_path / "site"
    env = {**os.environ, "PYTHONPATH": str(site), "PYTHONDONTWRITEBYTECODE": "1"}
    run("-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--target", str(site), str(root),
        cwd=tmp_path, env=env)

    checks = run("-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=root, env=env).stdout
    assert "passed" in checks and "failed" not in checks and "model:demo-net:learns" not in checks

    # The installed package is found through its entry point, in this process too.
    monkeypatch.syspath_prepend(str(site))
    try:
        assert main(["plugins", "--json"]) == 0
        listing = json.loads(capsys.readouterr().out)
        plugin = next(p for p in listing["plugins"] if p["name"] == "demo-net")
        assert plugin["loaded"] and plugin["distribution"] == "mnistkit-demo-net" and plugin["version"] == "0.1.0"
        assert plugin["provides"][0]["lesson_file"].startswith(str(site))

        assert main(["run", "--model", "demo-net", "--epochs", "1", "--data", "sample", "--json",
                     "--out", str(tmp_path / "runs")]) == 0
        finished = json.loads(capsys.readouterr().out.splitlines()[-1])
        assert finished["event"] == "Finished" and finished["history"][0]["test_accuracy"] > 0.8
    finally:
        for module in [m for m in sys.modules if m.startswith("mnistkit_demo_net")]:
            del sys.modules[module]


@pytest.mark.parametrize(("name", "clash"), [("plugins", "mnistkit's own mnistkit_plugins"),
                                             ("lessons", "mnistkit's own mnistkit_lessons"),
                                             ("example", "the installed package mnistkit_example")])
def test_plugin_new_refuses_a_name_whose_package_is_installed_already(name, clash, tmp_path, capsys):
    assert main(["plugin", "new", name, "--dir", str(tmp_path)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert f"would make the package mnistkit_{name}, which clashes with {clash}" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("version", "requirement"), [("0.1.0", "mnistkit>=0.1,<0.2"), ("0.3.7", "mnistkit>=0.3,<0.4"),
                                                      ("1.2.0", "mnistkit>=1.2,<2")])
def test_a_generated_package_asks_for_the_releases_its_plugin_api_comes_from(version, requirement):
    from mnistkit.host.scaffold import compatible_requirement

    assert compatible_requirement(version) == requirement
