"""Deferred imports of TensorFlow and tensorflow-datasets, set up for mnistkit.

TensorFlow takes seconds to import and only feeds data here, so nothing in
``mnistkit.data`` imports it at module level. When it is imported, it is kept
quiet and away from any GPU (JAX owns the accelerator), and tfds progress bars
are off because they would scribble over the CLI's and the TUI's output.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator
from types import ModuleType


def import_tensorflow() -> ModuleType:
    """Import TensorFlow silently, with no GPU visible to it."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    with _stderr_fd_silenced():
        import tensorflow as tf
    try:
        tf.config.set_visible_devices([], "GPU")
    except RuntimeError:
        pass  # TensorFlow's devices were already initialised by someone else.
    return tf


@contextlib.contextmanager
def tfds_quiet() -> Iterator[None]:
    """Swallow what tfds prints to stdout while it downloads and prepares.

    tfds announces preparation with ``termcolor.cprint`` (naming its temporary
    directories), which would land in the middle of the CLI's or TUI's output;
    mnistkit reports progress through its own ``notify`` lines instead.
    """
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def import_tfds() -> ModuleType:
    """Import tensorflow-datasets (and TensorFlow) with progress bars off."""
    import_tensorflow()
    import tensorflow_datasets as tfds

    tfds.disable_progress_bar()
    return tfds


@contextlib.contextmanager
def _stderr_fd_silenced() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null for the duration.

    TensorFlow's C++ runtime writes oneDNN and CPU-feature notices straight to
    fd 2 while it loads, before ``TF_CPP_MIN_LOG_LEVEL`` takes effect; they
    would corrupt the TUI's screen. Python exceptions still propagate.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
