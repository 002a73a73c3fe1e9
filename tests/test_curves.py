"""Where overfitting starts (``report.curves.overfitting_starts``): the rule the train lesson teaches, on known histories."""

from __future__ import annotations

import importlib.util

import pytest

from mnistkit.curriculum.lessons import lessons_dir
from mnistkit.report.curves import overfitting_starts


def history(train_losses, test_losses) -> list[dict]:
    return [{"epoch": epoch, "train_loss": train, "test_loss": test, "train_accuracy": 0.9, "test_accuracy": 0.9}
            for epoch, (train, test) in enumerate(zip(train_losses, test_losses), start=1)]


PEAKS_AT_7 = history([0.9, 0.4, 0.25, 0.18, 0.13, 0.09, 0.06, 0.04, 0.03, 0.02],
                     [0.5, 0.3, 0.2, 0.15, 0.12, 0.1, 0.08, 0.09, 0.1, 0.12])
BUMPY_BUT_HEALTHY = history([0.9, 0.4, 0.3, 0.25, 0.2], [0.5, 0.3, 0.35, 0.25, 0.2])
BOTH_BLOW_UP = history([0.9, 0.4, 0.8, 2.0], [0.5, 0.3, 0.9, 2.5])
RISES_THEN_RECOVERS_ABOVE_ITS_BEST = history([0.9, 0.4, 0.3, 0.2], [0.5, 0.3, 0.4, 0.35])

CASES = [
    ("peaks at epoch 7", PEAKS_AT_7, 8),
    ("one bumpy epoch, lowest at the end", BUMPY_BUT_HEALTHY, None),
    ("both losses blow up", BOTH_BLOW_UP, None),
    ("never back down to its lowest", RISES_THEN_RECOVERS_ABOVE_ITS_BEST, 3),
    ("one epoch", history([0.5], [0.4]), None),
    ("no epochs", [], None),
]


@pytest.mark.parametrize(("history_", "starts"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_overfitting_starts_the_epoch_after_the_lowest_test_loss_while_train_loss_keeps_falling(history_, starts):
    assert overfitting_starts(history_) == starts


def test_overfitting_starts_reads_only_rows_with_both_losses():
    rows = [*PEAKS_AT_7, {"epoch": 11, "train_loss": 0.01}, {"note": "not an epoch"}]
    assert overfitting_starts(rows) == 8


def test_the_rule_is_the_one_the_train_overfitting_exercise_asks_for():
    """The library and the exercise's reference solution give the same answer on every history above."""
    path = lessons_dir() / "exercises" / "train-overfitting" / "solution.py"
    spec = importlib.util.spec_from_file_location("train_overfitting_solution", path)
    assert spec is not None and spec.loader is not None
    solution = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(solution)
    for name, rows, _ in CASES:
        assert overfitting_starts(rows) == solution.overfitting_starts(rows), name
