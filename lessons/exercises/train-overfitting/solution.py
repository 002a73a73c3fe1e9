"""Exercise train-overfitting, a reference solution."""


def overfitting_starts(history):
    """The epoch (from 1) from which the test loss rises while the training loss keeps falling, or None."""
    if not history:
        return None
    best = min(history, key=lambda row: row["test_loss"])
    later = [row for row in history if row["epoch"] > best["epoch"]]
    if later and all(row["train_loss"] < best["train_loss"] for row in later):
        return best["epoch"] + 1
    return None
