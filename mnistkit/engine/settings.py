"""How to train, apart from what is trained: the engine's ``Settings``, ``Snapshot`` and epoch lengths.

Plain data only: importing this module imports no JAX.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """How to train: the loop's knobs, separate from what is trained.

    ``devices``: how many local devices to split each batch over (None: all).
    ``dtype``: the compute dtype, ``"float32"`` or ``"bfloat16"`` (parameters,
    optimizer state and the loss stay float32; see ``forward``).
    ``steps_per_dispatch``: train steps fused into one compiled call with
    ``lax.scan`` (None: 1 on CPU, where XLA's convolutions fall off their fast
    path inside a loop body, unless the model sets ``fuse_steps = True``,
    then 16; 8 on GPU and TPU).
    """

    epochs: float = 10
    batch_size: int = 32
    seed: int = 0
    eval_batch_size: int = 1000
    progress_every: int = 50
    num_predictions: int = 25
    devices: int | None = None
    steps_per_dispatch: int | None = None
    label_smoothing: float = 0.0
    dtype: str = "float32"


@dataclass(frozen=True)
class Snapshot:
    """All a run needs to continue exactly where it was.

    ``epoch`` is the epoch in progress and ``step`` the steps of it already
    done (0 at an epoch boundary). ``state`` is the model and optimizer state
    and ``running`` the partial epoch's train metrics, both as pure nested
    dicts of numpy arrays (``running`` is None at a boundary). The data order
    is a pure function of the seed and the epoch, so ``step`` pins it down.
    """

    epoch: int
    step: int
    state: dict
    running: dict | None
    history: tuple[dict[str, float], ...]



def epoch_lengths(epochs: float, steps_per_epoch: int) -> list[int]:
    """Train steps in each epoch of a run of ``epochs`` epochs (a fraction trains part of the last one).

    ``epoch_lengths(2.5, 100)`` is ``[100, 100, 50]``; a final part always
    has at least one step.
    """
    whole = math.floor(epochs)
    lengths = [steps_per_epoch] * whole
    if epochs > whole:
        lengths.append(max(1, round((epochs - whole) * steps_per_epoch)))
    return lengths
