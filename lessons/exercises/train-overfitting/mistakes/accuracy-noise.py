"""Follows the test accuracy: the first epoch whose accuracy is below the one before."""

import itertools


def overfitting_starts(history):
    for before, row in itertools.pairwise(history):
        if row["test_accuracy"] < before["test_accuracy"] and row["train_loss"] < before["train_loss"]:
            return row["epoch"]
    return None
