"""Deletion follows the athlete: their parts, the video of every session they were on, and their name
in the stored manifests go; the request is recorded so a replay is confirmed without doing it twice.

Training sets are read from `session_parts` (see `training.service.dataset`), so what is erased
here is in no future training set. Blobs are deleted before the transaction commits: a crash in between leaves
rows that point at nothing and an unconfirmed request, which the laptop sends again.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cloud_client.protocol import canonical_json
from training.service.blobs import BlobStore
from training.service.crud import as_utc, utc_now
from training.service.errors import NotFound
from training.service.models import CloudSession, Deletion, Device, LabelRecord, SessionAthlete, SessionPart

logger = logging.getLogger(__name__)


def deletion_answer(row: Deletion) -> dict:
    return {"request_id": row.request_id, "athlete_ref": row.athlete_ref, "parts_erased": row.parts_erased,
            "done_utc": as_utc(row.done_utc).isoformat()}


def find_deletion(db: Session, device: Device, request_id: str) -> Deletion:
    row = db.get(Deletion, request_id)
    if row is None or row.team_id != device.team_id:
        raise NotFound("no such deletion")
    return row


def erase_athlete(db: Session, blobs: BlobStore, device: Device, request_id: str, athlete_ref: str) -> dict:
    """Erase one athlete of the device's team; the same answer for every replay of `request_id`."""
    existing = db.get(Deletion, request_id)
    if existing is not None:
        if existing.team_id != device.team_id or existing.athlete_ref != athlete_ref:
            raise NotFound("no such deletion")
        return deletion_answer(existing)
    sessions = list(db.scalars(select(CloudSession).join(SessionAthlete).where(
        SessionAthlete.team_id == device.team_id, SessionAthlete.athlete_ref == athlete_ref)))
    doomed = list(db.scalars(select(SessionPart).where(
        SessionPart.team_id == device.team_id,
        (SessionPart.athlete_ref == athlete_ref) | (
            SessionPart.session_pk.in_([s.id for s in sessions]) & (SessionPart.kind == "video")))))
    keys = {part.blob_key for part in doomed}
    for part in doomed:
        db.delete(part)
    keys |= {_rewrite_manifest(db, blobs, s, athlete_ref) for s in sessions} - {None}
    db.execute(delete(SessionAthlete).where(SessionAthlete.team_id == device.team_id,
                                            SessionAthlete.athlete_ref == athlete_ref))
    db.flush()
    for key in keys - _still_used(db, keys):
        blobs.delete(key)
    row = Deletion(request_id=request_id, team_id=device.team_id, athlete_ref=athlete_ref,
                   parts_erased=len(doomed), done_utc=utc_now())
    db.add(row)
    logger.info("erased athlete %s: %d parts of %d sessions", athlete_ref, len(doomed), len(sessions))
    return deletion_answer(row)


def _rewrite_manifest(db: Session, blobs: BlobStore, session: CloudSession, athlete_ref: str) -> str | None:
    """Store the session's manifest without the athlete and without video; the old key, to delete."""
    old_key = session.manifest_blob
    if old_key is None or not blobs.exists(old_key):
        return None
    with blobs.open(old_key) as source:
        manifest = json.load(source)
    gone = {a["channel"] for a in manifest["athletes"] if a["ref"] == athlete_ref}
    manifest["athletes"] = [a for a in manifest["athletes"] if a["ref"] != athlete_ref]
    manifest["video"] = []
    manifest["marks"] = [m for m in manifest["marks"] if m.get("channel") not in gone]
    manifest["labels"] = [m for m in manifest["labels"] if m.get("channel") not in gone]
    _drop_label_channels(db, session, gone)
    raw = json.dumps(manifest, sort_keys=True).encode("utf-8")
    session.manifest_blob = blobs.put_stream(io.BytesIO(raw), hashlib.sha256(raw).hexdigest())
    return old_key if old_key != session.manifest_blob else None


def _drop_label_channels(db: Session, session: CloudSession, channels: set[str]) -> None:
    """The labels sent after the sync lose those of the erased athlete's channel (the version stays)."""
    record = db.get(LabelRecord, session.id)
    if record is None or not channels:
        return
    labels = [label for label in json.loads(record.labels_json) if label.get("channel") not in channels]
    record.labels_json = json.dumps(labels)
    record.sha256 = hashlib.sha256(canonical_json({"version": record.version, "labels": labels})).hexdigest()


def _still_used(db: Session, keys: set[str]) -> set[str]:
    if not keys:
        return set()
    used = set(db.scalars(select(SessionPart.blob_key).where(SessionPart.blob_key.in_(keys))))
    return used | set(db.scalars(select(CloudSession.manifest_blob).where(CloudSession.manifest_blob.in_(keys))))

