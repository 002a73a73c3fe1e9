"""Data parallelism: the same run on 1 and 4 (simulated CPU) devices agrees."""

import json
import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import json, sys, types
    import jax, numpy as np, optax
    from flax import nnx
    from mnistkit import engine
    from mnistkit_plugins.networks import TutorialCNN

    rng = np.random.default_rng(0)
    def bars(n):
        y = rng.integers(0, 10, n).astype(np.int32)
        x = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
        for i, c in enumerate(y):
            x[i, 4:24, 2 * c + 3 : 2 * c + 6] = 220
        return x, y
    (a, b), (c, d) = bars(256), bars(100)
    data = types.SimpleNamespace(train_images=a, train_labels=b, test_images=c, test_labels=d, description="bars")
    out = {}
    for devices in (1, 4):
        model = TutorialCNN(nnx.Rngs(0))
        settings = engine.Settings(epochs=1, batch_size=32, eval_batch_size=50, devices=devices)
        events = list(engine.train(model, optax.sgd(0.05), data, settings))
        leaves = jax.tree.leaves(nnx.state(model, nnx.Param))
        out[devices] = {"devices": list(events[0].devices), "history": events[-1].history,
                        "params": [np.asarray(x).ravel()[:50].tolist() for x in leaves]}
    print(json.dumps(out))
    """
)


def test_one_and_four_devices_train_to_the_same_parameters():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    out = json.loads(result.stdout.splitlines()[-1])
    one, four = out["1"], out["4"]
    assert len(one["devices"]) == 1 and len(four["devices"]) == 4
    for a, b in zip(one["params"], four["params"], strict=True):
        assert max(abs(x - y) for x, y in zip(a, b)) < 1e-4
    assert abs(one["history"][0]["test_accuracy"] - four["history"][0]["test_accuracy"]) <= 0.02
    assert abs(one["history"][0]["train_loss"] - four["history"][0]["train_loss"]) < 1e-3
