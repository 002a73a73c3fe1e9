"""JAX's persistent compilation cache, switched on before anything compiles."""

from __future__ import annotations

from pathlib import Path

from mnistkit import environment


def enable_compilation_cache() -> None:
    """Keep every compiled program on disk so a repeat run skips compiling.

    Uses ``$JAX_COMPILATION_CACHE_DIR`` when set, else ``jax`` in mnistkit's
    cache folder (``environment.cache_dir()``): compiled programs can be
    rebuilt, so they do not belong with the user's data and progress.
    ``MNISTKIT_JAX_CACHE=0`` turns it off. Small programs
    are kept too: a model's initialisers compile one program per parameter
    shape, which adds seconds to the start of a first run.
    """
    import jax

    if not environment.compilation_cache_enabled():
        return
    if not jax.config.jax_compilation_cache_dir:  # type: ignore[attr-defined]  # jax's flags are set as attributes at import
        jax.config.update("jax_compilation_cache_dir", str(compilation_cache_dir()))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def compilation_cache_dir() -> Path:
    """Where ``enable_compilation_cache`` puts the cache unless jax is told a folder: ``jax`` in the cache folder."""
    return environment.cache_dir() / "jax"
