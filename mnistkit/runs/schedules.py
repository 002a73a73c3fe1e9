"""Learning-rate schedules over a whole run, for any optimizer (``--schedule``)."""

from __future__ import annotations

from mnistkit.engine.settings import epoch_lengths
from mnistkit.errors import ConfigError

SCHEDULES = ("constant", "warmup-cosine", "one-cycle")
"""Learning-rate schedules ``mnistkit run --schedule`` offers; any optimizer takes any of them."""


def build_schedule(name: str, learning_rate: float, total_steps: int, warmup_steps: int = 0):
    """The learning rate as a float (``constant``) or an optax schedule of the step count.

    ``warmup-cosine``: linear from 0 to ``learning_rate`` over ``warmup_steps``
    (capped at half the run), then a cosine down to 0 at ``total_steps``.
    ``one-cycle``: up over the first 30% of the run to ``learning_rate`` and
    down to ``learning_rate / 1e4`` (optax's ``cosine_onecycle_schedule``).
    """
    import optax

    if name == "constant":
        return learning_rate
    total_steps = max(1, total_steps)
    if name == "warmup-cosine":
        warmup = min(warmup_steps, total_steps // 2)
        return optax.warmup_cosine_decay_schedule(0.0, learning_rate, warmup, total_steps, end_value=0.0)
    if name == "one-cycle":
        return optax.cosine_onecycle_schedule(total_steps, learning_rate)
    raise ConfigError(f"unknown --schedule {name!r} (known: {', '.join(SCHEDULES)})")


def learning_rate_for(config, steps_per_epoch: int):
    """``config``'s learning rate, as a schedule over the whole run when it asks for one."""
    return build_schedule(
        config.schedule,
        config.learning_rate,
        total_steps=sum(epoch_lengths(config.epochs, steps_per_epoch)),
        warmup_steps=round(config.warmup_epochs * steps_per_epoch),
    )
