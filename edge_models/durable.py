"""Crash-safe files: a temp file beside the target, fsync, rename over it, fsync the folder.

A crash at any moment leaves either the old file or the new one, whole; never a torn one. Used by
the manifests and installed-model store, the training bundles, the exports and the video segments.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_file_atomically(path: Path, payload: bytes) -> Path:
    """Write `payload` to `path` durably; the temp file is removed if anything fails."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(payload)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return path


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (a no-op where the OS cannot open a folder, as Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse to fsync a folder; the rename itself has happened
    finally:
        os.close(fd)
