"""A learning rate that is far too high for learning, yet the loss stays a (huge) finite number."""

from mnistkit.engine.events import Failed, Finished

NAN_LEARNING_RATE = 10.0


def train_safely(run):
    report = "the run ended without saying how"
    for event in run.events():
        if isinstance(event, Failed):
            report = f"the loss stopped being finite in epoch {event.epoch} by step {event.step}"
        elif isinstance(event, Finished):
            report = "the loss stayed finite"
    return report
