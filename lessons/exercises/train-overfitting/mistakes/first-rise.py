"""The first epoch whose test loss rises, even when the next epochs bring it lower than ever."""

import itertools


def overfitting_starts(history):
    for before, row in itertools.pairwise(history):
        if row["test_loss"] > before["test_loss"] and row["train_loss"] < before["train_loss"]:
            return row["epoch"]
    return None
