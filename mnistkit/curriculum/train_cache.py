"""The ``train`` stage's cache: the trained parameters and the history, keyed by the run's settings.

Another program (the next ``mnistkit lesson run``, the TUI) restores a
trained model from here instead of training again with the same settings.
"""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path
from typing import Any

from mnistkit.curriculum.context import Emit, Note, StageContext, StageResult


def cache_paths(ctx: StageContext) -> tuple[Path, Path]:
    folder = ctx.output_dir()
    return folder / "train-cache.json", folder / "train-cache.npz"


def _cache_key(ctx: StageContext) -> dict[str, Any]:
    settings = {key: value for key, value in ctx.config.to_dict().items() if key not in ("data_dir", "devices")}
    return {"settings": settings, "data": ctx.data.description if ctx.data is not None else None,
            "mnistkit": importlib.metadata.version("mnistkit")}


def save_training(ctx: StageContext) -> None:
    if not ctx.cache:
        return
    import jax
    import numpy as np
    from flax import nnx

    leaves = jax.tree.leaves(nnx.state(ctx.trained))
    if not all(isinstance(x, jax.Array) and np.issubdtype(x.dtype, np.number) for x in leaves):
        return  # e.g. random-key state: not worth a cache
    meta, arrays = cache_paths(ctx)
    try:
        meta.parent.mkdir(parents=True, exist_ok=True)
        meta.unlink(missing_ok=True)  # the arrays are valid only once the key is written after them
        with open(arrays, "wb") as f:
            np.savez(f, *[np.asarray(x) for x in leaves])
        meta.write_text(json.dumps({"key": _cache_key(ctx), "history": list(ctx.history)}))
    except OSError:
        meta.unlink(missing_ok=True)  # a cache we cannot write only means training again next time


def restore_training(ctx: StageContext, emit: Emit) -> bool:
    """Restore the train stage from the cache if it matches; True if it did."""
    if not ctx.cache:
        return False
    meta, arrays = cache_paths(ctx)
    try:
        saved = json.loads(meta.read_text())
        if saved.get("key") != json.loads(json.dumps(_cache_key(ctx))):
            return False
        import jax
        import numpy as np
        from flax import nnx

        trained = nnx.clone(ctx.model)
        state = nnx.state(trained)
        leaves, treedef = jax.tree.flatten(state)
        with np.load(arrays) as npz:
            loaded = [npz[f"arr_{i}"] for i in range(len(npz.files))]
        if len(loaded) != len(leaves) or any(a.shape != b.shape or a.dtype != b.dtype for a, b in zip(loaded, leaves)):
            return False
        nnx.update(trained, jax.tree.unflatten(treedef, [jax.numpy.asarray(x) for x in loaded]))
        history = tuple(saved["history"])
    except Exception:  # noqa: BLE001 - a missing, stale or damaged cache only means training again
        return False
    ctx.trained, ctx.history = trained, history
    ctx.results["train"] = StageResult("train", {"epochs": len(history), "history": list(history), "restored": True}, (), 0.0)
    emit(Note(f"Restored the trained model of the 'train' stage ({len(history)} epochs, same settings); "
              "`mnistkit lesson reset train` forgets it."))
    return True
