"""``mnistkit plugins`` and ``mnistkit plugin new|check``: what the plugins provide, writing one, checking one."""

from __future__ import annotations

import argparse
from pathlib import Path

from mnistkit.cli import common
from mnistkit.errors import ConfigError


def add_to(commands) -> None:
    plugins = commands.add_parser("plugins", help="list plugins and what they provide")
    plugins.add_argument("--json", action="store_true", help="print JSON")
    plugins.add_argument("--check", action="store_true",
                         help="also build every model and optimizer and try every metric; exit 1 if any plugin has a problem")
    common.add_plugin_options(plugins)
    plugins.set_defaults(handler=cmd_plugins)

    plugin = commands.add_parser("plugin", help="write a plugin, run the contract checks over one",
                                 description="Scaffold a plugin package, or run mnistkit's contract checks over a plugin. The guide: docs/plugins.md.")
    plugin_commands = plugin.add_subparsers(dest="plugin_command", metavar="ACTION", parser_class=common.Parser, required=True)
    plugin_new = plugin_commands.add_parser("new", help="write a plugin package: pyproject, a model, its lesson, contract tests",
                                            description="Write the package mnistkit-NAME (pyproject.toml with the entry point, a model stub, a lesson stub, a test running every contract check). `pip install -e` it and run `pytest` there.")
    plugin_new.add_argument("name", help="plugin and model name: lowercase words joined by '-', e.g. tiny-cnn")
    plugin_new.add_argument("--dir", default=".", help="folder to create mnistkit-NAME in (default: here)")
    plugin_new.set_defaults(handler=cmd_plugin_new)
    plugin_check = plugin_commands.add_parser("check", help="run every contract check over a plugin (with pytest)",
                                              description="Run mnistkit's contract checks (mnistkit.testing) over an installed plugin or a .py plugin file; the same as `pytest --mnistkit-plugin NAME`.")
    plugin_check.add_argument("name", help="the plugin's name (see `mnistkit plugins`) or a .py plugin file")
    plugin_check.add_argument("--plugin", action="append", default=[], metavar="PATH_OR_MODULE", help="load another local plugin first (repeatable)")
    plugin_check.add_argument("-k", dest="keyword", default=None, help="only checks matching this pytest -k expression, e.g. 'model and learns'")
    plugin_check.set_defaults(handler=cmd_plugin_check)


def cmd_plugins(args: argparse.Namespace) -> int:
    import json

    from mnistkit.host.listing import check_builds, listing, render
    from mnistkit.host.loading import load_registry
    from mnistkit.report.terminal import busy

    registry = load_registry(args.plugin, args.disable_plugin)
    if args.check:
        with busy(common.console(stderr=True), "Building every model and optimizer and trying every metric..."):
            check_builds(registry)
    if args.json:
        print(json.dumps(listing(registry), indent=2, default=str))
    else:
        render(registry, common.console(), args.verbose)
    return common.EXIT_FAILED if args.check and registry.problems else 0


def cmd_plugin_new(args: argparse.Namespace) -> int:
    from mnistkit.host.scaffold import scaffold

    root = scaffold(args.name, Path(args.dir))
    console = common.console()
    console.print(f"Wrote the plugin package [bold]{root}[/]. Next:")
    console.print(f"  cd {root}\n  pip install -e .\n  mnistkit plugins\n  mnistkit run --model {args.name} --epochs 1\n  pytest",
                  markup=False, highlight=False)
    return 0


# pytest rewrites the asserts of the modules its plugins come from; mnistkit is
# imported already (this command is part of it), so it would warn every time.
_ALREADY_IMPORTED = "ignore:Module already imported so cannot be rewritten:pytest.PytestAssertRewriteWarning"


def cmd_plugin_check(args: argparse.Namespace) -> int:
    try:
        import pytest
    except ImportError:
        raise ConfigError(
            "`mnistkit plugin check` runs the checks with pytest, which is not installed here: "
            "pip install 'mnistkit[test]' (or pip install pytest), then run it again"
        ) from None

    from mnistkit.testing.pytest_plugin import CONTRACT

    pytest_args = ["-q", "-p", "no:cacheprovider", "-W", _ALREADY_IMPORTED, f"--mnistkit-plugin={args.name}", str(CONTRACT)]
    pytest_args += [f"--mnistkit-load={ref}" for ref in args.plugin]
    if args.keyword:
        pytest_args += ["-k", args.keyword]
    return int(pytest.main(pytest_args))
