"""What a route may ask for: the database session, the blob store, the settings, the calling device."""

from __future__ import annotations

from typing import Annotated, Iterator

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from training.service import crud
from training.service.blobs import BlobStore
from training.service.core.config import Settings
from training.service.errors import Unauthorised
from training.service.models import Device
from training.service.uploads import RunningHashes

_bearer = HTTPBearer(auto_error=False, description="the device token `trackside sync enrol` received")


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_session_maker(request: Request) -> sessionmaker[Session]:
    return request.app.state.make_db


def get_blobs(request: Request) -> BlobStore:
    return request.app.state.blobs


def get_hashes(request: Request) -> RunningHashes:
    return request.app.state.hashes


def get_db(make_db: Annotated[sessionmaker[Session], Depends(get_session_maker)]) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back when it raises."""
    with make_db.begin() as db:
        yield db


def current_device(make_db: Annotated[sessionmaker[Session], Depends(get_session_maker)],
                   credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Device:
    """The enrolled, unrevoked device whose token came with the request; 401 otherwise."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorised("a device token is needed: enrol this laptop with `trackside sync enrol`")
    with make_db() as db:
        device = crud.device_by_token(db, credentials.credentials)
        if device is not None:
            db.expunge(device)
    if device is None:
        raise Unauthorised("this device token is unknown or was revoked: enrol the laptop again")
    return device


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionMakerDep = Annotated[sessionmaker[Session], Depends(get_session_maker)]
BlobsDep = Annotated[BlobStore, Depends(get_blobs)]
HashesDep = Annotated[RunningHashes, Depends(get_hashes)]
DbSession = Annotated[Session, Depends(get_db, scope="function")]  # committed before the answer goes out
CurrentDevice = Annotated[Device, Depends(current_device)]
