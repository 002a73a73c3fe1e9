"""Watches the training loss alone: 'something goes wrong when the training loss stops falling'."""

import itertools


def overfitting_starts(history):
    for before, row in itertools.pairwise(history):
        if row["train_loss"] >= before["train_loss"]:
            return row["epoch"]
    return None
