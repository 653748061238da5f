"""When the service retrains by itself: enough new labelled, consented sessions since the last job."""

from __future__ import annotations

from datetime import datetime

from training.jobs.sessions import SessionRecord

MIN_NEW_LABELLED_SESSIONS = 5  # new labelled sessions that make a job worth its GPU minutes


def new_labelled_sessions(sessions: list[SessionRecord], last_job_utc: str | None) -> int:
    """Sessions uploaded after `last_job_utc` (ISO, None: never) that carry the coach's labels or
    work/rest marks and at least one channel whose athlete consented to training."""
    return sum(1 for s in sessions
               if s.labelled and s.consented().channels
               and (last_job_utc is None or _moment(s.uploaded_utc) > _moment(last_job_utc)))


def should_retrain(sessions: list[SessionRecord], last_job_utc: str | None,
                   min_new: int = MIN_NEW_LABELLED_SESSIONS) -> bool:
    return new_labelled_sessions(sessions, last_job_utc) >= min_new


def _moment(iso_utc: str) -> datetime:
    return datetime.fromisoformat(iso_utc.replace("Z", "+00:00"))
