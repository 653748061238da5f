"""The service's settings: from the environment (TRACKSIDE_CLOUD_*), overridden by the command line."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from cloud_client.protocol import DEFAULT_MAX_UPLOAD_BYTES

ENV_PREFIX = "TRACKSIDE_CLOUD_"
DEFAULT_ENROL_CODE_TTL_S = 24 * 3600  # a code handed to a coach works for a day
COMMIT_LEASE_S = 120.0  # a commit 'in progress' this long (its process died) may be taken over; a 2 GB one takes ~30 s


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    enrol_code_ttl_s: int = DEFAULT_ENROL_CODE_TTL_S
    commit_lease_s: float = COMMIT_LEASE_S
    auto_retrain_after: int = 0  # new labelled, training-consented sessions that start a heart-rate job; 0: never
    auto_retrain_small: bool = False  # such jobs in their small, quick form (the embedded cloud's demo)

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "uploads"


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{Path(data_dir).resolve() / 'cloud.sqlite'}"


def load_settings(data_dir: str | Path | None = None, database_url: str | None = None,
                  max_upload_bytes: int | None = None) -> Settings:
    """Settings from TRACKSIDE_CLOUD_DATA_DIR, _DATABASE_URL, _MAX_UPLOAD_BYTES, _COMMIT_LEASE_S,
    _AUTO_RETRAIN_AFTER, _AUTO_RETRAIN_SMALL and the arguments."""
    folder = data_dir or os.environ.get(ENV_PREFIX + "DATA_DIR")
    if not folder:
        raise ValueError(f"no data folder: give --data-dir or set {ENV_PREFIX}DATA_DIR")
    folder = Path(folder).expanduser()
    url = database_url or os.environ.get(ENV_PREFIX + "DATABASE_URL") or sqlite_url(folder)
    settings = Settings(data_dir=folder, database_url=_psycopg3(url))
    cap = max_upload_bytes or os.environ.get(ENV_PREFIX + "MAX_UPLOAD_BYTES")
    if cap:
        settings = replace(settings, max_upload_bytes=int(cap))
    lease = os.environ.get(ENV_PREFIX + "COMMIT_LEASE_S")
    if lease:
        settings = replace(settings, commit_lease_s=float(lease))
    after = os.environ.get(ENV_PREFIX + "AUTO_RETRAIN_AFTER")
    if after:
        settings = replace(settings, auto_retrain_after=int(after),
                           auto_retrain_small=os.environ.get(ENV_PREFIX + "AUTO_RETRAIN_SMALL") == "1")
    return settings


def _psycopg3(url: str) -> str:
    """postgresql://... means the psycopg 3 driver here (SQLAlchemy's default would be psycopg2)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
