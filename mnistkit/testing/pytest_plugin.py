"""mnistkit's pytest plugin, registered through the ``pytest11`` entry point.

``pytest --mnistkit-plugin NAME`` (repeatable; NAME may be a ``.py`` plugin
file) adds every contract check of that plugin to the session, as
``mnistkit/testing/contract.py::test_mnistkit_contract[model:NAME:learns]``
and so on; with no paths given, only the checks run (not the tests of the
folder pytest starts in). ``--mnistkit-load PATH_OR_MODULE`` loads a local plugin first
(like ``mnistkit --plugin``). Without these options the plugin does nothing.
Importing it is cheap: JAX is imported only when checks are collected.
"""

from __future__ import annotations

from pathlib import Path

import pytest

CONTRACT = Path(__file__).with_name("contract.py")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mnistkit", "mnistkit plugin contract checks")
    group.addoption("--mnistkit-plugin", action="append", default=[], metavar="NAME",
                    help="run mnistkit's contract checks over this plugin (an entry-point name or a .py file; repeatable)")
    group.addoption("--mnistkit-load", action="append", default=[], metavar="PATH_OR_MODULE",
                    help="load this local mnistkit plugin before checking (repeatable)")


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("mnistkit_plugin"):
        return
    if config.args_source is not pytest.Config.ArgsSource.ARGS:
        # No paths were given: run the checks only, not whatever tests sit
        # in the folder pytest was started in (or its testpaths).
        config.args[:] = [str(CONTRACT)]
    elif str(CONTRACT) not in config.args:
        config.args.append(str(CONTRACT))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "mnistkit_check" not in metafunc.fixturenames:
        return
    from mnistkit.testing import as_param, checks_for

    extra = metafunc.config.getoption("mnistkit_load")
    params = [as_param(check) for plugin in metafunc.config.getoption("mnistkit_plugin")
              for check in checks_for(plugin, extra=extra)]
    metafunc.parametrize("mnistkit_check", params)
