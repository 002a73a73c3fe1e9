"""Exercise curves-plot: draw the loss and the accuracy per epoch, train against test.

Check your work with:  mnistkit exercise check curves-plot
"""

from matplotlib.figure import Figure


def plot_history(history):
    """A Figure with two axes, loss and accuracy, each with a train and a test line against the epoch."""
    figure = Figure(figsize=(10, 4), layout="constrained")
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    epochs = [row["epoch"] for row in history]
    for axes, metric in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
        # TODO: draw the train and the test values of `metric` against `epochs` on `axes`,
        #       labelled "train" and "test"; then an x label, a title naming the metric and a legend.
        pass
    return figure
