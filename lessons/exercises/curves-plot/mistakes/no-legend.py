"""Labelled lines, but no legend to show which is which."""

from matplotlib.figure import Figure


def plot_history(history):
    figure = Figure(figsize=(10, 4), layout="constrained")
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    epochs = [row["epoch"] for row in history]
    for axes, metric in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
        for split in ("train", "test"):
            axes.plot(epochs, [row[f"{split}_{metric}"] for row in history], marker="o", label=split)
        axes.set_xlabel("epoch")
        axes.set_title(metric)
    return figure
