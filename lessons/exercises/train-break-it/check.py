"""Checker of train-break-it: train briefly at the learner's learning rate and hand the run to train_safely."""

import json
import math
import re
import tempfile
from pathlib import Path

from mnistkit.curriculum.checks import Failed, function, train_briefly, value
from mnistkit.engine import events as ev
from mnistkit.errors import MnistkitError

RUNS = ({"train": 320, "epochs": 1}, {"train": 320, "epochs": 0.5})  # 10 steps, then 5: the report must follow


def _spy(run, seen):
    """Let run.events() record every event train_safely receives."""
    events = run.events

    def recorded(*args, **kwargs):
        for event in events(*args, **kwargs):
            seen.append(event)
            yield event

    run.events = recorded


def _status(run):
    try:
        return json.loads((Path(run.path) / "run.json").read_text(encoding="utf-8")).get("status")
    except (OSError, ValueError):
        return None


def _one_run(train_safely, rate, out, train, epochs):
    try:
        run = train_briefly(out, learning_rate=rate, train=train, test=100, epochs=epochs)
    except MnistkitError as err:
        raise Failed(f"mnistkit refused NAN_LEARNING_RATE = {rate!r}: {err}.") from None
    seen = []
    _spy(run, seen)
    try:
        report = train_safely(run)
    except Exception as err:  # noqa: BLE001 - what the learner's loop raised is the point of the check
        failed = any(isinstance(event, ev.Failed) for event in seen)
        when = " when the run ended with a Failed event" if failed else ""
        raise Failed(f"train_safely raised {type(err).__name__}: {err}{when}. Stop cleanly: let the loop over "
                     "run.events() end and return a short report instead of raising.") from None
    if not seen:
        raise Failed("train_safely never trained: iterate `for event in run.events():` to run the training.")
    last = seen[-1]
    if isinstance(last, ev.Finished):
        loss = last.history[-1]["train_loss"] if last.history else float("nan")
        raise Failed(f"the loss stayed finite with NAN_LEARNING_RATE = {rate:g}: the run finished its epoch with a "
                     f"train loss of {loss:.3g}. Try a far larger learning rate (AdamW moves each weight by about "
                     "the learning rate per step).")
    if not isinstance(last, ev.Failed):
        raise Failed(f"train_safely stopped reading run.events() at a {type(last).__name__} event, before the run "
                     "ended; keep the loop going until the events run out (the last one is Failed or Finished).")
    status = _status(run)
    if status != "failed":
        raise Failed(f"after train_safely the run folder's run.json says status {status!r}, not 'failed'; let "
                     "run.events() run to its end so mnistkit closes the folder.")
    if not isinstance(report, str) or not report.strip():
        raise Failed(f"train_safely returned {report!r}; return a short text such as 'the loss stopped being finite "
                     f"in epoch {last.epoch} by step {last.step}'.")
    if not re.search(rf"(?<!\d){last.step}(?!\d)", report):
        raise Failed(f"train_safely's report ({report!r}) does not say which step the loss stopped being finite at: "
                     f"this run's Failed event says step {last.step} (event.step); put it in the text.")
    return last


def check(learner):
    rate = value(learner, "NAN_LEARNING_RATE")
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not math.isfinite(rate) or rate <= 0:
        raise Failed(f"NAN_LEARNING_RATE is {rate!r}; set it to a positive, finite number: a learning rate, and a "
                     "large one, that makes the loss itself NaN.")
    train_safely = function(learner, "train_safely")
    with tempfile.TemporaryDirectory() as out:
        steps = [_one_run(train_safely, float(rate), out, **settings).step for settings in RUNS]
    return (f"at learning rate {rate:g} the loss stops being finite (by steps {steps[0]} and {steps[1]} of the two "
            "runs), and train_safely reports where and leaves each run folder marked failed.")
