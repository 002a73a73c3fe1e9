"""Whether a checkpoint is whole and fits the model: the manifest, the arrays' SHA-256, the tree's shapes.

Used by ``mnistkit.runs.checkpoints``; a damaged or foreign checkpoint is a
``DataError`` or a ``ConfigError`` with a message that names what is wrong.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mnistkit.errors import ConfigError, DataError

MANIFEST = "manifest.sha256.json"
"""In each checkpoint folder: the SHA-256 of every file, checked before orbax reads any."""


def fit(template: Any, restored: Any, run_dir: Path, path: str = "") -> Any:
    """``restored`` (string keys, as orbax reads them) in the key types of ``template``.

    Raises ``ConfigError`` naming the first array that is missing, extra or
    of another shape or dtype: the checkpoint was made by a different model.
    """
    if isinstance(template, Mapping):
        if not isinstance(restored, Mapping):
            raise _mismatch(run_dir, path, "is an array in the checkpoint but a group in the model")
        by_name = {str(k): k for k in template}
        for name in restored:
            if str(name) not in by_name:
                raise _mismatch(run_dir, _join(path, name), "is in the checkpoint but not in the model")
        out = {}
        for name, key in by_name.items():
            if name not in restored:
                raise _mismatch(run_dir, _join(path, name), "is in the model but not in the checkpoint")
            out[key] = fit(template[key], restored[name], run_dir, _join(path, name))
        return out
    if isinstance(restored, Mapping):
        raise _mismatch(run_dir, path, "is a group in the checkpoint but an array in the model")
    want, got = _signature(template), _signature(restored)
    if want != got:
        raise _mismatch(run_dir, path, f"is {got[0]}{list(got[1])} in the checkpoint but {want[0]}{list(want[1])} in the model")
    return restored


def _join(path: str, name: Any) -> str:
    return f"{path}.{name}" if path else str(name)


def _mismatch(run_dir: Path, path: str, what: str) -> ConfigError:
    readable = path.replace("0.", "model.", 1) if path.startswith("0.") else path
    readable = readable.replace("1.", "optimizer.", 1) if readable.startswith("1.") else readable
    return ConfigError(
        f"the checkpoint in {run_dir} was made by a different model: {readable} {what}; "
        "resume with the model and options the run was started with"
    )


def _signature(leaf: Any) -> tuple[str, tuple[int, ...]]:
    dtype = getattr(leaf, "dtype", None)
    if is_key(leaf):
        import jax

        return f"key<{jax.random.key_impl(leaf)}>", tuple(leaf.shape)
    return str(np.dtype(dtype) if dtype is not None else np.asarray(leaf).dtype), tuple(np.shape(leaf))


def is_key(leaf: Any) -> bool:
    dtype = getattr(leaf, "dtype", None)
    if dtype is None or isinstance(dtype, np.dtype):
        return False
    import jax

    return jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key)


def _leaves(tree: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(tree, Mapping):
        for key in tree:
            yield from _leaves(tree[key], _join(path, key))
    else:
        yield path, tree


def checksum(state: Any, running: Any) -> str:
    """SHA-256 over every array's path, dtype, shape and bytes; key types do not matter."""
    digest = hashlib.sha256()
    for path, leaf in sorted(_leaves({"state": state, "running": running or {}})):
        if is_key(leaf):
            import jax

            leaf = jax.random.key_data(leaf)
        array = np.ascontiguousarray(np.asarray(leaf))
        digest.update(f"{path}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def write_manifest(folder: Path) -> None:
    from mnistkit.atomic import write_atomic

    paths = [p for p in sorted(folder.rglob("*")) if p.is_file() and p.name != MANIFEST]
    files = {str(p.relative_to(folder)): _file_sha256(p) for p in paths}
    write_atomic(folder / MANIFEST, json.dumps(files, indent=1).encode())


def check_manifest(folder: Path) -> None:
    """``DataError`` if a file of the checkpoint changed since it was saved.

    Damaged files are caught here rather than by orbax, whose reader reports
    them once per array on the terminal. A checkpoint without a manifest (the
    process ended between orbax's rename and the manifest) is still guarded
    by the arrays' SHA-256 in ``meta``.
    """
    path = folder / MANIFEST
    if not path.is_file():
        return
    try:
        files = json.loads(path.read_text())
        for name, digest in files.items():
            if _file_sha256(folder / name) != digest:
                raise DataError(f"the checkpoint {folder} is damaged ({name} changed after it was saved)")
    except FileNotFoundError as err:
        raise DataError(f"the checkpoint {folder} is damaged ({Path(err.filename).name} is missing)") from None
    except (OSError, ValueError, AttributeError) as err:
        raise DataError(f"the checkpoint {folder} is damaged ({reason(err)})") from None


def _file_sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def reason(err: BaseException) -> str:
    """The most telling line of an error orbax may have wrapped several times."""
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, OSError) and seen.strerror:
            return f"{seen.strerror}" + (f": {seen.filename}" if seen.filename else "")
        seen = seen.__cause__ or seen.__context__
    if _disk_full(err):
        return "the disk is full"
    text = str(err).strip().splitlines()
    line = text[0].split(" [tensorstore_spec=")[0] if text else type(err).__name__
    return line if len(line) <= 300 else line[:297] + "..."


def _disk_full(err: BaseException) -> bool:
    """Whether ``err`` (or what it wraps) says the disk is full, in the words of the OS, orbax or tensorstore."""
    import errno

    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        text = str(seen)
        if "RESOURCE_EXHAUSTED" in text or "No space left on device" in text:
            return True
        seen = seen.__cause__ or seen.__context__
    return False
