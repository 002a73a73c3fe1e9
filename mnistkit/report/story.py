"""A finished run told in words, from its own numbers: what was trained, what each number on the run tab means.

``what_happened`` is the "read what happened" step of the TUI's first ten
minutes: a newcomer has just watched charts move and digits turn green, and
gets the same run explained in a few short paragraphs, each pointing to the
lesson that goes deeper. It reads only plain values (a run's settings and its
history rows), so it knows nothing of JAX or of the TUI.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def what_happened(config: Mapping[str, Any], history: Sequence[Mapping[str, float]], *, num_train: int,
                  num_test: int, steps_per_epoch: int, seconds: float) -> str:
    """Markdown explaining the run: the setup, the loss, the accuracy, the digit grid and the jit panel."""
    model, optimizer = config.get("model", "?"), config.get("optimizer", "?")
    rate, batch = config.get("learning_rate"), config.get("batch_size", "?")
    epochs = len(history)
    parts = [
        "# What just happened",
        (f"You trained **{model}** with the **{optimizer}** optimizer (learning rate {_g(rate)}) for "
        f"{epochs} epoch(s) in {seconds:.0f} s. One epoch is one pass over the {num_train:,} training images, "
        f"{batch} at a time: {steps_per_epoch:,} steps. In each step the model guessed the digits of one batch, the "
        f"loss measured how wrong those guesses were, and {optimizer} moved every weight a little in the direction "
        "that lowers it (lessons *optimizer* and *train-step*)."),
    ]
    if history:
        first, last = history[0], history[-1]
        parts.append(
            f"**The loss chart.** The line labelled *train* is the loss on the training batches, averaged as each "
            f"epoch goes; it ended at {last.get('train_loss', float('nan')):.3f}. The line labelled *test* is the loss "
            f"on {num_test:,} test images the model never trained on, measured after each epoch: {_trend(history, 'test_loss', '{:.3f}')}. "
            + _gap(last)
        )
        accuracy = last.get("test_accuracy")
        wrong = f", so about {round((1 - accuracy) * num_test):,} of the {num_test:,} test digits are wrong" \
            if isinstance(accuracy, float) else ""
        parts.append(
            f"**The accuracy chart.** The share of test digits guessed right: "
            f"{_trend(history, 'test_accuracy', '{:.1%}')}{wrong}. "
            + (f"It started at {first['test_accuracy']:.1%} after a single epoch: most of the learning happens early."
               if len(history) > 1 and "test_accuracy" in first else "")
        )
    parts += [
        ("**The digits.** 25 test images with the model's guess under each: a green ✓ when it is right, a red ✗ with "
        "the true digit in brackets when it is wrong. Look at the wrong ones: many are digits a person would "
        "hesitate over too (lesson *predict*)."),
        ("**The jit panel.** The first step took longer than the others because `jax.jit` traced the train step "
        "and compiled it for your CPU or GPU, once; every later step reuses that compiled code (lesson *train-step*)."),
        ("**Next:** Esc brings the first steps back: press **3** there to make the learning rate ten times smaller, "
        "then **4** to train again with the grey curves of this run underneath."),
    ]
    return "\n\n".join(parts)


def _gap(last: Mapping[str, float]) -> str:
    """What the last epoch's train and test losses, side by side, say."""
    train, test = last.get("train_loss"), last.get("test_loss")
    if not isinstance(train, float) or not isinstance(test, float):
        return ""
    if test > 1.5 * train + 0.02:
        return ("The test loss is well above the train loss: the model has started to learn the training images "
                "themselves rather than digits in general, which is overfitting (lesson *train*).")
    return "The two staying close means the model learnt digits, not the training images by heart (lesson *train*)."


def _trend(history: Sequence[Mapping[str, float]], key: str, style: str) -> str:
    values = [row[key] for row in history if key in row]
    if not values:
        return "not measured"
    if len(values) == 1:
        return style.format(values[0])
    return f"{style.format(values[0])} after epoch 1, {style.format(values[-1])} after epoch {len(values)}"


def _g(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float) else "default"
