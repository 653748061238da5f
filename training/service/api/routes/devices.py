"""A team's devices: list them, revoke one (a lost laptop); /health needs no token."""

from __future__ import annotations

from fastapi import APIRouter

from training.service import crud
from training.service.api.deps import CurrentDevice, DbSession
from training.service.api.schemas import DeviceOut, ErrorOut
from training.service.errors import NotFound
from training.service.models import Device

router = APIRouter(tags=["devices"])


def _device_out(device: Device) -> DeviceOut:
    return DeviceOut(device_id=device.id, name=device.name, created_utc=crud.as_utc(device.created_utc).isoformat(),
                     revoked=device.revoked_utc is not None)


@router.get("/health", tags=["health"])
def health() -> dict:
    return {"status": "ok"}


@router.get("/devices", response_model=list[DeviceOut], responses={401: {"model": ErrorOut}})
def list_devices(device: CurrentDevice, db: DbSession) -> list[DeviceOut]:
    return [_device_out(d) for d in crud.list_devices(db, device.team_id)]


@router.delete("/devices/{device_id}", response_model=DeviceOut,
               responses={401: {"model": ErrorOut}, 404: {"model": ErrorOut}})
def revoke_device(device_id: str, device: CurrentDevice, db: DbSession) -> DeviceOut:
    try:
        return _device_out(crud.revoke_device(db, device_id, team_id=device.team_id))
    except crud.NotFound:
        raise NotFound("no such device") from None
