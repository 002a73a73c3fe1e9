"""The least time an epoch of the tutorial recipe can take on this machine, from its arithmetic.

    python benchmarks/floor.py      # prints one JSON object

XLA's own cost analysis gives the floating-point operations of one compiled
train step (the tutorial's CNN, adamw, batch 32) and of scoring the 10,000
test images; the best of a few large float32 matrix products gives the most
this backend computes per second. Their quotient is a floor no formulation
of the same math gets under: it assumes every operation runs as fast as the
biggest matrix product, and ignores memory traffic and the elementwise work.
"""

from __future__ import annotations

import json
import time

import jax
import jax.numpy as jnp
import optax
from flax import nnx
from mnistkit_plugins.networks import TutorialCNN

from mnistkit import engine

TRAIN_IMAGES, TEST_IMAGES, BATCH = 60_000, 10_000, 32


def peak_matmul_flops(size: int = 2048, repeats: int = 8) -> float:
    """The best float32 operations per second of ``size``-square matrix products."""
    a = jax.random.normal(jax.random.key(0), (size, size))
    product = jax.jit(lambda x: x @ x)
    product(a).block_until_ready()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        product(a).block_until_ready()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def flops(compiled) -> float:
    analysis = compiled.cost_analysis()
    return float((analysis[0] if isinstance(analysis, list) else analysis)["flops"])


def main() -> dict:
    model = TutorialCNN(nnx.Rngs(0), conv="xla")  # the tutorial's own layers; every formulation does the same math
    optimizer = nnx.Optimizer(model, optax.adamw(0.005, b1=0.9), wrt=nnx.Param)
    graphdef, state = nnx.split((model, optimizer))
    images, labels = jnp.zeros((2 * BATCH, 28, 28), jnp.uint8), jnp.zeros(2 * BATCH, jnp.int32)
    step = engine.make_train_step(graphdef, BATCH, engine.Metrics)
    step_flops = flops(step.lower(state, engine.Metrics.empty(), images, labels, jnp.arange(2 * BATCH), 0, 1).compile())
    evaluate = engine.make_eval_step(graphdef, 1000)
    test = jnp.zeros((1000, 28, 28), jnp.uint8), jnp.zeros(1000, jnp.int32), jnp.ones(1000, bool)
    eval_flops = flops(evaluate.lower(state, *test, 0).compile()) * TEST_IMAGES / 1000
    peak = peak_matmul_flops()
    epoch_flops = TRAIN_IMAGES // BATCH * step_flops + eval_flops
    return {
        "train_step_gflop": step_flops / 1e9,
        "epoch_gflop": epoch_flops / 1e9,
        "peak_matmul_gflops": peak / 1e9,
        "epoch_floor_seconds": epoch_flops / peak,
    }


if __name__ == "__main__":
    print(json.dumps(main()))
