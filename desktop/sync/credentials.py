"""Where the laptop keeps its device token: keyring, or a user-only file where keyring has no backend.

Never in the SQLite store, never in a log line. The file fallback (`sync-token` in the data folder,
mode 0600) is what a machine without a desktop keyring gets (a server, a CI runner, this one);
it warns once, since anyone who can read the user's files can read it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)

KEYRING_SERVICE = "trackside-sync"
TOKEN_FILE_NAME = "sync-token"
_USER_ONLY_FILE = 0o600


class TokenStore:
    """The token of one enrolment (device id), in keyring or the fallback file of `data_dir`."""

    def __init__(self, data_dir: Path, *, use_keyring: bool | None = None):
        self._file = Path(data_dir) / TOKEN_FILE_NAME
        self._keyring = _secure_keyring() if use_keyring is not False else None

    @property
    def where(self) -> str:
        return "the system keyring" if self._keyring is not None else f"{self._file} (readable only by you)"

    def save(self, device_id: str, token: str) -> None:
        if self._keyring is not None:
            self._keyring.set_password(KEYRING_SERVICE, device_id, token)
            return
        logger.warning("no secure keyring on this computer: the sync token is kept in %s, readable only by "
                       "your user", self._file)
        fd = os.open(self._file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _USER_ONLY_FILE)
        with os.fdopen(fd, "w") as out:
            out.write(f"{device_id} {token}\n")
        os.chmod(self._file, _USER_ONLY_FILE)  # an older file may have had wider rights

    def load(self, device_id: str) -> str | None:
        if self._keyring is not None:
            return self._keyring.get_password(KEYRING_SERVICE, device_id)
        try:
            stored_id, token = self._file.read_text().split()
        except (OSError, ValueError):
            return None
        return token if stored_id == device_id else None

    def forget(self, device_id: str) -> None:
        if self._keyring is not None:
            try:
                self._keyring.delete_password(KEYRING_SERVICE, device_id)
            except Exception:  # keyring's PasswordDeleteError: nothing was stored
                pass
        self._file.unlink(missing_ok=True)


def _secure_keyring():
    """The keyring backend if it is a real one; None for keyring's 'fail' backend or a plaintext one."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 0) < 1:
        return None
    return backend
