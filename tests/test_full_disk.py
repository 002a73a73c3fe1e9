"""A full disk: one line that says what was kept, no traceback flood, no half-written checkpoint left behind.

Each case mounts a small tmpfs, which needs root (CI and the dev machines run
as root); elsewhere the tests skip and say why.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def small_disk(tmp_path):
    """``small_disk(size)``: a fresh tmpfs of ``size`` (such as "3m") mounted in ``tmp_path``."""
    mounted = []

    def mount(size: str) -> Path:
        where = tmp_path / f"disk-{size}"
        where.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip() or 'not root'})")
        mounted.append(where)
        return where

    yield mount
    for where in mounted:
        subprocess.run(["umount", str(where)], capture_output=True)


@pytest.mark.parametrize(("size", "kept"), [("3m", "no checkpoint was saved before this one"),
                                            ("13m", "the checkpoint after epoch 1 is kept")])
def test_a_full_disk_is_one_line_saying_what_was_kept_and_leaves_no_temporary_folder(small_disk, size, kept, tmp_path):
    disk = small_disk(size)
    env = dict(os.environ, MNISTKIT_HOME=str(tmp_path / "home"), MNISTKIT_OFFLINE="1")
    done = subprocess.run([sys.executable, "-m", "mnistkit", "run", "--data", "sample", "--epochs", "3",
                           "--out", str(disk / "runs")], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    (line,) = lines
    assert line.startswith("mnistkit: error: cannot write a checkpoint in ")
    assert "the disk is full" in line and kept in line
    assert list(disk.rglob("*.orbax-checkpoint-tmp*")) == []
