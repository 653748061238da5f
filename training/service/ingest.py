"""Committing an uploaded session: check the bundle, keep its parts as blobs, record it exactly once.

Three steps. (1) A short transaction claims the session: a row in state 'committing' with a lease,
unique per team and session, so a second commit meets it and gets 409 (same hash) or 422 (another
hash). (2) Outside any transaction the bundle is checked (its hash, the zip, the manifest, each
athlete part's hash) and its parts are stored; blobs are content-addressed, so doing this twice
stores nothing twice. (3) One transaction records the parts, marks the session committed with its answer and drops the
upload. A process that dies in (2) leaves a lease that runs out; the next commit takes it over.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from cloud_client.protocol import (MANIFEST_NAME, MAX_MANIFEST_BYTES, ProtocolError, SessionAnswer,
                                   check_athlete_part, check_manifest, is_sha256, to_json)
from training.service.blobs import BlobHashMismatch, BlobStore
from training.service.core.config import Settings
from training.service.crud import as_utc, utc_now
from training.service.errors import Conflict, NotFound, Unprocessable
from training.service.models import CloudSession, Deletion, Device, SessionAthlete, SessionPart, Upload
from training.service.uploads import RunningHashes, committed_answer, team_upload, upload_file

logger = logging.getLogger(__name__)

HASH_BLOCK_BYTES = 1 << 20


class UploadCorrupt(Exception):
    """The uploaded file does not hash to what was announced (a power cut lost bytes, or they were wrong)."""


@dataclass(frozen=True)
class StoredPart:
    kind: str  # "athlete" or "video"
    name: str
    athlete_ref: str | None
    blob_key: str
    size_bytes: int


def commit_session(make_db: sessionmaker[Session], blobs: BlobStore, settings: Settings, hashes: RunningHashes,
                   device: Device, session_id: str, upload_id: str, sha256: str, lease_s: float) -> dict:
    """The session's answer; the same answer for every replay of the same commit."""
    if not is_sha256(sha256):
        raise Unprocessable("sha256 must be 64 lower-case hex digits")
    with make_db.begin() as db:
        answer = committed_answer(db, device.team_id, session_id, sha256)
        if answer is not None:
            return answer
        claimed_utc = utc_now()
        upload = _claim(db, device, session_id, upload_id, sha256, lease_s)
        path, length = upload_file(settings, upload.id), upload.length
    try:
        known = hashes.digest_at(upload_id, length)
        manifest_key, manifest, parts = _store_bundle(blobs, path, known, session_id, sha256, length)
    except UploadCorrupt as exc:
        _release(make_db, device, session_id, upload_id, settings)
        raise Unprocessable(str(exc), code="upload_corrupt") from None
    except (ProtocolError, BlobHashMismatch, zipfile.BadZipFile, OSError, ValueError) as exc:
        _release(make_db, device, session_id, upload_id, settings)
        raise Unprocessable(f"the bundle was refused: {exc}", code="bad_bundle") from None
    hashes.forget(upload_id)
    return _record(make_db, settings, device, session_id, upload_id, sha256, manifest_key, manifest,
                   _not_erased_since(make_db, device, parts, claimed_utc))


def _not_erased_since(make_db: sessionmaker[Session], device: Device, parts: list[StoredPart],
                      claimed_utc: datetime) -> list[StoredPart]:
    """Parts of athletes erased while this commit ran are not recorded (the erasure did not see them)."""
    with make_db() as db:
        erased = set(db.scalars(select(Deletion.athlete_ref).where(Deletion.team_id == device.team_id,
                                                                   Deletion.done_utc >= claimed_utc)))
    return [p for p in parts if p.athlete_ref is None or p.athlete_ref not in erased]


def _claim(db: Session, device: Device, session_id: str, upload_id: str, sha256: str, lease_s: float):
    upload = team_upload(db, device, upload_id)
    if upload.session_id != session_id or upload.sha256 != sha256:
        raise Unprocessable("this upload is of another session or another hash", code="upload_mismatch")
    if upload.offset != upload.length:
        raise Conflict(f"the upload has {upload.offset} of {upload.length} bytes; send the rest first",
                       code="upload_incomplete")
    found = db.scalar(select(CloudSession).where(CloudSession.team_id == device.team_id,
                                                 CloudSession.session_id == session_id).with_for_update())
    now = utc_now()
    if found is None:
        _insert_claim(db, device, session_id, sha256, now, lease_s)
    elif found.sha256 != sha256:
        raise Unprocessable(f"session {session_id} is being committed with other content", code="session_conflict")
    elif as_utc(found.lease_utc) > now:
        raise Conflict("this session is being committed right now; ask again shortly", code="commit_in_progress",
                       headers={"Retry-After": "1"})
    else:
        logger.warning("taking over the commit of session %s: its lease ran out", session_id)
        found.lease_utc = now + timedelta(seconds=lease_s)
    return upload


def _insert_claim(db: Session, device: Device, session_id: str, sha256: str, now: datetime, lease_s: float) -> None:
    db.add(CloudSession(team_id=device.team_id, session_id=session_id, sha256=sha256, state="committing",
                        device_id=device.id, lease_utc=now + timedelta(seconds=lease_s)))
    try:
        db.flush()
    except IntegrityError:
        raise Conflict("this session is being committed right now; ask again shortly",
                       code="commit_in_progress", headers={"Retry-After": "1"}) from None


def _release(make_db: sessionmaker[Session], device: Device, session_id: str, upload_id: str,
             settings: Settings) -> None:
    """A refused bundle: forget the claim and the upload, so a good bundle can be sent afresh."""
    with make_db.begin() as db:
        db.execute(delete(CloudSession).where(CloudSession.team_id == device.team_id,
                                              CloudSession.session_id == session_id,
                                              CloudSession.state == "committing"))
        upload = team_upload(db, device, upload_id)
        db.delete(upload)
    upload_file(settings, upload_id).unlink(missing_ok=True)


# -- the bundle -----------------------------------------------------------------------------

def _store_bundle(blobs: BlobStore, path: Path, known_sha256: str | None, session_id: str, sha256: str,
                  length: int) -> tuple[str, dict, list[StoredPart]]:
    """Check the bundle and keep its parts: athletes' data and the manifest as blobs of their own
    (each can be erased alone); the video stays inside the bundle, kept whole without a copy."""
    _fsync(path)
    if path.stat().st_size != length or (known_sha256 or _file_sha256(path)) != sha256:
        raise UploadCorrupt("the uploaded bytes do not match the sha256 they were announced with; send them again")
    with zipfile.ZipFile(path) as bundle:
        manifest_bytes = _member_bytes(bundle, MANIFEST_NAME)
        manifest = check_manifest(_json(manifest_bytes, MANIFEST_NAME), session_id)
        expected = {MANIFEST_NAME} | {a["part"] for a in manifest["athletes"]} | {v["part"] for v in manifest["video"]}
        if set(bundle.namelist()) != expected or len(bundle.namelist()) != len(expected):
            raise ProtocolError("the bundle's files are not the ones its manifest lists")
        parts = [_store_athlete(bundle, blobs, a) for a in manifest["athletes"]]
        parts += [_video_in_bundle(bundle, sha256, v) for v in manifest["video"]]
    if manifest["video"]:
        blobs.adopt_file(path, sha256)  # the whole-bundle hash above covers every video byte
    manifest_key = blobs.put_stream(io.BytesIO(manifest_bytes), hashlib.sha256(manifest_bytes).hexdigest())
    return manifest_key, manifest, parts


def _store_athlete(bundle: zipfile.ZipFile, blobs: BlobStore, entry: dict) -> StoredPart:
    raw = _member_bytes(bundle, entry["part"])
    part = check_athlete_part(_json(raw, entry["part"]))
    if part["channel"] != entry["channel"]:
        raise ProtocolError(f"{entry['part']} is of another channel")
    key = blobs.put_stream(io.BytesIO(raw), entry["sha256"])
    return StoredPart("athlete", entry["part"], entry["ref"], key, len(raw))


def _video_in_bundle(bundle: zipfile.ZipFile, bundle_key: str, entry: dict) -> StoredPart:
    """A video segment is read from the bundle blob when needed: `name` is its member in it."""
    info = bundle.getinfo(entry["part"])
    if info.file_size != entry["bytes"] or info.compress_type != zipfile.ZIP_STORED:
        raise ProtocolError(f"{entry['part']} is not {entry['bytes']} stored (uncompressed) bytes")
    return StoredPart("video", entry["part"], None, bundle_key, info.file_size)


def _member_bytes(bundle: zipfile.ZipFile, name: str) -> bytes:
    try:
        info = bundle.getinfo(name)
    except KeyError:
        raise ProtocolError(f"the bundle has no {name}") from None
    if info.file_size > MAX_MANIFEST_BYTES:
        raise ProtocolError(f"{name} is larger than {MAX_MANIFEST_BYTES} bytes")
    with bundle.open(info) as member:
        return member.read(MAX_MANIFEST_BYTES + 1)


def _json(raw: bytes, name: str) -> object:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"{name} is not JSON: {exc}") from None


def _fsync(path: Path) -> None:
    with path.open("rb") as upload:
        os.fsync(upload.fileno())


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(HASH_BLOCK_BYTES):
            digest.update(block)
    return digest.hexdigest()


# -- recording it -----------------------------------------------------------------------------

def _record(make_db: sessionmaker[Session], settings: Settings, device: Device, session_id: str, upload_id: str,
            sha256: str, manifest_key: str, manifest: dict, parts: list[StoredPart]) -> dict:
    with make_db.begin() as db:
        row = db.scalar(select(CloudSession).where(CloudSession.team_id == device.team_id,
                                                   CloudSession.session_id == session_id).with_for_update())
        if row is None or row.sha256 != sha256:
            raise Conflict("the commit was taken over; ask again", code="commit_in_progress")
        if row.state == "committed":
            return json.loads(row.answer_json)
        _write_parts(db, row, parts, manifest)
        answer = to_json(SessionAnswer(session_id=session_id, sha256=sha256, committed_utc=utc_now().isoformat(),
                                       athletes=len(manifest["athletes"]), video_parts=len(manifest["video"])))
        row.state, row.answer_json, row.manifest_blob = "committed", json.dumps(answer), manifest_key
        row.started_wall_utc = manifest["session"]["started_wall_utc"][:40]
        upload = db.scalar(select(Upload).where(Upload.id == upload_id, Upload.team_id == device.team_id))
        if upload is not None:
            db.delete(upload)
    upload_file(settings, upload_id).unlink(missing_ok=True)
    logger.info("session %s committed (%d parts)", session_id, len(parts))
    return answer


def _write_parts(db: Session, row: CloudSession, parts: list[StoredPart], manifest: dict) -> None:
    db.execute(delete(SessionPart).where(SessionPart.session_pk == row.id))
    db.execute(delete(SessionAthlete).where(SessionAthlete.session_pk == row.id))
    for part in parts:
        db.add(SessionPart(session_pk=row.id, team_id=row.team_id, kind=part.kind, name=part.name,
                           athlete_ref=part.athlete_ref, blob_key=part.blob_key, size_bytes=part.size_bytes))
    for ref in sorted({a["ref"] for a in manifest["athletes"]}):
        db.add(SessionAthlete(session_pk=row.id, athlete_ref=ref, team_id=row.team_id))


def team_session(db: Session, device: Device, session_id: str) -> CloudSession:
    found = db.scalar(select(CloudSession).where(CloudSession.team_id == device.team_id,
                                                 CloudSession.session_id == session_id,
                                                 CloudSession.state == "committed"))
    if found is None:
        raise NotFound("no such session")
    return found

