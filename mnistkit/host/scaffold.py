"""``mnistkit plugin new NAME``: write a plugin package that installs and passes its checks as generated.

The package holds a ``pyproject.toml`` with the ``mnistkit`` entry point, a
model plugin (a small MLP to replace with your own), its lesson, and a test
that runs every contract check (``mnistkit.testing``) over the plugin.
"""

from __future__ import annotations

import re
from pathlib import Path
from string import Template

from mnistkit.errors import ConfigError

_NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")

PYPROJECT = Template('''\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "$dist"
version = "0.1.0"
description = "A mnistkit plugin: the $name model."
requires-python = ">=3.11"
# mnistkit is 0.x: a minor release may change the plugin API, so stay within this one.
dependencies = ["$requirement"]

[project.optional-dependencies]
test = ["pytest>=8"]

# This line is what makes mnistkit find the plugin: entry-point group
# "mnistkit", plugin name "$name", the module holding the hook functions.
[project.entry-points.mnistkit]
$name = "$package.plugin"

[tool.setuptools]
packages = ["$package", "$package.lessons"]

# The lesson ships inside the package, so "$package:lessons/$name.md" resolves.
[tool.setuptools.package-data]
"$package.lessons" = ["*.md"]

[tool.pytest.ini_options]
testpaths = ["tests"]
''')

INIT = Template('''\
"""The $name mnistkit plugin. The hooks are in ``$package.plugin``."""
''')

MODEL = Template('''\
"""The $name network (replace it with yours)."""

from __future__ import annotations

from flax import nnx


class Model(nnx.Module):
    """A starting point: flatten the 28x28 image, one hidden ReLU layer, 10 logits.

    Input: float32 (B, 28, 28, 1) in [0, 1]. Output: float32 (B, 10) logits.
    """

    def __init__(self, rngs: nnx.Rngs, *, hidden: int = 128):
        self.hidden = nnx.Linear(28 * 28, hidden, rngs=rngs)
        self.logits = nnx.Linear(hidden, 10, rngs=rngs)

    def __call__(self, x):
        x = x.reshape(x.shape[0], -1)
        return self.logits(nnx.relu(self.hidden(x)))
''')

PLUGIN = Template('''\
"""The $name plugin: registers one model with mnistkit.

mnistkit calls ``register_models`` once and hands it ``register``; call it
once per model. The contract for the factory (what it receives and must
return) is in ``mnistkit.hookspecs``. Run the checks with ``pytest``.

mnistkit imports this module every time it starts, so it imports nothing
heavy: the network (and Flax with it) is imported inside the factory.
"""

from __future__ import annotations

from mnistkit.hookspecs import hookimpl
from mnistkit.specs import ModelSpec


def build(rngs, **options):
    from $package.model import Model

    return Model(rngs, **options)


@hookimpl
def register_models(register):
    register(ModelSpec(
        name="$name",
        factory=build,
        lesson="$package:lessons/$name.md",
        description="A one-hidden-layer MLP (replace me with your model).",
        options={"hidden": 128},
        accuracy_floor=0.7,
    ))
''')

LESSON = Template('''\
---
id: plugin-$name
title: "Model plugin: $name"
order: 900
stage: model
minutes: 5
prerequisites: []
---

# The `$name` model

Say here what the model is, why it is built the way it is, and what a
learner should notice when training it. This starting point is a multilayer
perceptron with one hidden layer: it flattens the 28x28 image into 784
numbers, mixes them in 128 ReLU units, and scores the 10 digits.

```python
import jax.numpy as jnp
from flax import nnx
from $package.model import Model

model = Model(nnx.Rngs(0))
print(model(jnp.zeros((2, 28, 28, 1))).shape)  # prints: (2, 10)
```

Train it with `mnistkit run --model $name`.

## Check yourself

1. How many inputs does the hidden layer have, and why? *(784: the 28 x 28 pixels of one image, flattened.)*
''')

TEST = Template('''\
"""mnistkit's contract checks for the $name plugin: run them with `pytest`."""

from mnistkit.testing import parametrize_with_checks


@parametrize_with_checks("$name")
def test_mnistkit_contract(check):
    check()
''')

README = Template('''\
# $dist

A plugin for mnistkit that adds the `$name` model.

```bash
pip install -e .                 # in the environment where mnistkit is installed
mnistkit plugins                 # $name is listed, loaded
mnistkit run --model $name       # train it
pytest                           # every mnistkit contract check over the plugin
```
''')


def package_name(name: str) -> str:
    return "mnistkit_" + name.replace("-", "_")


def scaffold(name: str, where: Path) -> Path:
    """Write the package ``mnistkit-NAME`` under ``where`` and return its folder.

    ``ConfigError`` for a name that is not lowercase words joined by ``-``,
    whose package would clash with one already installed (mnistkit's own
    ``mnistkit_plugins`` and ``mnistkit_lessons`` among them), or when the
    folder exists already.
    """
    if not _NAME.fullmatch(name):
        raise ConfigError(f"plugin name {name!r} must be lowercase letters and digits, words joined by '-' (e.g. tiny-cnn)")
    dist = f"mnistkit-{name}"
    package = package_name(name)
    clash = _installed(package)
    if clash is not None:
        raise ConfigError(f"plugin name {name!r} would make the package {package}, which clashes with {clash}; "
                          "choose another name")
    root = Path(where) / dist
    if root.exists():
        raise ConfigError(f"{root} exists already; choose another name or folder (--dir)")
    values = {"name": name, "dist": dist, "package": package, "requirement": compatible_requirement()}
    files = {
        "pyproject.toml": PYPROJECT,
        "README.md": README,
        f"{package}/__init__.py": INIT,
        f"{package}/model.py": MODEL,
        f"{package}/plugin.py": PLUGIN,
        f"{package}/lessons/{name}.md": LESSON,
        f"tests/test_{package}_contract.py": TEST,
    }
    for relative, template in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.substitute(values), encoding="utf-8")
    return root


def compatible_requirement(version: str | None = None) -> str:
    """``mnistkit>=0.1,<0.2`` for mnistkit 0.1.x: the releases whose plugin API a generated package was written for."""
    from mnistkit import __version__

    major, minor = (int(part) for part in (version or __version__).split(".")[:2])
    upper = f"{major}.{minor + 1}" if major == 0 else f"{major + 1}"
    return f"mnistkit>={major}.{minor},<{upper}"


def _installed(package: str) -> str | None:
    """What an installed package of that import name is, or None when the name is free."""
    import importlib.metadata
    import importlib.util

    try:
        found = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        found = None
    owners = importlib.metadata.packages_distributions().get(package, [])
    if found is None and not owners:
        return None
    if package in ("mnistkit_plugins", "mnistkit_lessons"):
        return f"mnistkit's own {package} (its builtin {package.removeprefix('mnistkit_')})"
    where = f" from {', '.join(sorted(set(owners)))}" if owners else ""
    return f"the installed package {package}{where}"
