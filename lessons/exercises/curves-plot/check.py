"""Checker of curves-plot: draw two histories and read the figure's axes, lines, labels and legends back."""

import numpy as np

from mnistkit.curriculum.checks import Failed, function

METRICS = ("loss", "accuracy")


def _history(train_loss, test_loss, train_accuracy, test_accuracy):
    columns = zip(train_loss, test_loss, train_accuracy, test_accuracy, strict=True)
    return [{"epoch": epoch, "train_accuracy": train_acc, "train_loss": train, "test_accuracy": test_acc,
             "test_loss": test, "seconds": 3.1} for epoch, (train, test, train_acc, test_acc) in enumerate(columns, 1)]


HISTORIES = [
    _history([0.61, 0.19, 0.12], [0.24, 0.13, 0.10], [0.81, 0.943, 0.962], [0.931, 0.958, 0.968]),
    _history([0.48, 0.15, 0.09, 0.06, 0.045], [0.18, 0.11, 0.085, 0.079, 0.083],
             [0.853, 0.955, 0.972, 0.981, 0.986], [0.946, 0.966, 0.974, 0.977, 0.976]),
]


def _find_axes(figure):
    axes = figure.get_axes()
    if len(axes) != 2:
        raise Failed(f"the figure has {len(axes)} axes; draw two side by side, loss on the left and accuracy on the "
                     "right (figure.subplots(1, 2)).")
    found = {}
    for ax in axes:
        names = f"{ax.get_title()} {ax.get_ylabel()}".lower()
        for metric in METRICS:
            if metric in names:
                found.setdefault(metric, ax)
    if set(found) != set(METRICS) or found["loss"] is found["accuracy"]:
        found = dict(zip(METRICS, axes, strict=True))  # name them by place; the labels are checked below
    return found


def _which(values, expected):
    for split in ("train", "test"):
        if len(values) == len(expected[split]) and np.allclose(values, expected[split]):
            return split
    return None


def _check_axes(ax, metric, history):
    lines = ax.get_lines()
    if not lines:
        raise Failed(f"the {metric} axes has no lines yet: plot the train and the test {metric} against the epoch "
                     "with axes.plot.")
    expected = {split: [row[f"{split}_{metric}"] for row in history] for split in ("train", "test")}
    shows = [_which(np.asarray(line.get_ydata(), float), expected) for line in lines]
    if shows.count("train") > 1:
        raise Failed(f"the {metric} axes shows the train values twice: the line meant for the test set has the "
                     f"training values; take its points from row[\"test_{metric}\"].")
    if "test" not in shows:
        raise Failed(f"the {metric} axes has no test line: plot row[\"test_{metric}\"] too, so train and test can "
                     "be compared.")
    if "train" not in shows:
        raise Failed(f"the {metric} axes has no train line: plot row[\"train_{metric}\"] too.")
    if None in shows:
        raise Failed(f"the {metric} axes has a line whose points are not the history's train or test {metric}; "
                     "draw just those two.")
    epochs = [row["epoch"] for row in history]
    for line, split in zip(lines, shows, strict=True):
        label = str(line.get_label()).lower()
        other = "test" if split == "train" else "train"
        if split not in label or other in label:
            raise Failed(f"in the {metric} axes the line with the {split} values is labelled "
                         f"{line.get_label()!r}; label it {split!r} (axes.plot(..., label={split!r})).")
        xdata = np.asarray(line.get_xdata(), float)
        if len(xdata) != len(epochs) or not np.allclose(xdata, epochs):
            raise Failed(f"the {metric} lines must be drawn against the epoch numbers {epochs}, not "
                         f"{xdata.tolist()}: pass the epochs as the first argument of axes.plot.")
    if metric not in f"{ax.get_title()} {ax.get_ylabel()}".lower():
        raise Failed(f"name the metric on its axes: axes.set_title({metric!r}) (or a y label saying {metric}).")
    if "epoch" not in ax.get_xlabel().lower():
        raise Failed(f"the {metric} axes has no x label saying what the x axis is: axes.set_xlabel(\"epoch\").")
    if ax.get_legend() is None:
        raise Failed(f"the {metric} axes has no legend, so nobody can tell train from test: call axes.legend() "
                     "after plotting the labelled lines.")


def check(learner):
    import matplotlib

    matplotlib.use("Agg")  # in case the learner's code uses pyplot: no window, no display needed
    from matplotlib.figure import Figure

    plot_history = function(learner, "plot_history")
    for history in HISTORIES:
        figure = plot_history([dict(row) for row in history])
        if not isinstance(figure, Figure):
            raise Failed(f"plot_history returned {type(figure).__name__}, not a matplotlib Figure; return the figure "
                         "you drew on.")
        for metric, ax in _find_axes(figure).items():
            _check_axes(ax, metric, history)
    return "plot_history draws loss and accuracy, train and test, against the epoch, with titles, labels and legends."
