"""Checkpoints round-trip exactly, never load wrong, and say clearly when they cannot be used."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import jax
import numpy as np
import optax
import pytest
from flax import nnx
from mnistkit_plugins.networks import MLP, BatchNormCNN

from mnistkit.engine.settings import Snapshot
from mnistkit.errors import ConfigError, DataError, OutputError
from mnistkit.runs import checkpoints as ck
from mnistkit.runs.integrity import MANIFEST, is_key

STEPS = 10


def tiny_data():
    rng = np.random.default_rng(0)
    return SimpleNamespace(
        train_images=rng.integers(0, 256, (40, 28, 28), dtype=np.uint8), train_labels=np.arange(40) % 10,
        test_images=rng.integers(0, 256, (10, 28, 28), dtype=np.uint8), test_labels=np.arange(10) % 10,
        source="idx", description="40 random digits",
    )


def meta():
    return ck.run_meta({"model": "cnn-bn", "model_options": {}}, tiny_data(), steps_per_epoch=STEPS)


def bn_state(seed: int = 0) -> dict:
    """A pure state with every kind of leaf: float arrays, counters, BatchNorm stats, a Dropout PRNG key."""
    model = BatchNormCNN(nnx.Rngs(seed), features=4)
    return jax.device_get(ck.state_template(model, optax.adamw(0.01)))


def template() -> dict:
    return bn_state(seed=1)


def save(run_dir: Path, epoch: int, step: int = 0, state=None, running=None, history=()) -> None:
    with ck.Checkpoints(run_dir, meta()) as saved:
        saved.save(Snapshot(epoch, step, state if state is not None else bn_state(epoch), running, tuple(history)))


def leaves_equal(a, b) -> bool:
    def plain(x):
        return np.asarray(jax.random.key_data(x)) if is_key(x) else np.asarray(x)

    la, lb = jax.tree.leaves(a), jax.tree.leaves(b)
    return len(la) == len(lb) and all(np.array_equal(plain(x), plain(y)) for x, y in zip(la, lb))


def test_a_snapshot_round_trips_bit_exactly_with_keys_counters_and_history(tmp_path):
    state = bn_state(3)
    running = {"accuracy": {"total": np.float32(3.0), "count": np.int32(4)},
               "loss": {"total": np.float32(1.5), "count": np.int32(4)}}
    history = ({"epoch": 1, "train_loss": 0.123456789, "test_accuracy": 0.5},)

    save(tmp_path, epoch=2, step=3, state=state, running=running, history=history)
    with ck.Checkpoints(tmp_path) as saved:
        restored = saved.restore(template())

    snapshot = restored.snapshot
    assert (snapshot.epoch, snapshot.step, restored.step) == (2, 3, STEPS + 3)
    assert snapshot.history == history
    assert leaves_equal(snapshot.state, state)
    assert leaves_equal(snapshot.running, running)
    assert set(snapshot.state) == {0, 1}, "keys come back with the model's types, so nnx accepts them"
    assert restored.meta["data"]["fingerprint"] == ck.data_fingerprint(tiny_data())


def test_only_the_last_few_checkpoints_are_kept(tmp_path):
    for epoch in range(2, 7):
        save(tmp_path, epoch)
    assert ck.Checkpoints(tmp_path).steps() == [30, 40, 50]
    assert ck.KEEP == 3


def test_a_leftover_temporary_folder_from_a_crash_is_ignored(tmp_path):
    save(tmp_path, epoch=2)
    leftover = tmp_path / "checkpoints" / f"20{ck.TMP_MARKER}-1234"
    leftover.mkdir()
    (leftover / "half-written").write_bytes(b"\0" * 100)

    with ck.Checkpoints(tmp_path) as saved:
        assert saved.steps() == [10]
        assert saved.restore(template()).snapshot.epoch == 2


def truncate_arrays(step_dir: Path) -> None:
    for path in step_dir.rglob("*"):
        if path.is_file() and path.parent.name == "d":
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def flip_bytes(step_dir: Path) -> None:
    for path in step_dir.rglob("*"):
        if path.is_file() and path.parent.name == "d":
            raw = bytearray(path.read_bytes())
            raw[len(raw) // 2] ^= 0xFF
            path.write_bytes(bytes(raw))


@pytest.mark.parametrize("damage", [truncate_arrays, flip_bytes], ids=["truncated", "flipped-bytes"])
def test_a_damaged_newest_checkpoint_falls_back_to_the_previous_one(tmp_path, damage):
    save(tmp_path, epoch=2)
    save(tmp_path, epoch=3)
    damage(tmp_path / "checkpoints" / "20")
    warnings = []

    with ck.Checkpoints(tmp_path, notify=warnings.append) as saved:
        restored = saved.restore(template())

    assert restored.snapshot.epoch == 2
    assert leaves_equal(restored.snapshot.state, bn_state(2))
    assert len(warnings) == 1 and "checkpoints/20 is damaged" in warnings[0] and "previous" in warnings[0]


def test_without_its_manifest_a_checkpoint_is_still_checked_against_the_arrays_sha256(tmp_path):
    save(tmp_path, epoch=2)
    save(tmp_path, epoch=3)
    newest = tmp_path / "checkpoints" / "20"
    (newest / MANIFEST).unlink()
    meta_file = newest / "meta" / "metadata"
    meta_file.write_text(meta_file.read_text().replace('"checksum": "', '"checksum": "0'))
    warnings = []

    restored = ck.Checkpoints(tmp_path, notify=warnings.append).restore(template())

    assert restored.snapshot.epoch == 2
    assert "do not match their SHA-256" in warnings[0]


def test_when_no_checkpoint_is_whole_the_error_says_so(tmp_path):
    save(tmp_path, epoch=2)
    truncate_arrays(tmp_path / "checkpoints" / "10")
    with pytest.raises(DataError, match="no checkpoint in .* is whole"):
        ck.Checkpoints(tmp_path).restore(template())


def test_a_run_without_checkpoints_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="has no checkpoint"):
        ck.Checkpoints(tmp_path).restore(template())


def test_a_checkpoint_of_another_model_names_the_first_array_that_differs(tmp_path):
    save(tmp_path, epoch=2)
    other = jax.device_get(ck.state_template(BatchNormCNN(nnx.Rngs(0), features=8), optax.adamw(0.01)))
    differs = r"different model: model\.\S+ is float32\[.*\] in the checkpoint but float32\[.*\] in the model"
    with pytest.raises(ConfigError, match=differs):
        ck.Checkpoints(tmp_path).restore(other)
    mlp = jax.device_get(ck.state_template(MLP(nnx.Rngs(0)), optax.adamw(0.01)))
    with pytest.raises(ConfigError, match="different model"):
        ck.Checkpoints(tmp_path).restore(mlp)


def test_a_checkpoint_of_another_format_version_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(ck, "FORMAT_VERSION", 99)
    save(tmp_path, epoch=2)
    monkeypatch.setattr(ck, "FORMAT_VERSION", 1)
    with pytest.raises(ConfigError, match="format version 99 .* reads version 1"):
        ck.Checkpoints(tmp_path).restore(template())


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS], ids=["disk-full", "read-only"])
def test_a_failed_write_is_one_clear_error_and_keeps_the_previous_checkpoint(tmp_path, monkeypatch, code):
    save(tmp_path, epoch=2)
    real_rename = os.rename

    def failing_rename(src, dst, *args, **kwargs):
        if ck.TMP_MARKER in str(src):
            raise OSError(code, os.strerror(code), str(src))
        return real_rename(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "rename", failing_rename)
    with pytest.raises(OutputError, match=f"cannot write a checkpoint in {tmp_path / 'checkpoints'}: {os.strerror(code)}"):
        save(tmp_path, epoch=3)
    monkeypatch.setattr(os, "rename", real_rename)

    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["10"], "no temporary folder is left"
    assert ck.Checkpoints(tmp_path).restore(template()).snapshot.epoch == 2


def test_saving_after_a_fallback_replaces_the_abandoned_newer_checkpoints(tmp_path):
    for epoch in (2, 3, 4):
        save(tmp_path, epoch)
    save(tmp_path, epoch=3, step=5)  # resumed from epoch 2's checkpoint and stopped mid-epoch
    with ck.Checkpoints(tmp_path) as saved:
        assert saved.steps() == [10, 20, 25]
        assert (saved.restore(template()).snapshot.epoch, saved.restore(template()).snapshot.step) == (3, 5)


def test_stopping_right_after_a_save_does_not_rewrite_the_checkpoint(tmp_path):
    with ck.Checkpoints(tmp_path, meta()) as saved:
        saved.save(Snapshot(2, 0, bn_state(2), None, ()))
        first = (tmp_path / "checkpoints" / "10").stat().st_mtime_ns
        time.sleep(0.01)
        saved.save(Snapshot(2, 0, bn_state(2), None, ()))
    assert (tmp_path / "checkpoints" / "10").stat().st_mtime_ns == first


CRASHER = textwrap.dedent("""
    import sys
    import numpy as np
    from mnistkit.runs import checkpoints as ck
    from mnistkit.engine.settings import Snapshot

    def state(epoch):
        return {0: {"w": np.full(2_000_000, epoch, np.float32)}, 1: {"count": np.int32(epoch)}}

    meta = {"format_version": ck.FORMAT_VERSION, "config": {}, "steps_per_epoch": 1, "data": {}}
    with ck.Checkpoints(sys.argv[1], meta) as saved:
        for epoch in range(2, 10_000):
            saved.save(Snapshot(epoch, 0, state(epoch), None, ()))
            print(epoch, flush=True)
""")


def test_a_crash_in_the_middle_of_writing_leaves_the_last_whole_checkpoint(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", CRASHER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        for line in proc.stdout:
            if int(line) >= 4:
                break
        time.sleep(0.05)  # somewhere inside the next save
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    template_ = {0: {"w": np.zeros(2_000_000, np.float32)}, 1: {"count": np.int32(0)}}
    restored = ck.Checkpoints(tmp_path).restore(template_)
    epoch = restored.snapshot.epoch
    assert epoch >= 4
    assert np.all(restored.snapshot.state[0]["w"] == epoch) and int(restored.snapshot.state[1]["count"]) == epoch
