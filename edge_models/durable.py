"""Crash-safe, private files: a temp file beside the target, fsync, rename over it, fsync the folder.

A crash at any moment leaves either the old file or the new one, whole; never a torn one. Used by
the manifests and installed-model store, the training bundles, the exports and the video segments.

Private: what these files hold (athletes' heart rate, their video, the models that read them) is
for the laptop user alone. `write_file_atomically` writes mode 0600 (a `mkstemp` file);
`make_private_dir` and `make_private_file` create folders 0700 and files 0600 whatever the umask,
and tighten ones found looser. On Windows modes are not how access is granted (ACLs are), so there
they only create.
"""

from __future__ import annotations

import logging
import os
import stat
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)

PRIVATE_DIR_MODE = 0o700  # owner only: read, write, enter
PRIVATE_FILE_MODE = 0o600  # owner only: read, write
_OTHERS_BITS = 0o077  # what group and others may do
_MODES_APPLY = os.name != "nt"


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


def make_private_dir(folder: Path) -> Path:
    """Create `folder` (and missing parents) so that only its owner can enter it; tighten it if looser.

    A path that is a file raises NotADirectoryError. Parents are created with the usual modes:
    only the folder itself holds what is private.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(20, "a file, not a folder", str(folder))
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        folder.mkdir(mode=PRIVATE_DIR_MODE)
    except FileExistsError:
        pass
    tighten(folder, PRIVATE_DIR_MODE)
    return folder


def make_private_file(path: Path) -> Path:
    """Create `path` empty with mode 0600 if it is missing; tighten it if it exists and is looser."""
    path = Path(path)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    except FileExistsError:
        pass
    tighten(path, PRIVATE_FILE_MODE)
    return path


def tighten(path: Path, private_mode: int) -> bool:
    """Take away what group and others may do with `path` (if it exists); True when it was looser.

    A folder or file that existed before with a looser mode (an older Trackside, a copy, a umask
    of 000) is logged by path and mode only. A sticky folder (/tmp: shared on purpose) is left as
    it is. A file system without modes (FAT on a USB stick) or a path owned by someone else is
    logged, not raised: the data stays usable.
    """
    if not _MODES_APPLY:
        return False
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return False
    if mode & stat.S_ISVTX:  # a folder shared on purpose (/tmp): the files in it are private, it is not ours
        return False
    wanted = (mode & ~_OTHERS_BITS) | private_mode
    if wanted == mode:
        return False
    try:
        os.chmod(path, wanted)
    except OSError as exc:
        logger.warning("cannot make %s private (mode %04o): %s", path, mode, exc.strerror)
        return False
    if mode & _OTHERS_BITS:
        logger.warning("%s was open to other users of this computer (mode %04o); now %04o, for its owner "
                       "only", path, mode, wanted)
    return True
