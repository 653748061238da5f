"""What a retraining job of a team may read: the athlete parts and video the cloud holds now.

Read from the database at the time the training set is built, so an athlete erased before is in
none of it; the bytes come from the blob store (a video segment from inside its session's bundle).
"""

from __future__ import annotations

import json
import zipfile
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from training.service.blobs import BlobStore
from training.service.models import SessionPart


def training_parts(db: Session, team_id: int, kind: str = "athlete") -> list[SessionPart]:
    """Every part of `kind` ('athlete' or 'video') a training set of the team may read now."""
    return list(db.scalars(select(SessionPart).where(SessionPart.team_id == team_id, SessionPart.kind == kind)
                           .order_by(SessionPart.id)))


def read_athlete_part(blobs: BlobStore, part: SessionPart) -> dict:
    """An athlete's samples, RR, gaps and feedback of one session (the bundle's athletes/<ref>.json)."""
    with blobs.open(part.blob_key) as source:
        return json.load(source)


def open_video_part(blobs: BlobStore, part: SessionPart) -> BinaryIO:
    """A video segment's bytes, read from inside its session's bundle (close the returned file)."""
    bundle = zipfile.ZipFile(blobs.open(part.blob_key))
    return bundle.open(part.name)
