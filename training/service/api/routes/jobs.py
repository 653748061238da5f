"""A team's retraining jobs: start one, read its state. Only the team's own devices see them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from training.jobs.records import JobRecord
from training.jobs.spec import KINDS, SpecError
from training.service.api.deps import CurrentDevice, DbSession
from training.service.api.schemas import ErrorOut, JobOut
from training.service.errors import NotFound, Unprocessable
from training.service.learning import ServiceJobs
from training.service.models import Team

router = APIRouter(tags=["jobs"])
_ERRORS = {401: {"model": ErrorOut}, 404: {"model": ErrorOut}}


def get_jobs(request: Request) -> ServiceJobs:
    return request.app.state.jobs


JobsDep = Annotated[ServiceJobs, Depends(get_jobs)]


def _job_out(record: JobRecord) -> JobOut:
    return JobOut(job_id=record.job_id, team=record.team, kind=record.kind, state=record.state,
                  progress=record.progress, log=record.log[-20:], error=record.error,
                  gate=(record.result or {}).get("gate", {}).get("reason"), published=record.published)


def team_name(db, device) -> str:
    return db.get(Team, device.team_id).name


@router.post("/teams/{team}/retrain", response_model=JobOut, status_code=202,
             responses={**_ERRORS, 422: {"model": ErrorOut}})
def start_retrain(team: str, device: CurrentDevice, db: DbSession, jobs: JobsDep,
                  kind: Annotated[str, Query(description=f"one of {', '.join(KINDS)}")],
                  small: bool = False) -> JobOut:
    if team != team_name(db, device):
        raise NotFound("no such team")
    try:
        return _job_out(jobs.start(team, kind, small=small))
    except SpecError as exc:
        raise Unprocessable(str(exc)) from None


@router.get("/jobs/{job_id}", response_model=JobOut, responses=_ERRORS)
def get_job(job_id: str, device: CurrentDevice, db: DbSession, jobs: JobsDep) -> JobOut:
    try:
        record = jobs.book.get(job_id)
    except KeyError:
        raise NotFound("no such job") from None
    if record.team != team_name(db, device):
        raise NotFound("no such job")
    return _job_out(record)
