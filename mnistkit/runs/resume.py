"""Open a run folder again: its configuration, newest checkpoint and data.

``mnistkit run --resume`` continues a run from here; ``predict`` and
``evaluate`` load what it trained. Each check a resume needs (same model,
same format, same data, epochs left to train) is one ``MnistkitError``
with a message saying what to do.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mnistkit.errors import ConfigError, DataError
from mnistkit.runs.checkpoints import Checkpoints, Notify, check_format, data_fingerprint

if TYPE_CHECKING:
    from mnistkit.data import MnistArrays
    from mnistkit.runs.config import RunConfig


def run_config(run_dir: Path) -> RunConfig:
    """The ``RunConfig`` a run folder's ``config.json`` records."""
    from dataclasses import fields

    from mnistkit.runs.config import RunConfig

    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise ConfigError(f"{run_dir} is a file, not a run folder; pass a folder made by `mnistkit run`")
    if not run_dir.is_dir():
        raise ConfigError(f"run folder {run_dir} does not exist; pass a folder made by `mnistkit run`")
    saved = read_json(run_dir / "config.json")
    known = {f.name for f in fields(RunConfig)}
    values = {key: value for key, value in saved.items() if key in known}
    if "metrics" in values:
        values["metrics"] = tuple(values["metrics"])
    try:
        return RunConfig(**values)
    except TypeError as err:
        raise DataError(f"cannot read {run_dir / 'config.json'}: {err}") from None


MAY_CHANGE = ("epochs", "data_dir", "devices", "steps_per_dispatch", "dtype")
"""Settings a resumed run may take anew: more epochs, where its data is now, how to spread the work, the compute dtype."""


def plan_resume(run_dir: Path, given: Mapping[str, Any] | None = None, notify: Notify = lambda msg: None):
    """The ``RunConfig`` to continue ``run_dir`` with, and its newest checkpoint's meta.

    What is trained stays as the run started. ``given`` holds every run
    option the user typed along with ``--resume`` (``RunConfig`` field
    names, plus ``recipe`` and ``out``); those in ``MAY_CHANGE`` replace the
    run's, and any other that contradicts the run is a ``ConfigError``, as
    are a run of the tutorial engine, a checkpoint of another format version
    or model, and ``epochs`` that leaves nothing to train. Nothing is
    written: the run folder is untouched until every check has passed.
    """
    from mnistkit.runs.config import recipe

    run_dir = Path(run_dir)
    config = run_config(run_dir)
    given = dict(given or {})
    if config.engine != "fast":
        raise ConfigError(
            f"run {run_dir} was trained with --engine tutorial, which cannot resume (its tf.data order cannot be "
            f"replayed); start a new run, or use its newest checkpoint with `mnistkit evaluate --run {run_dir}`"
        )
    if given.get("out") is not None:
        raise ConfigError(f"--out cannot go with --resume: a resumed run stays in its folder {run_dir}")
    name = given.pop("recipe", None)
    if name is not None:
        for key, value in recipe(name).items():
            if key not in given and key not in MAY_CHANGE and value != getattr(config, key):
                raise ConfigError(
                    f"--recipe {name} sets {_flag(key)} {_show(value)}, but run {run_dir} was started with "
                    f"{_show(getattr(config, key))}; {_ONLY}"
                )
    for key, value in given.items():
        if key in MAY_CHANGE or key == "out" or value is None:
            continue
        if key in ("model_options", "optimizer_options"):
            kept = getattr(config, key)
            differ = [name for name, text in value.items() if name not in kept or str(text).lower() != str(kept[name]).lower()]
            if differ:
                raise ConfigError(f"{_flag(key)} {differ[0]}={value[differ[0]]} does not match run {run_dir}, which was "
                                  f"started with {_show(kept)}; {_ONLY}")
            continue
        if value != getattr(config, key):
            raise ConfigError(
                f"{_flag(key)} {_show(value)} does not match run {run_dir}, which was started with "
                f"{_show(getattr(config, key))}; {_ONLY}"
            )
    with Checkpoints(run_dir, notify=notify) as saved:
        meta = saved.newest_meta()
    check_format(meta, run_dir)
    recorded = meta.get("config", {})
    for key in ("model", "model_options", "optimizer", "optimizer_options", "batch_size", "seed"):
        if key in recorded and recorded[key] != getattr(config, key):
            raise ConfigError(
                f"the checkpoints in {run_dir} were made with {key} {_show(recorded[key])}, but its config.json says "
                f"{_show(getattr(config, key))}; they belong to different runs, so this run cannot be resumed"
            )
    changes = {key: given[key] for key in MAY_CHANGE if given.get(key) is not None}
    started = config.epochs
    config = replace(config, **changes)
    _check_left_to_train(run_dir, config, meta, started)
    return config, meta


def _check_left_to_train(run_dir: Path, config: RunConfig, meta: Mapping[str, Any], started: float) -> None:
    """``ConfigError`` unless ``config.epochs`` goes past where the newest checkpoint stands."""
    from mnistkit.engine.settings import epoch_lengths

    epoch, step = int(meta["epoch"]), int(meta["step"])
    per_epoch = int(meta.get("steps_per_epoch") or 1)
    lengths = epoch_lengths(config.epochs, per_epoch)
    wanted = sum(lengths)
    trained = (epoch - 1) * per_epoch + step
    history = meta.get("history") or []
    evaluated = bool(step) and bool(history) and history[-1].get("epoch") == epoch
    if wanted > trained or (wanted == trained and step and not evaluated):
        return
    further = f"pass --epochs N with N above {epoch - 1}" if not step else f"pass --epochs {epoch} to finish epoch {epoch}, or more,"
    if wanted == trained or (not step and math.ceil(config.epochs) == epoch - 1):
        what = f"{epoch - 1} epochs" if not step else (
            f"{started:g} epochs ({step} of epoch {epoch}'s {per_epoch} steps, trained and evaluated)")
        raise ConfigError(f"run {run_dir} already finished its {what}; {further} to train it further")
    done = f"{epoch - 1} epochs" if not step else f"{epoch - 1} epochs and {step} steps of epoch {epoch}"
    raise ConfigError(f"--epochs {config.epochs:g} is fewer than the {done} run {run_dir} has trained; {further} to train it further")


_ONLY = ("--resume continues a run as it was started (only --epochs, --data-dir, --devices, --steps-per-dispatch "
         "and --dtype may change)")
_FLAGS = {"model_options": "--model-opt", "optimizer_options": "--optimizer-opt", "metrics": "--metric"}


def _flag(key: str) -> str:
    return _FLAGS.get(key, "--" + key.replace("_", "-"))


def load_run_data(meta: Mapping[str, Any], config: RunConfig, notify: Notify = lambda msg: None) -> MnistArrays:
    """The data a checkpoint was trained on, loaded again; ``DataError`` if it is gone or has changed."""
    from mnistkit.data import load_mnist

    recorded: Mapping[str, Any] = meta.get("data") or {}
    source = recorded["source"] if recorded.get("source") in ("idx", "mnist", "sample") else config.data
    described = recorded.get("description", f"{source} data")
    try:
        data = load_mnist(source, config.data_dir if source in ("idx", "auto") else None, notify=notify)
    except DataError as err:
        raise DataError(f"the run trained on {described}, which cannot be loaded now: {err}") from err
    if data_fingerprint(data) != recorded.get("fingerprint"):
        raise DataError(
            f"the run trained on {described}, but the {source} data found now "
            f"({data.description}) is different; point --data-dir or MNISTKIT_DATA_DIR at the run's data"
        )
    return data


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "no options"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value)) or "none"
    return repr(value) if isinstance(value, str) else str(value)


def read_json(path: Path) -> dict[str, Any]:
    """A run directory's JSON file as a dict; ``DataError`` naming it otherwise."""
    try:
        value = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise DataError(f"{path} does not exist; is {path.parent} a run folder made by `mnistkit run`?") from None
    except (OSError, ValueError) as err:
        raise DataError(f"cannot read {path}: {err}") from None
    if not isinstance(value, dict):
        raise DataError(f"cannot read {path}: expected a JSON object")
    return value
