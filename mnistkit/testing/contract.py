"""The contract tests of the plugins named with ``pytest --mnistkit-plugin NAME``.

The pytest plugin (``mnistkit.testing.pytest_plugin``) adds this file to the
collection and parametrises ``mnistkit_check`` with every check of every
named plugin.
"""


def test_mnistkit_contract(mnistkit_check):
    mnistkit_check()
