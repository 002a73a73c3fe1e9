"""Every environment variable mnistkit reads, in one place.

=========================  ====================================================
``MNISTKIT_HOME``          mnistkit's own folder: progress, imported MNIST, the
                           lessons' results (default: the platform's user data
                           folder, ``platformdirs.user_data_dir("mnistkit")``);
                           when set, the cache folder is its ``cache``
``MNISTKIT_DATA_DIR``      a folder with the four MNIST IDX ``.gz`` files, used
                           by ``--data auto`` and ``idx`` when no ``--data-dir``
                           is given
``MNISTKIT_RUNS_DIR``      where new run folders go when no ``--out`` is given
                           (default: ``./runs``)
``MNISTKIT_OFFLINE``       set, and not ``0``: never try to download MNIST
``MNISTKIT_PLUGINS``       more plugins to load, ``.py`` paths or module names
                           separated by ``os.pathsep``
``MNISTKIT_DISABLE_PLUGINS``  plugin names to skip, separated by ``os.pathsep``
                           or commas
``MNISTKIT_JAX_CACHE``     ``0`` turns the compilation cache off; the cache
                           lives in ``jax`` under the platform's user cache
                           folder (``platformdirs.user_cache_dir("mnistkit")``),
                           or under ``$MNISTKIT_HOME/cache`` when that is set
``JAX_COMPILATION_CACHE_DIR``  where the compilation cache goes instead (jax's
                           own)
``TFDS_DATA_DIR``          tensorflow-datasets' data folder (tfds' own rule;
                           default ``~/tensorflow_datasets``)
``JAX_COORDINATOR_ADDRESS``  process 0's ``host:port`` for ``--distributed``
                           when ``--coordinator`` is not given (jax's own)
=========================  ====================================================

Each is read when asked for, not at import, so tests and long-lived programs
see changes. Importing this module is cheap: the standard library only.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_RUNS_DIR = Path("runs")


def home_dir() -> Path:
    """mnistkit's home: ``$MNISTKIT_HOME`` or the platform's user data folder."""
    env = os.environ.get("MNISTKIT_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("mnistkit"))


def cache_dir() -> Path:
    """mnistkit's cache folder, whose contents can be deleted at any time.

    ``$MNISTKIT_HOME/cache`` when ``MNISTKIT_HOME`` is set (it moves everything
    mnistkit keeps, so a test or a sandbox can point it away from the user's
    folders), else the platform's user cache folder.
    """
    env = os.environ.get("MNISTKIT_HOME")
    if env:
        return Path(env).expanduser() / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir("mnistkit"))


def data_dir_variable() -> Path | None:
    """``$MNISTKIT_DATA_DIR``, or None when it is unset or empty."""
    env = os.environ.get("MNISTKIT_DATA_DIR")
    return Path(env).expanduser() if env else None


def data_dir(given: str | os.PathLike | None, source: str = "auto") -> str | None:
    """The IDX folder a run of data ``source`` reads: ``given``, else ``$MNISTKIT_DATA_DIR`` for auto and idx.

    The variable never applies to ``sample`` or ``mnist``, so setting it
    does not stop ``--data sample`` from working; a ``--data-dir`` given
    with them is still the user's contradiction to hear about.
    """
    if given is not None:
        return str(given)
    if source not in ("auto", "idx"):
        return None
    env = data_dir_variable()
    return str(env) if env is not None else None


def runs_dir(given: str | os.PathLike | None = None) -> Path:
    """Where new run folders go: ``given`` (``--out``), else ``$MNISTKIT_RUNS_DIR``, else ``./runs``."""
    if given is not None:
        return Path(given)
    env = os.environ.get("MNISTKIT_RUNS_DIR")
    return Path(env).expanduser() if env else DEFAULT_RUNS_DIR


def tfds_data_dir() -> Path:
    """The tensorflow-datasets data folder: ``$TFDS_DATA_DIR`` or ``~/tensorflow_datasets``."""
    return Path(os.environ.get("TFDS_DATA_DIR") or "~/tensorflow_datasets").expanduser()


def offline_forced() -> bool:
    """True when ``$MNISTKIT_OFFLINE`` is set to a non-empty value other than 0."""
    return os.environ.get("MNISTKIT_OFFLINE", "") not in ("", "0")


def plugin_refs() -> list[str]:
    """``$MNISTKIT_PLUGINS``: plugin paths or module names, in order."""
    return [item.strip() for item in os.environ.get("MNISTKIT_PLUGINS", "").split(os.pathsep) if item.strip()]


def disabled_plugins() -> set[str]:
    """``$MNISTKIT_DISABLE_PLUGINS``: plugin names, separated by ``os.pathsep`` or commas."""
    raw = os.environ.get("MNISTKIT_DISABLE_PLUGINS", "").replace(",", os.pathsep)
    return {item.strip() for item in raw.split(os.pathsep) if item.strip()}


def compilation_cache_enabled() -> bool:
    """False when ``$MNISTKIT_JAX_CACHE`` is ``0``."""
    return os.environ.get("MNISTKIT_JAX_CACHE", "1") != "0"


def coordinator_address() -> str | None:
    """``$JAX_COORDINATOR_ADDRESS``: process 0's address for a ``--distributed`` run, or None."""
    return os.environ.get("JAX_COORDINATOR_ADDRESS") or None
