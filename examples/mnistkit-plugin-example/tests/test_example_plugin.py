"""The example plugin passes every mnistkit contract check, and mnistkit sees it."""

import json

from mnistkit.cli import main
from mnistkit.testing import parametrize_with_checks


@parametrize_with_checks("example")
def test_mnistkit_contract(check):
    check()


def test_mnistkit_lists_the_example_plugin_with_its_distribution(capsys):
    assert main(["plugins", "--json"]) == 0
    plugin = next(p for p in json.loads(capsys.readouterr().out)["plugins"] if p["name"] == "example")
    assert plugin["loaded"] and plugin["distribution"] == "mnistkit-plugin-example"
    assert {item["name"] for item in plugin["provides"]} == {"tiny-resnet", "confidence"}
