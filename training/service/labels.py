"""Labels added after a session was synced: one small record per session, replaced by higher versions."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from cloud_client.protocol import LabelRecord as LabelMessage
from cloud_client.protocol import ProtocolError, check_labels
from training.service.errors import Conflict, Unprocessable
from training.service.ingest import team_session
from training.service.models import Device, LabelRecord


def label_answer(session_id: str, row: LabelRecord) -> dict:
    return {"session_id": session_id, "version": row.version, "sha256": row.sha256,
            "labels": json.loads(row.labels_json)}


def put_labels(db: Session, device: Device, message: LabelMessage) -> dict:
    """Keep `message` if its version is new; the same answer again for the same version and content."""
    session = team_session(db, device, message.session_id)
    try:
        check_labels(message.labels)
    except ProtocolError as exc:
        raise Unprocessable(str(exc)) from None
    if not isinstance(message.version, int) or message.version < 1:
        raise Unprocessable("version must be a whole number from 1 up")
    sha256 = message.sha256()
    row = db.get(LabelRecord, session.id)
    if row is not None and row.version == message.version and row.sha256 != sha256:
        raise Unprocessable(f"version {row.version} of these labels was sent with other content",
                            code="labels_conflict")
    if row is not None and row.version > message.version:
        raise Conflict(f"the cloud has version {row.version} of these labels already", code="labels_stale")
    if row is None:
        row = LabelRecord(session_pk=session.id, team_id=device.team_id)
        db.add(row)
    row.version, row.sha256, row.labels_json = message.version, sha256, json.dumps(message.labels)
    return label_answer(message.session_id, row)
