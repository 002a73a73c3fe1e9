"""Only the training curve: nothing to compare it with."""

from matplotlib.figure import Figure


def plot_history(history):
    figure = Figure(figsize=(10, 4), layout="constrained")
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    epochs = [row["epoch"] for row in history]
    for axes, metric in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
        axes.plot(epochs, [row[f"train_{metric}"] for row in history], marker="o", label="train")
        axes.set_xlabel("epoch")
        axes.set_title(metric)
        axes.legend()
    return figure
