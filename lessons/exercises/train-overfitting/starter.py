"""Exercise train-overfitting: find the epoch where a recorded run starts to overfit.

Check your work with:  mnistkit exercise check train-overfitting
"""


def overfitting_starts(history):
    """The epoch (from 1) from which the test loss rises while the training loss keeps falling, or None."""
    starts = None
    # TODO: find the epoch with the lowest test loss; if the training loss keeps falling after it,
    #       overfitting starts at the epoch that follows it.
    return starts
