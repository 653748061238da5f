"""Request and answer bodies as the OpenAPI schema shows them (the protocol itself is cloud_client.protocol)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class EnrolIn(BaseModel):
    code: str = Field(description="the one-time code from `trackside-cloud enrol-code TEAM`", max_length=64)
    device_name: str = Field(default="laptop", max_length=200)


class EnrolOut(BaseModel):
    device_id: str
    team: str
    token: str = Field(description="the device's own token; shown once, kept by the service only as a hash")


class UploadIn(BaseModel):
    session_id: str
    length: int = Field(description="the bundle's size in bytes")
    sha256: str = Field(description="the bundle's sha256, lower-case hex")


class SessionAnswerOut(BaseModel):
    session_id: str
    sha256: str
    committed_utc: str
    athletes: int
    video_parts: int


class UploadOut(BaseModel):
    upload_id: str | None = Field(description="where to send the bytes; null when the session is already in")
    offset: int
    length: int
    committed: SessionAnswerOut | None = None


class CommitIn(BaseModel):
    upload_id: str
    sha256: str


class LabelsIn(BaseModel):
    version: int = Field(ge=1, description="goes up with every change the coach makes")
    labels: list[dict]


class LabelsOut(BaseModel):
    session_id: str
    version: int
    sha256: str
    labels: list[dict]


class DeletionIn(BaseModel):
    request_id: str = Field(min_length=36, max_length=36, description="a UUID the laptop chose; replays reuse it")
    athlete_ref: str = Field(min_length=36, max_length=36)


class DeletionOut(BaseModel):
    request_id: str
    athlete_ref: str
    parts_erased: int
    done_utc: str


class SessionOut(BaseModel):
    session_id: str
    sha256: str
    started_wall_utc: str | None
    athletes: list[str]
    parts: int


class DeviceOut(BaseModel):
    device_id: str
    name: str
    created_utc: str
    revoked: bool


class ErrorOut(BaseModel):
    error: str
    detail: str


class JobOut(BaseModel):
    job_id: str
    team: str
    kind: str = Field(description="hr or movement")
    state: str = Field(description="queued, running, succeeded, rejected or failed")
    progress: float = Field(description="0-1")
    log: list[str] = Field(description="the newest lines of the job's log")
    error: str | None = None
    gate: str | None = Field(default=None, description="the double gate's verdict in numbers, once finished")
    published: dict | None = Field(default=None, description="{kind, version} once the model was published")
