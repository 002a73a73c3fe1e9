"""Exercise train-break-it: a learning rate that makes the loss NaN, and a loop that survives it.

Check your work with:  mnistkit exercise check train-break-it
"""

from mnistkit.engine.events import Failed, Finished

# TODO: a learning rate at which the loss stops being finite in the first epoch (find it by experiment).
NAN_LEARNING_RATE = 0.005


def train_safely(run):
    """Train `run` through run.events() and return a short text saying where the loss stopped being finite."""
    # TODO: look at each event; when the run ends with a Failed event, say at which epoch and step.
    for event in run.events():
        pass
    return "the run ended"
