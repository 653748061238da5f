"""What the local store hands back: athletes, sessions, labels and video segments, and its errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath

SESSION_STATUSES = ("recording", "completed", "interrupted")


class StoreError(Exception):
    """The local store cannot do what was asked; the message says why."""


class UnstorableEvent(StoreError, ValueError, TypeError):
    """An event the store will not keep: a kind it does not store, or a field it cannot hold.

    The message names the event type and the field, never a heart-rate or RR value. It is also a
    ValueError and a TypeError, so a caller that guards against either (the recorder) counts it.
    """


class SchemaTooNew(StoreError):
    """The data file was written by a newer Trackside than this one; it is left untouched."""


class SessionNotFound(StoreError, KeyError):
    """No session, or more than one, matches the id (or id prefix) that was given."""

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0]) if self.args else "session not found"


class AthleteNotFound(StoreError, KeyError):
    """No athlete has the id that was given."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "athlete not found"


@dataclass(frozen=True, slots=True)
class Athlete:
    """A squad member as the coach set them up: heart-rate limits, zones, consent and their strap.

    Consent is three separate choices: `consent` to record heart rate at all (the recorder and the
    store keep nothing of an athlete who said no), `consent_cloud` to send their sessions to the
    team's cloud, `consent_training` to use their data to train the team's models.
    """

    id: int
    name: str
    hr_max_bpm: int
    hr_rest_bpm: int
    zones: list | None  # zone bounds in bpm, as the coach or the analytics chose them
    consent: bool  # consent to RECORD heart rate (the only consent before schema version 3)
    consent_changed_utc: datetime | None  # the last change of any of the three choices
    consent_cloud: bool = False
    consent_training: bool = False
    strap_address: str | None = None  # the paired Bluetooth heart-rate strap, as bleak reports it
    strap_name: str | None = None

    @property
    def consent_record(self) -> bool:
        return self.consent


@dataclass(frozen=True, slots=True)
class VideoSegment:
    """One closed, playable piece of a session's video; `path` is relative to the data directory."""

    path: PurePosixPath
    start_mono_s: float
    end_mono_s: float
    frame_count: int
    fps: float
    codec: str  # the FourCC, e.g. "MJPG"
    sha256: str
    closed: bool = True


@dataclass(frozen=True, slots=True)
class ChannelSummary:
    """One athlete stream within a session and how many heart-rate samples the store holds for it."""

    channel: str
    display_name: str
    athlete_id: int | None
    sample_count: int


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """A row of the session list: when it started, how long it ran, who was on it."""

    id: str
    started_wall_utc: datetime
    duration_s: float
    status: str
    channels: tuple[ChannelSummary, ...]
    video_segment_count: int


@dataclass(frozen=True, slots=True)
class SessionDetail:
    """Everything the store knows about one session except its samples."""

    id: str
    started_wall_utc: datetime
    started_mono_s: float
    ended_mono_s: float | None
    duration_s: float
    status: str
    hr_specs: tuple[str, ...]
    camera_spec: str | None
    note: str
    channels: tuple[ChannelSummary, ...]
    video_segment_count: int


@dataclass(frozen=True, slots=True)
class Label:
    """A coach's (or a model's) name for what happened in a time range, for one athlete or all."""

    id: int
    start_mono_s: float
    end_mono_s: float
    label: str
    channel: str | None
    labelled_by: str
