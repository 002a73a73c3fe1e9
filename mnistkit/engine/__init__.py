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
    "choose_devices": "mnistkit.engine.loop",
    "choose_steps_per_dispatch": "mnistkit.engine.loop",
    "Settings": "mnistkit.engine.settings",
    "Snapshot": "mnistkit.engine.settings",
    "epoch_lengths": "mnistkit.engine.settings",
    "Metrics": "mnistkit.engine.steps",
    "metrics_type": "mnistkit.engine.steps",
    "TraceLog": "mnistkit.engine.steps",
    "scale": "mnistkit.engine.steps",
    "forward": "mnistkit.engine.steps",
    "loss_fn": "mnistkit.engine.steps",
    "epoch_order": "mnistkit.engine.steps",
    "make_train_step": "mnistkit.engine.steps",
    "make_eval_step": "mnistkit.engine.steps",
    "score_test_set": "mnistkit.engine.steps",
    "Scored": "mnistkit.engine.steps",
    "dtype_named": "mnistkit.engine.steps",
    "pad_to_batches": "mnistkit.engine.steps",
}


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'mnistkit.engine' has no attribute {name!r}")
    return getattr(importlib.import_module(_PUBLIC[name]), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])
