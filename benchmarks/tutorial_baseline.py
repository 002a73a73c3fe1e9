"""BASELINE: a faithful port of the original Flax NNX MNIST tutorial's training loop.

This file is the yardstick for ``benchmarks/run.py``, not part of mnistkit.
It keeps the original loop's structure and its costs, ported from
``flax.experimental.nnx`` to today's ``flax.nnx`` API:

- tf.data on the host: scale to [0, 1], ``repeat()`` then ``shuffle(1024)``
  (so epochs mix), ``batch(32, drop_remainder=True)``, ``prefetch(1)``;
- one ``nnx.jit`` train step per batch that updates the model, then a second
  ``nnx.jit`` forward pass over the same batch to compute the training
  metrics (clu ``Accuracy`` and ``Average`` of the loss);
- after each epoch, evaluation over the test set batched like the training
  set.

Two deliberate differences, so the numbers compare with mnistkit's: the data
comes from the four IDX files (the original called ``tfds.load``; the
pipeline after loading is the same), and the test set is batched *without*
``drop_remainder`` so accuracy is over all 10,000 images (the original
scored 9,984). Prints one JSON object per epoch and a final summary line.
"""

import argparse
import json
import resource
import sys
import time

T0 = time.perf_counter()

import jax
import optax
import tensorflow as tf
from clu import metrics
from flax import nnx, struct
from mnistkit_plugins.networks import TutorialCNN

from mnistkit.data import load_mnist


@struct.dataclass
class Metrics(metrics.Collection):
    accuracy: metrics.Accuracy
    loss: metrics.Average.from_output("loss")


def loss_fn(model, batch):
    logits = model(batch["image"])
    loss = optax.softmax_cross_entropy_with_integer_labels(logits=logits, labels=batch["label"]).mean()
    return loss, logits


@nnx.jit
def train_step(model, optimizer, batch):
    grad_fn = nnx.value_and_grad(loss_fn, has_aux=True)
    (_loss, _logits), grads = grad_fn(model, batch)
    optimizer.update(model, grads)


@nnx.jit
def compute_metrics(model, batch):
    loss, logits = loss_fn(model, batch)
    return Metrics.single_from_model_output(logits=logits, labels=batch["label"], loss=loss)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-steps", type=int, default=None, help="cap steps per epoch (quick mode)")
    args = parser.parse_args()

    data = load_mnist("idx", args.data_dir)
    tf.random.set_seed(0)

    def scale(image, label):
        return {"image": tf.cast(image, tf.float32)[..., None] / 255.0, "label": tf.cast(label, tf.int32)}

    steps = len(data.train_images) // args.batch_size
    if args.max_steps:
        steps = min(steps, args.max_steps)
    train_ds = (
        tf.data.Dataset.from_tensor_slices((data.train_images, data.train_labels)).map(scale)
        .repeat().shuffle(1024).batch(args.batch_size, drop_remainder=True).take(steps * args.epochs).prefetch(1)
    )
    test_ds = tf.data.Dataset.from_tensor_slices((data.test_images, data.test_labels)).map(scale).batch(args.batch_size).prefetch(1)

    model = TutorialCNN(nnx.Rngs(0))
    optimizer = nnx.Optimizer(model, optax.adamw(0.005, b1=0.9), wrt=nnx.Param)
    train_metrics = Metrics.empty()
    compile_seconds = None
    epoch, epoch_start, history = 1, time.perf_counter(), []
    for step, batch in enumerate(train_ds.as_numpy_iterator(), start=1):
        train_step(model, optimizer, batch)
        train_metrics = train_metrics.merge(compute_metrics(model, batch))
        if compile_seconds is None:
            jax.block_until_ready(nnx.state(model))
            compile_seconds = time.perf_counter() - epoch_start
            first_step_at = time.perf_counter() - T0
        if step % steps == 0:
            train_values = {k: float(v) for k, v in train_metrics.compute().items()}
            train_seconds = time.perf_counter() - epoch_start
            test_metrics = Metrics.empty()
            for test_batch in test_ds.as_numpy_iterator():
                test_metrics = test_metrics.merge(compute_metrics(model, test_batch))
            test_values = {k: float(v) for k, v in test_metrics.compute().items()}
            row = {"epoch": epoch, "train_seconds": train_seconds, "epoch_seconds": time.perf_counter() - epoch_start,
                   "train_loss": train_values["loss"], "train_accuracy": train_values["accuracy"],
                   "test_loss": test_values["loss"], "test_accuracy": test_values["accuracy"],
                   "elapsed": time.perf_counter() - T0}
            history.append(row)
            print(json.dumps(row), flush=True)
            train_metrics, epoch, epoch_start = Metrics.empty(), epoch + 1, time.perf_counter()
    print(json.dumps({
        "summary": True, "backend": jax.default_backend(), "steps_per_epoch": steps, "batch_size": args.batch_size,
        "compile_seconds": compile_seconds, "first_step_at": first_step_at,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "history": history,
        "process_seconds": time.perf_counter() - T0,
    }), flush=True)


if __name__ == "__main__":
    sys.exit(main())
