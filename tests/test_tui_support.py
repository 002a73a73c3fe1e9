"""Shared pieces for the TUI tests: a tiny plugin, a small curriculum, fixed run events.

Everything here is real mnistkit objects: the plugin is loaded by the real
plugin host from a file, the lessons are parsed by ``mnistkit.curriculum.lessons``, and
the events are the engine's own dataclasses, so the tests drive the app the
way a user's installation would, only smaller and faster.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from mnistkit.curriculum.exercises import ExerciseSet, parse_exercise
from mnistkit.curriculum.lessons import lessons_dir, parse_lesson
from mnistkit.curriculum.loader import Curriculum
from mnistkit.engine import events as ev
from mnistkit.host.loading import ENTRY_POINT_GROUP, load_registry

TINY_PLUGIN = '''\
"""A test plugin: a small MLP that compiles in a moment, and plain SGD."""
import optax
from flax import nnx

from mnistkit.hookspecs import hookimpl
from mnistkit.specs import ModelSpec, OptimizerSpec


class Tiny(nnx.Module):
    def __init__(self, rngs, *, hidden: int = 16):
        self.hidden = nnx.Linear(784, hidden, rngs=rngs)
        self.out = nnx.Linear(hidden, 10, rngs=rngs)

    def __call__(self, x):
        return self.out(nnx.relu(self.hidden(x.reshape(x.shape[0], -1))))


@hookimpl
def register_models(register):
    register(ModelSpec("tiny", Tiny, "tiny.md", "One hidden layer of 16 units.", options={"hidden": 16}))


@hookimpl
def register_optimizers(register):
    register(OptimizerSpec("plain-sgd", lambda lr: optax.sgd(lr), "tiny.md", "SGD without momentum.",
                           learning_rate=0.1))
'''

TINY_LESSON = """\
---
id: plugin-tiny
title: "Model plugin: tiny"
order: 900
minutes: 2
---

# The `tiny` model

Flatten the image, one hidden layer of 16 units, then 10 logits.

```python
model = Tiny(nnx.Rngs(0))
```
"""

BROKEN_PLUGIN = 'raise ImportError("this plugin needs the package `nowhere`")\n'

CORE_LESSONS = (
    """\
---
id: welcome
title: Welcome to MNIST
order: 1
minutes: 3
---

# Welcome

MNIST is 70,000 handwritten digits, each **28x28** pixels.

```python
import jax.numpy as jnp
print(jnp.zeros((28, 28)).shape)
```
""",
    """\
---
id: model
title: The model
order: 2
stage: model
minutes: 8
prerequisites: [welcome]
---

# The model

A convolution looks at 3x3 neighbourhoods.

## Check yourself

1. How many logits does the model return? *(Ten, one per digit.)*
""",
    """\
---
id: training
title: Training
order: 3
stage: train
minutes: 10
prerequisites: [model]
---

# Training

The train step is compiled once with `jax.jit`.
""",
)


def builtin_entry_points() -> list[str]:
    """Every installed plugin entry point's name, to switch them all off."""
    return [ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)]


def write_plugins(folder: Path) -> tuple[Path, Path]:
    """Write the tiny plugin (with its lesson) and the broken one; return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tiny.md").write_text(TINY_LESSON)
    tiny, broken = folder / "tiny.py", folder / "broken.py"
    tiny.write_text(TINY_PLUGIN)
    broken.write_text(BROKEN_PLUGIN)
    return tiny, broken


def small_registry(folder: Path, *, broken: bool = False):
    """A registry with only the tiny plugin (and the broken one if asked).

    The plugins are loaded as ``tiny.py`` and ``broken.py`` relative to
    ``folder``, so what the app shows of their source is the same on every
    machine.
    """
    write_plugins(folder)
    with contextlib.chdir(folder):
        return load_registry(["tiny.py", "broken.py"] if broken else ["tiny.py"], disabled=builtin_entry_points())


def small_curriculum(folder: Path) -> Curriculum:
    """Three core lessons parsed from the texts above, plus the tiny plugin's lesson."""
    core = tuple(parse_lesson(text, folder / "core.md") for text in CORE_LESSONS)
    tiny = replace(parse_lesson(TINY_LESSON, folder / "tiny.md"), plugin="tiny")
    return Curriculum(core, {"tiny": (tiny,)})


SMALL_EXERCISES = {
    "model-one": ("""\
---
id: model-one
lesson: model
title: Count the logits
order: 1
starter_fails_with: "not 10"
---
Write `logits()`, returning how many logits the model gives for one image.

## Hints
1. One logit per digit.
2. There are ten digits.
""", "def logits():\n    # TODO: how many?\n    return 0\n", "def logits():\n    return 10\n"),
    "model-two": ("""\
---
id: model-two
lesson: model
title: Name the kernel size
order: 2
starter_fails_with: "not 3"
---
Write `kernel()`, returning the size of the convolution's kernel.

## Hints
1. The lesson says 3x3.
""", "def kernel():\n    return 0\n", "def kernel():\n    return 3\n"),
}
"""Two small exercises of the small curriculum's ``model`` lesson (task, starter, solution); their checks are never run."""

CHECK = """\
from mnistkit.curriculum.checks import Failed


def check(learner):
    raise Failed("these exercises are for the screen only")
"""


def write_exercises(folder: Path) -> list[Path]:
    """Write ``SMALL_EXERCISES`` as exercise folders in ``folder/exercises``; return the folders."""
    written = []
    for exercise_id, (task, starter, solution) in SMALL_EXERCISES.items():
        where = folder / "exercises" / exercise_id
        where.mkdir(parents=True, exist_ok=True)
        for name, text in (("exercise.md", task), ("starter.py", starter), ("solution.py", solution), ("check.py", CHECK)):
            (where / name).write_text(text)
        written.append(where)
    return written


def small_curriculum_with_exercises(folder: Path) -> Curriculum:
    """``small_curriculum`` with the two exercises of ``SMALL_EXERCISES`` on its ``model`` lesson."""
    exercises = ExerciseSet(tuple(parse_exercise(where) for where in write_exercises(folder)))
    return replace(small_curriculum(folder), exercises=exercises)


def pipeline_curriculum() -> Curriculum:
    """The real pipeline lesson with its first real exercise, pipeline-scale (and no other, whatever else is written)."""
    path = lessons_dir() / "pipeline.md"
    lesson = parse_lesson(path.read_text(encoding="utf-8"), path)
    return Curriculum((lesson,), exercises=ExerciseSet((parse_exercise(lessons_dir() / "exercises" / "pipeline-scale"),)))


def fixed_run(epochs: int = 2, steps: int = 40, num_test: int = 25) -> list[object]:
    """The events of a made-up run with fixed numbers: what the engine would yield, minus the waiting."""
    from mnistkit.data.sources import load_sample

    sample = load_sample()
    images, labels = sample.test_images[:num_test], sample.test_labels[:num_test].astype(np.int64)
    config = {"model": "cnn", "optimizer": "adamw", "learning_rate": 0.005, "batch_size": 32, "epochs": epochs, "seed": 0}
    items: list[object] = [
        ev.RunStarted(config, "cpu", ("TFRT_CPU_0",), sample.description, 6000, 1000, steps),
        ev.Compiled(1.25),
        ev.Traced("train_step", 1, "first call: trace and compile"),
    ]
    history = []
    for epoch in range(1, epochs + 1):
        for step in range(10, steps + 1, 10):
            t = (epoch - 1) + step / steps
            items.append(ev.Progress(epoch, step, steps, loss=1.5 / (1 + 2 * t), accuracy=0.6 + 0.15 * t, images_per_sec=2400.0))
        train = {"loss": 1.5 / (1 + 2 * epoch) + 0.1, "accuracy": 0.6 + 0.15 * epoch - 0.05}
        test = {"loss": 1.5 / (1 + 2 * epoch), "accuracy": 0.6 + 0.15 * epoch}
        end, evaluation = ev.EpochEnd(epoch, train, 2.0), ev.Evaluation(epoch, test, 0.25)
        predicted = labels.copy()
        predicted[[3, 7, 11][: 4 - epoch]] = (predicted[[3, 7, 11][: 4 - epoch]] + 1) % 10
        items += [end, evaluation, ev.Predictions(epoch, images, labels, predicted)]
        history.append(ev.history_row(end, evaluation))
    items.append(ev.Finished(tuple(history), 4.5 * epochs + 1.25))
    return items


async def wait_for(pilot, condition, timeout: float = 60.0, what: str = "the condition") -> float:
    """Let the app run until ``condition()`` holds; return the seconds it took."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await pilot.pause(0.05)
    return time.monotonic() - start

