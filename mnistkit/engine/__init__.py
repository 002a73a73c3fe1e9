"""How a model is trained: events, steps, the fast and the tutorial loops, layers, several processes.

Nothing here imports the runs, the report, the CLI or the TUI. The package
names the engine's public functions; importing it is cheap, each name loads
its module (and JAX) when first used.
"""

from __future__ import annotations

import importlib
from typing import Any

_PUBLIC = {
    "train": "mnistkit.engine.loop",
    "Settings": "mnistkit.engine.loop",
    "Snapshot": "mnistkit.engine.loop",
}


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'mnistkit.engine' has no attribute {name!r}")
    return getattr(importlib.import_module(_PUBLIC[name]), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])
