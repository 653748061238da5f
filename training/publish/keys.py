"""The repository's signing keys: ed25519, one per TUF role, kept as PEM files only the owner reads.

    <keys_dir>/targets.pem, snapshot.pem, timestamp.pem   online keys: publishing uses them
    <root_key_path>                                       the root key: kept apart (offline), used
                                                          only to sign root metadata on demand

Public keys are not stored here: root metadata lists them, and a signer is rebuilt from the PEM
plus the public key root names for that role.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.serialization import load_pem_private_key
from securesystemslib.exceptions import KeyMismatchError
from securesystemslib.signer import CryptoSigner, Key

from edge_models.durable import make_private_dir, write_file_atomically

ONLINE_ROLES = ("targets", "snapshot", "timestamp")


class KeyFileError(Exception):
    """A signing key is missing, unreadable, or not the one root metadata names."""


def online_key_path(keys_dir: Path, role: str) -> Path:
    return Path(keys_dir) / f"{role}.pem"


def new_signer() -> CryptoSigner:
    return CryptoSigner.generate_ed25519()


def save_signer(signer: CryptoSigner, path: Path) -> None:
    """Write the private key as PEM (PKCS#8), 0600, in a 0700 folder; never over an existing key."""
    path = Path(path)
    if path.exists():
        raise KeyFileError(f"{path} already exists: refusing to overwrite a signing key")
    make_private_dir(path.parent)
    write_file_atomically(path, signer.private_bytes)


def load_signer(path: Path, public_key: Key) -> CryptoSigner:
    """The signer for `public_key` from its PEM file; refuses a file holding another key."""
    try:
        private_key = load_pem_private_key(Path(path).read_bytes(), None)
    except FileNotFoundError as exc:
        raise KeyFileError(f"signing key {path} is missing") from exc
    except (OSError, ValueError, TypeError) as exc:
        raise KeyFileError(f"signing key {path} cannot be read: {exc}") from exc
    try:
        return CryptoSigner(private_key, public_key)  # type: ignore[arg-type]
    except (KeyMismatchError, ValueError) as exc:
        raise KeyFileError(f"{path} is not the key root metadata names for this role") from exc
