"""``write_atomic``: the one temp-file-and-rename writer every file mnistkit keeps goes through."""

from __future__ import annotations

import os
import uuid
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step.

    The bytes go to a hidden temporary file in the same folder, which is then
    renamed over ``path``; readers see the old file or the new one, never a
    part. This guards against a crash of the process, not against power loss
    (no fsync). Raises ``OSError`` if the folder cannot be written.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    # os.open with 0o666 lets the umask decide permissions, as open() would.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
