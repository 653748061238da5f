"""Resumable uploads with tus semantics: the bytes live in the upload folder, the offset in the database.

A chunk is checked against its checksum before a byte is written, written at the database's offset
(the file is cut back to that offset first, so bytes of a chunk that never committed are dropped),
and only then does the offset move, in the same transaction that locked the upload row. A killed
process loses nothing written (the page cache survives it). The file is fsynced once, at commit,
like a plain upload's: a power cut may lose acknowledged bytes, and then the commit finds the
sha256 wrong, drops the upload and says so (422 upload_corrupt), and the laptop sends it afresh.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloud_client.protocol import HEADER_LENGTH, HEADER_OFFSET, ProtocolError, UploadCreate, checksum_matches
from training.service.core.config import Settings
from training.service.crud import utc_now
from training.service.errors import ChecksumMismatch, Conflict, NotFound, TooLarge, Unprocessable
from training.service.models import CloudSession, Device, Upload


UPLOAD_EXPIRY_S = 14 * 24 * 3600  # an upload not finished in two weeks is dropped (its laptop starts anew)
ORPHAN_FILE_AGE_S = 3600.0  # an upload file with no row this old was left by a process that died


class RunningHashes:
    """The sha256 of each upload so far, kept in this process as chunks arrive, so a commit need not
    read the whole file again. The hashing runs on one worker thread, beside the next chunk's
    transfer. States are keyed by offset: one that is not at the file's length when the commit asks
    (another process took chunks, a write failed) is not used, and the commit hashes the file."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, tuple[int, object, Future | None]] = {}
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="upload-hash")

    def add(self, upload_id: str, offset: int, chunk: bytes) -> None:
        with self._lock:
            at, state, _ = self._states.pop(upload_id, (0, hashlib.sha256(), None))
            if at != offset:
                return
            self._states[upload_id] = (offset + len(chunk), state, self._worker.submit(state.update, chunk))

    def digest_at(self, upload_id: str, length: int, timeout_s: float = 60.0) -> str | None:
        with self._lock:
            at, state, last = self._states.get(upload_id, (-1, None, None))
        if at != length:
            return None
        if last is not None:
            last.result(timeout_s)  # the worker runs in order: the last chunk hashed means all were
        return state.hexdigest()

    def forget(self, upload_id: str) -> None:
        with self._lock:
            self._states.pop(upload_id, None)

    def close(self) -> None:
        self._worker.shutdown(wait=True)


def upload_file(settings: Settings, upload_id: str) -> Path:
    return settings.upload_dir / upload_id


def create_upload(db: Session, settings: Settings, device: Device, request: UploadCreate) -> tuple[Upload | None,
                                                                                                   dict | None]:
    """(the upload to send bytes to, None) or (None, the answer) when the session is already in."""
    try:
        request.check(settings.max_upload_bytes)
    except ProtocolError as exc:
        raise Unprocessable(str(exc)) from None
    if request.length > settings.max_upload_bytes:
        raise TooLarge(f"a session bundle may be at most {settings.max_upload_bytes} bytes")
    answer = committed_answer(db, device.team_id, request.session_id, request.sha256)
    if answer is not None:
        return None, answer
    existing = db.scalar(select(Upload).where(
        Upload.team_id == device.team_id, Upload.session_id == request.session_id,
        Upload.sha256 == request.sha256, Upload.length == request.length))
    if existing is not None:
        return existing, None  # a replayed create: the same upload, not a second one
    upload = Upload(id=str(uuid.uuid4()), team_id=device.team_id, device_id=device.id,
                    session_id=request.session_id, length=request.length, sha256=request.sha256, offset=0,
                    created_utc=utc_now())
    settings.upload_dir.mkdir(parents=True, exist_ok=True)
    upload_file(settings, upload.id).touch()
    db.add(upload)
    return upload, None


def committed_answer(db: Session, team_id: int, session_id: str, sha256: str) -> dict | None:
    """The stored answer when the session is in with this hash; 422 when it is in with another one."""
    found = db.scalar(select(CloudSession).where(CloudSession.team_id == team_id,
                                                 CloudSession.session_id == session_id))
    if found is None or found.state != "committed":
        return None
    if found.sha256 != sha256:
        raise Unprocessable(f"session {session_id} is already in the cloud with other content "
                            f"(sha256 {found.sha256})", code="session_conflict")
    return json.loads(found.answer_json)


def team_upload(db: Session, device: Device, upload_id: str, *, lock: bool = False) -> Upload:
    """The upload if it belongs to the device's team; 404 otherwise (another team's is not disclosed)."""
    query = select(Upload).where(Upload.id == upload_id, Upload.team_id == device.team_id)
    upload = db.scalar(query.with_for_update() if lock else query)
    if upload is None:
        raise NotFound("no such upload")
    return upload


def offset_headers(upload: Upload) -> dict[str, str]:
    return {HEADER_OFFSET: str(upload.offset), HEADER_LENGTH: str(upload.length)}


def append_chunk(db: Session, settings: Settings, hashes: RunningHashes, device: Device, upload_id: str,
                 offset: int, checksum: str | None, chunk: bytes, crc32: int | None = None) -> Upload:
    """Write `chunk` at `offset`; 409 on another offset, 460 on a bad checksum, 413 past the length.

    `crc32` is the chunk's CRC-32 if the caller computed it while the bytes arrived."""
    upload = team_upload(db, device, upload_id, lock=True)
    if offset != upload.offset:
        raise Conflict(f"the upload is at offset {upload.offset}, not {offset}", headers=offset_headers(upload),
                       code="offset_mismatch")
    if offset + len(chunk) > upload.length:
        raise TooLarge(f"the chunk runs past the declared length of {upload.length} bytes")
    if not checksum_matches(checksum, chunk, crc32):
        raise ChecksumMismatch("the chunk does not match its Upload-Checksum; send it again",
                               headers=offset_headers(upload))
    _write_at(upload_file(settings, upload.id), offset, chunk)
    hashes.add(upload.id, offset, chunk)
    upload.offset = offset + len(chunk)
    return upload


def _write_at(path: Path, offset: int, chunk: bytes) -> None:
    if not path.exists():
        raise Conflict("the upload's bytes are gone; create the upload again", code="upload_lost")
    with path.open("r+b") as out:
        out.truncate(offset)
        out.seek(offset)
        out.write(chunk)  # no fsync per chunk: the commit fsyncs the whole file and checks its sha256




def expire_uploads(db: Session, settings: Settings, now_s: float | None = None) -> int:
    """Drop uploads nobody finished within UPLOAD_EXPIRY_S (the tus expiration extension), and upload
    files without a row that are older than ORPHAN_FILE_AGE_S (a process died between the two)."""
    now_s = time.time() if now_s is None else now_s
    cutoff = datetime.fromtimestamp(now_s - UPLOAD_EXPIRY_S, timezone.utc)
    expired = list(db.scalars(select(Upload).where(Upload.created_utc < cutoff)))
    for upload in expired:
        db.delete(upload)
        upload_file(settings, upload.id).unlink(missing_ok=True)
    db.flush()
    known = set(db.scalars(select(Upload.id)))
    removed = 0
    for path in settings.upload_dir.glob("*") if settings.upload_dir.is_dir() else []:
        if path.name not in known and now_s - path.stat().st_mtime > ORPHAN_FILE_AGE_S:
            path.unlink(missing_ok=True)
            removed += 1
    return len(expired) + removed
