"""Checker of train-overfitting: recorded-looking histories with known answers, and the usual wrong rules."""

import itertools

from mnistkit.curriculum.checks import Failed, function


def _history(train_loss, test_loss, train_accuracy, test_accuracy):
    """Rows as mnistkit records them (mnistkit.engine.events.history_row)."""
    columns = zip(train_loss, test_loss, train_accuracy, test_accuracy, strict=True)
    return [{"epoch": epoch, "train_accuracy": train_acc, "train_loss": train, "test_accuracy": test_acc,
             "test_loss": test, "seconds": 2.4} for epoch, (train, test, train_acc, test_acc) in enumerate(columns, 1)]


# (what it is, history, the answer)
CASES = [
    ("ten epochs on the sample, test accuracy 98.3% at epoch 7 and 97.0% at epoch 10",
     _history([0.52, 0.16, 0.11, 0.085, 0.066, 0.052, 0.041, 0.032, 0.025, 0.019],
              [0.21, 0.12, 0.090, 0.078, 0.070, 0.064, 0.061, 0.066, 0.079, 0.097],
              [0.840, 0.951, 0.966, 0.974, 0.980, 0.984, 0.987, 0.990, 0.993, 0.995],
              [0.934, 0.962, 0.972, 0.977, 0.976, 0.981, 0.983, 0.980, 0.975, 0.970]), 8),
    ("a healthy run of five epochs whose test loss rises once, in epoch 3, then falls lower than ever",
     _history([0.60, 0.20, 0.14, 0.11, 0.09], [0.25, 0.15, 0.16, 0.11, 0.095],
              [0.82, 0.94, 0.958, 0.967, 0.973], [0.930, 0.955, 0.953, 0.968, 0.972]), None),
    ("a run whose learning rate is too high: from epoch 4 both losses grow",
     _history([0.90, 0.50, 0.45, 0.70, 1.30, 2.10], [0.60, 0.40, 0.38, 0.90, 1.60, 2.30],
              [0.70, 0.84, 0.86, 0.78, 0.55, 0.31], [0.85, 0.90, 0.91, 0.80, 0.60, 0.40]), None),
    ("four epochs whose test loss is lowest in epoch 2 while the test accuracy still creeps up in epoch 3",
     _history([0.40, 0.12, 0.07, 0.04], [0.15, 0.10, 0.11, 0.13],
              [0.88, 0.963, 0.978, 0.988], [0.955, 0.970, 0.971, 0.969]), 3),
    ("a single epoch", _history([0.45], [0.20], [0.86], [0.94]), None),
    ("an empty history (no epoch finished)", [], None),
]


def _pairs(history):
    return itertools.pairwise(history)


def _train_only(history):
    return next((row["epoch"] for before, row in _pairs(history) if row["train_loss"] >= before["train_loss"]), None)


def _accuracy(history):
    return next((row["epoch"] for before, row in _pairs(history) if row["test_accuracy"] < before["test_accuracy"]), None)


def _accuracy_falling_train(history):
    return next((row["epoch"] for before, row in _pairs(history)
                 if row["test_accuracy"] < before["test_accuracy"] and row["train_loss"] < before["train_loss"]), None)


def _first_rise(history):
    return next((row["epoch"] for before, row in _pairs(history) if row["test_loss"] > before["test_loss"]), None)


def _first_rise_falling_train(history):
    return next((row["epoch"] for before, row in _pairs(history)
                 if row["test_loss"] > before["test_loss"] and row["train_loss"] < before["train_loss"]), None)


def _best_epoch(history):
    return min(history, key=lambda row: row["test_loss"])["epoch"] if history else None


# Wrong rules a learner writes, recognised when they give the same answers on every case.
WRONG = [
    ((_train_only,), ("your function looks at the training loss only: it cannot see overfitting, which shows in "
                      "the test loss. Find the epoch with the lowest test loss, then check the training loss after it.")),
    ((_accuracy, _accuracy_falling_train),
     ("your function follows the test accuracy, whose small ups and downs are noise (one image is 0.1% of the "
      "sample's test set): a dip is not overfitting. Use the test loss: the epoch after its lowest point.")),
    ((_first_rise, _first_rise_falling_train),
     ("your function stops at the first rise of the test loss, even when it comes back down lower than ever in "
      "later epochs; overfitting starts after the epoch with the lowest test loss overall.")),
    ((_best_epoch,), ("your function returns the epoch with the lowest test loss itself; overfitting starts at "
                      "the epoch after it, and only when the training loss keeps falling.")),
]


def _losses(history):
    return "; ".join(f"epoch {row['epoch']}: train {row['train_loss']:g}, test {row['test_loss']:g}" for row in history)


def check(learner):
    overfitting_starts = function(learner, "overfitting_starts")
    answers = [overfitting_starts([dict(row) for row in history]) for _, history, _ in CASES]
    if all(answer == expected and type(answer) is not bool for answer, (_, _, expected) in zip(answers, CASES, strict=True)):
        return "overfitting_starts finds where the test loss turns up while the training loss falls, and None otherwise."
    for rules, message in WRONG:
        if any(answers == [rule(history) for _, history, _ in CASES] for rule in rules):
            raise Failed(message)
    for answer, (what, history, expected) in zip(answers, CASES, strict=True):
        if answer != expected or type(answer) is bool:
            why = (f"overfitting starts at epoch {expected}" if expected is not None
                   else "the answer is None: it does not overfit")
            shown = f" ({_losses(history)})" if history else ""
            raise Failed(f"for {what}{shown}, overfitting_starts returned {answer!r}; {why}.")
    raise AssertionError("unreachable")
