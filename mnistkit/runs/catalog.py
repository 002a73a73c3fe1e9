"""The runs folder as a list: what each earlier run trained, how it ended, its curves, and what differs between two.

The TUI's "compare runs" overlays an earlier run's history on the current
charts, and its resume offers the runs that can be continued; both read the
folder through ``list_runs``. A folder that is not a run, or cannot be read,
is skipped: a runs folder may hold anything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SHOWN = ("model", "optimizer", "learning_rate", "epochs", "batch_size", "seed", "schedule", "dtype", "data")
"""The settings a comparison names when they differ, in this order."""

_LABELS = {"learning_rate": "learning rate", "batch_size": "batch size"}


@dataclass(frozen=True)
class PastRun:
    path: Path
    config: dict[str, Any]
    status: str  # "completed", "interrupted", "failed", "running" (or "unknown")
    started_at: str
    history: tuple[dict[str, float], ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def resumable(self) -> bool:
        """Stopped before its last epoch, by the fast engine, with a checkpoint to continue from."""
        return (self.status in ("interrupted", "failed") and self.config.get("engine", "fast") == "fast"
                and (self.path / "checkpoints").is_dir() and any((self.path / "checkpoints").iterdir()))

    def describe(self) -> str:
        """One line: ``cnn · adamw lr 0.005 · 2 of 2 epochs · completed · test 98.1%``."""
        config = self.config
        rate = config.get("learning_rate")
        parts = [str(config.get("model", "?")), f"{config.get('optimizer', '?')}" + (f" lr {rate:g}" if rate else ""),
                 f"{len(self.history)} of {_number(config.get('epochs'))} epochs", self.status]
        accuracy = self.history[-1].get("test_accuracy") if self.history else None
        if isinstance(accuracy, int | float):
            parts.append(f"test {accuracy * 100:.1f}%")
        return " · ".join(parts)


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float) else "?"


def read_run(path: Path) -> PastRun | None:
    """The run in folder ``path``, or None when it is not one (no readable ``config.json``)."""
    config = _json(path / "config.json")
    if not config:
        return None
    info = _json(path / "run.json")
    metrics = _json(path / "metrics.json")
    history = metrics.get("history")
    rows = tuple(row for row in history if isinstance(row, dict)) if isinstance(history, list) else ()
    status = info.get("status") or metrics.get("status") or "unknown"
    return PastRun(path, config, str(status), str(info.get("started_at", "")), rows)


def list_runs(runs_dir: Path, *, with_history: bool = False) -> list[PastRun]:
    """Every run in ``runs_dir``, newest first (``with_history``: only those with at least one epoch)."""
    try:
        folders = [folder for folder in Path(runs_dir).iterdir() if folder.is_dir()]
    except OSError:
        return []
    runs = [run for run in map(read_run, folders) if run is not None and (run.history or not with_history)]
    return sorted(runs, key=lambda run: (run.started_at, run.name), reverse=True)


def differences(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """What changed from one run's settings to another's: ``["learning rate 0.005 → 0.05"]``."""
    changed = []
    for key in SHOWN:
        old, new = before.get(key), after.get(key)
        if old != new:
            changed.append(f"{_LABELS.get(key, key)} {_show(old)} → {_show(new)}")
    return changed


def _show(value: Any) -> str:
    if value is None:
        return "default"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
