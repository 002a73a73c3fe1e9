"""Notices the failure, but the report does not say where it happened."""

from mnistkit.engine.events import Failed

NAN_LEARNING_RATE = 1e6


def train_safely(run):
    failed = False
    for event in run.events():
        if isinstance(event, Failed):
            failed = True
    return "the loss became NaN" if failed else "the run finished"
