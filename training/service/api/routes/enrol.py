"""POST /v1/enrol: a one-time code becomes a device of the team, with its own token."""

from __future__ import annotations

from fastapi import APIRouter

from training.service import crud
from training.service.api.deps import DbSession
from training.service.api.schemas import EnrolIn, EnrolOut, ErrorOut
from training.service.errors import Unauthorised
from training.service.models import Team

router = APIRouter(tags=["enrolment"])


@router.post("/enrol", response_model=EnrolOut, responses={401: {"model": ErrorOut}})
def enrol(body: EnrolIn, db: DbSession) -> EnrolOut:
    try:
        device, token = crud.enrol_device(db, body.code, body.device_name)
    except crud.EnrolRefused as exc:
        raise Unauthorised(str(exc), code="enrol_refused") from None
    return EnrolOut(device_id=device.id, team=db.get(Team, device.team_id).name, token=token)
