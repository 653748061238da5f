"""Where the service keeps bytes: one small interface, a local folder behind it for now.

Blobs are content-addressed (their key is their sha256), so writing the same bytes twice stores
them once and a key names exactly one content. Writes are crash-safe: temp file, fsync, rename.
S3-compatible storage is the scale-out target: another class with these methods.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Iterator, Protocol

from edge_models.durable import fsync_dir

COPY_BLOCK_BYTES = 1 << 20


class BlobStore(Protocol):
    def put_stream(self, source: BinaryIO, sha256: str) -> str: ...
    def adopt_file(self, path: Path, sha256: str) -> str: ...
    def open(self, key: str) -> BinaryIO: ...
    def delete(self, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...


class BlobHashMismatch(ValueError):
    """The bytes handed to the store do not hash to the key they were handed with."""


class LocalFolderBlobs:
    """Blobs as files `root/ab/abcdef...` (the first two hex digits fan the folder out)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError("a blob key is a lower-case sha256")
        return self.root / key[:2] / key

    def put_stream(self, source: BinaryIO, sha256: str) -> str:
        """Store the stream's bytes under `sha256`; BlobHashMismatch (nothing kept) if they differ."""
        target = self._path(sha256)
        if target.exists():
            return sha256
        target.parent.mkdir(exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".blob.", dir=target.parent)
        try:
            digest = _copy_hashing(source, fd)
            if digest != sha256:
                raise BlobHashMismatch(f"blob bytes hash to {digest[:12]}..., not {sha256[:12]}...")
            os.replace(tmp_name, target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        fsync_dir(target.parent)
        return sha256

    def adopt_file(self, path: Path, sha256: str) -> str:
        """Keep a file whose sha256 the caller has verified, without copying it (a hard link).

        The caller's name stays valid until it removes it; a crash between the two leaves both.
        """
        target = self._path(sha256)
        if not target.exists():
            target.parent.mkdir(exist_ok=True)
            try:
                os.link(path, target)
            except FileExistsError:
                pass
            fsync_dir(target.parent)
        return sha256

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        fsync_dir(path.parent)

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def keys(self) -> Iterator[str]:
        for path in self.root.glob("??/*"):
            if not path.name.startswith("."):
                yield path.name


def _copy_hashing(source: BinaryIO, fd: int) -> str:
    digest = hashlib.sha256()
    with os.fdopen(fd, "wb") as out:
        while block := source.read(COPY_BLOCK_BYTES):
            digest.update(block)
            out.write(block)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest()
