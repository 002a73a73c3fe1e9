"""Use what a run trained: predict digits and score the test set again.

``mnistkit predict`` and ``mnistkit evaluate`` come here. The model is
rebuilt from the run's ``config.json`` through the plugin registry and its
state restored from the newest whole checkpoint; evaluation uses the
engine's own compiled evaluation step, so it reproduces the history's test
metrics.

A digit of the user's (PNG or ``.npy``, any size) is made to look like an
MNIST digit the way MNIST's were made: grey levels, light ink on black,
cropped to the ink, the longer side scaled to 20 pixels, and centred by its
centre of mass in a 28x28 field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mnistkit.errors import DataError

if TYPE_CHECKING:
    from mnistkit.data import MnistArrays
    from mnistkit.engine.settings import Snapshot
    from mnistkit.runs.config import RunConfig

DIGIT_BOX = 20
"""MNIST's digits were scaled to fit a 20x20 box, then centred in 28x28."""
FIELD = 28
INK = 0.2
"""After scaling to [0, 1], pixels above this count as ink when cropping."""


@dataclass(frozen=True)
class TrainedModel:
    """A run's model with the state of its newest checkpoint."""

    run_dir: Path
    config: RunConfig
    model: Any  # nnx.Module in eval mode
    snapshot: Snapshot
    meta: dict[str, Any]
    metrics: list  # the run's MetricSpecs, for evaluate

    @property
    def where(self) -> str:
        from mnistkit.runs.checkpoints import position

        return position(self.snapshot.epoch, self.snapshot.step)


def load_trained(run_dir: Path, registry, notify=lambda msg: None) -> TrainedModel:
    """Rebuild the run's model and load the newest whole checkpoint into it."""
    from flax import nnx

    from mnistkit.errors import ConfigError
    from mnistkit.host.build import build_model
    from mnistkit.runs.checkpoints import Checkpoints, model_template
    from mnistkit.runs.resume import run_config

    run_dir = Path(run_dir)
    config = run_config(run_dir)
    model_spec = registry.model(config.model)
    metrics = [registry.metric(name) for name in config.metrics if name in registry.metrics]
    unknown = sorted(set(config.model_options) - set(model_spec.options))
    if unknown:
        raise ConfigError(
            f"{run_dir / 'config.json'} names model {config.model!r} with option {unknown[0]!r}, which that model does "
            f"not take (its options: {', '.join(sorted(model_spec.options)) or 'none'}); the file does not match the "
            "run's checkpoints: put back the model the run was trained with"
        )
    model = build_model(model_spec, config.model_options, config.seed)
    with Checkpoints(run_dir, notify=notify) as saved:
        restored = saved.restore(model_template(model), model_only=True)
    state = nnx.state(model)
    nnx.replace_by_pure_dict(state, restored.snapshot.state)
    nnx.update(model, state)
    model.eval()
    return TrainedModel(run_dir, config, model, restored.snapshot, restored.meta, metrics)


def probabilities(model, images: np.ndarray) -> np.ndarray:
    """Softmax over the 10 classes for uint8 (N, 28, 28) images: (N, 10) float32."""
    import jax
    from flax import nnx

    from mnistkit.engine.steps import scale

    graphdef, state = nnx.split(model)

    @jax.jit
    def forward(state, images):
        return jax.nn.softmax(nnx.merge(graphdef, state)(scale(images)), axis=-1)

    return np.asarray(forward(state, np.asarray(images, np.uint8)))


def evaluate(trained: TrainedModel, data: MnistArrays) -> dict[str, float]:
    """Test metrics of the trained model on every test image, computed as the engine does."""
    from flax import nnx

    from mnistkit import engine

    kind = engine.metrics_type(trained.metrics)
    labels = np.asarray(data.test_labels, np.int32)
    batch = min(engine.Settings().eval_batch_size, len(labels))
    graphdef, state = nnx.split((trained.model, None))
    step = engine.make_eval_step(graphdef, batch, kind)
    padded = engine.pad_to_batches(data.test_images, labels, batch)
    return engine.score_test_set(step, state, padded, kind, trained.metrics, trained.snapshot.epoch - 1, labels).test


MAX_IMAGE_SIDE = 4096
"""The largest digit image ``mnistkit predict --image`` reads, in pixels on each side (README: Checkpoints)."""


def load_digit(path: Path) -> np.ndarray:
    """A user's digit image as an MNIST-like uint8 (28, 28) array; ``DataError`` if unusable."""
    return to_mnist(read_grey(path), str(path))


def read_grey(path: Path) -> np.ndarray:
    """A PNG (or any image Pillow reads) or a ``.npy`` array as float grey levels, 2-D."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no image at {path}")
    if path.suffix.lower() == ".npy":
        try:
            array = np.load(path, mmap_mode="r", allow_pickle=False)  # the header only, until checked
        except EOFError:
            raise DataError(f"{path} is empty, not a numpy array; save one with numpy.save") from None
        except (OSError, ValueError) as err:
            raise DataError(f"cannot read {path} as a numpy array: {err}") from None
        _check_size(array.shape[:2], path)
        if np.iscomplexobj(array):
            raise DataError(f"{path} holds complex numbers; a digit is real grey levels (take .real or abs() first)")
        return _grey(np.asarray(array), path)
    import warnings

    from PIL import Image, UnidentifiedImageError

    image: Image.Image  # the opened file, or the drawing put on white
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                _check_size(image.size[::-1], path)
                if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
                    # A drawing on a transparent background: put it on white.
                    rgba = image.convert("RGBA")
                    background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                    image = Image.alpha_composite(background, rgba)
                return np.asarray(image.convert("L"), dtype=np.float64)
    except Image.DecompressionBombError:
        raise DataError(f"{path} is too large to read safely; a digit image may be at most "
                        f"{MAX_IMAGE_SIDE}x{MAX_IMAGE_SIDE} pixels") from None
    except (OSError, UnidentifiedImageError, ValueError) as err:
        raise DataError(f"cannot read {path} as an image: {err}") from None


def _check_size(shape, path: Path) -> None:
    """``DataError`` for an image larger than ``MAX_IMAGE_SIDE`` on a side, before its pixels are read."""
    if any(side > MAX_IMAGE_SIDE for side in shape):
        size = "x".join(str(side) for side in shape)
        raise DataError(f"{path} is {size} pixels; a digit image may be at most {MAX_IMAGE_SIDE}x{MAX_IMAGE_SIDE}: "
                        "scale it down first")


def _grey(array: np.ndarray, path: Path) -> np.ndarray:
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[-1] in (1, 3, 4):
        array = array[..., :3].mean(axis=-1) if array.shape[-1] >= 3 else array[..., 0]
    if array.ndim != 2 or min(array.shape) < 1:
        raise DataError(f"{path} holds an array of shape {array.shape}; a digit is (H, W), (H, W, 1), (H, W, 3) or (H, W, 4)")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise DataError(f"{path} holds {array.dtype} values, not numbers")
    grey = array.astype(np.float64)
    if not np.isfinite(grey).all():
        raise DataError(f"{path} holds NaN or infinite values")
    return grey


def to_mnist(grey: np.ndarray, source: str = "the image") -> np.ndarray:
    """Grey levels of any size and polarity -> an MNIST-style uint8 (28, 28) digit.

    Stretches the levels to [0, 1], inverts dark-on-light drawings (judged
    by the border), crops to the ink, scales the longer side to 20 pixels
    (keeping the aspect ratio) and places the result in a 28x28 field with
    its centre of mass at the centre.
    """
    low, high = float(grey.min()), float(grey.max())
    if not np.isfinite(high - low):
        raise DataError(f"{source} holds values too large to be grey levels ({low:g} to {high:g})")
    if high - low < 1e-6:
        raise DataError(f"{source} is blank (every pixel is {low:g}); draw a digit")
    level = (grey - low) / (high - low)
    border = np.concatenate([level[0], level[-1], level[:, 0], level[:, -1]])
    if np.median(border) > 0.5:
        level = 1.0 - level
    rows, cols = np.nonzero(level > INK)
    if rows.size == 0:
        raise DataError(f"{source} has no clear ink: no pixel stands out from the background")
    crop = level[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    digit = _resize(crop, DIGIT_BOX / max(crop.shape))
    return _centre(digit)


def _resize(level: np.ndarray, factor: float) -> np.ndarray:
    from PIL import Image

    height, width = (max(1, round(n * factor)) for n in level.shape)
    image = Image.fromarray(level.astype(np.float32))
    return np.clip(np.asarray(image.resize((width, height), Image.Resampling.LANCZOS)), 0.0, 1.0)


def _centre(digit: np.ndarray) -> np.ndarray:
    """Paste ``digit`` into a 28x28 field so its centre of mass lands at the field's centre."""
    rows, cols = np.indices(digit.shape)
    mass = digit.sum()
    centre_row, centre_col = (rows * digit).sum() / mass, (cols * digit).sum() / mass
    top = round((FIELD - 1) / 2 - centre_row)
    left = round((FIELD - 1) / 2 - centre_col)
    field = np.zeros((FIELD, FIELD))
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + digit.shape[0], FIELD), min(left + digit.shape[1], FIELD)
    field[r0:r1, c0:c1] = digit[r0 - top : r1 - top, c0 - left : c1 - left]
    return np.round(field * 255).astype(np.uint8)
