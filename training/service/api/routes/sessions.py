"""A team's sessions: the idempotent commit, reading them back, and the labels sent after a sync."""

from __future__ import annotations

import json

from fastapi import APIRouter, Header
from sqlalchemy import select

from cloud_client.protocol import HEADER_IDEMPOTENCY_KEY
from cloud_client.protocol import LabelRecord as LabelMessage
from training.service import ingest, labels
from training.service.api.deps import BlobsDep, CurrentDevice, DbSession, HashesDep, SessionMakerDep, SettingsDep
from training.service.api.routes.jobs import JobsDep, team_name
from training.service.api.schemas import CommitIn, ErrorOut, LabelsIn, LabelsOut, SessionAnswerOut, SessionOut
from training.service.errors import NotFound
from training.service.models import CloudSession, LabelRecord, SessionAthlete, SessionPart

router = APIRouter(prefix="/sessions", tags=["sessions"])
_ERRORS = {401: {"model": ErrorOut}, 404: {"model": ErrorOut}}


@router.post("/{session_id}/commit", response_model=SessionAnswerOut,
             responses={**_ERRORS, 409: {"model": ErrorOut, "description": "a commit of it is running, or the "
                                         "upload is incomplete"},
                        422: {"model": ErrorOut, "description": "another hash, or a bundle that fails the checks"}})
def commit(session_id: str, body: CommitIn, device: CurrentDevice, make_db: SessionMakerDep, blobs: BlobsDep,
           settings: SettingsDep, hashes: HashesDep, db: DbSession, jobs: JobsDep,
           idempotency_key: str | None = Header(default=None, alias=HEADER_IDEMPOTENCY_KEY,
                                                description="optional; the session id and hash are the key")) -> dict:
    answer = ingest.commit_session(make_db, blobs, settings, hashes, device, session_id, body.upload_id, body.sha256,
                                   lease_s=settings.commit_lease_s)
    if jobs.auto_retrain_after:
        jobs.consider(team_name(db, device))
    return answer


@router.get("", response_model=list[SessionOut], responses={401: {"model": ErrorOut}})
def list_sessions(device: CurrentDevice, db: DbSession) -> list[SessionOut]:
    found = db.scalars(select(CloudSession).where(CloudSession.team_id == device.team_id,
                                                  CloudSession.state == "committed").order_by(CloudSession.id))
    return [_session_out(db, s) for s in found]


@router.get("/{session_id}", response_model=SessionOut, responses=_ERRORS)
def get_session(session_id: str, device: CurrentDevice, db: DbSession) -> SessionOut:
    return _session_out(db, ingest.team_session(db, device, session_id))


def _session_out(db, session: CloudSession) -> SessionOut:
    refs = db.scalars(select(SessionAthlete.athlete_ref).where(SessionAthlete.session_pk == session.id))
    parts = db.scalars(select(SessionPart.id).where(SessionPart.session_pk == session.id)).all()
    return SessionOut(session_id=session.session_id, sha256=session.sha256, started_wall_utc=session.started_wall_utc,
                      athletes=sorted(refs), parts=len(parts))


@router.put("/{session_id}/labels", response_model=LabelsOut,
            responses={**_ERRORS, 409: {"model": ErrorOut, "description": "a newer version is in"},
                       422: {"model": ErrorOut}})
def put_labels(session_id: str, body: LabelsIn, device: CurrentDevice, db: DbSession, jobs: JobsDep) -> dict:
    answer = labels.put_labels(db, device, LabelMessage(session_id=session_id, version=body.version,
                                                        labels=body.labels))
    if jobs.auto_retrain_after:
        jobs.consider(team_name(db, device))
    return answer


@router.get("/{session_id}/labels", response_model=LabelsOut, responses=_ERRORS)
def get_labels(session_id: str, device: CurrentDevice, db: DbSession) -> dict:
    session = ingest.team_session(db, device, session_id)
    row = db.get(LabelRecord, session.id)
    if row is None:
        raise NotFound("no labels were sent after this session")
    return {"session_id": session_id, "version": row.version, "sha256": row.sha256,
            "labels": json.loads(row.labels_json)}
