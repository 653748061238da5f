"""POST /v1/deletions: erase an athlete's data from the team's cloud; GET confirms it again."""

from __future__ import annotations

from fastapi import APIRouter

from training.service import erasure
from training.service.api.deps import BlobsDep, CurrentDevice, DbSession
from training.service.api.schemas import DeletionIn, DeletionOut, ErrorOut

router = APIRouter(prefix="/deletions", tags=["deletion"])


@router.post("", response_model=DeletionOut, responses={401: {"model": ErrorOut}, 404: {"model": ErrorOut}})
def request_deletion(body: DeletionIn, device: CurrentDevice, db: DbSession, blobs: BlobsDep) -> dict:
    return erasure.erase_athlete(db, blobs, device, body.request_id, body.athlete_ref)


@router.get("/{request_id}", response_model=DeletionOut, responses={401: {"model": ErrorOut}, 404: {"model": ErrorOut}})
def get_deletion(request_id: str, device: CurrentDevice, db: DbSession) -> dict:
    return erasure.deletion_answer(erasure.find_deletion(db, device, request_id))
