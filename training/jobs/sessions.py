"""The team's uploaded sessions as plain records, and where they come from.

A job reads sessions through `SessionSource`, never through the storage behind it: the laptop's
local store (`StoreSessionSource`, read-only) today, the cloud service's stored bundles at merge
(one adapter yielding the same records). Only athletes who consented to training are used;
consent is read through `consents_to_training`, the one place to switch when the store keeps a
separate "training" consent.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Protocol

import numpy as np

logger = logging.getLogger(__name__)

WORK_REST_KINDS = ("work", "rest")  # the coach's interval marks on a session's timeline


@dataclass(frozen=True)
class AthleteRecord:
    """Who wore a strap, and whether their data may train a model."""

    athlete_id: str | None  # the laptop's athlete id, or the cloud's athlete ref
    training: bool  # consent to training; an unknown wearer (no athlete record) never consented


@dataclass(frozen=True)
class ChannelSeries:
    """One athlete's heart rate and effort columns in one session, seconds from the session start."""

    channel: str
    athlete: AthleteRecord
    time_s: np.ndarray
    hr_bpm: np.ndarray
    speed_mps: np.ndarray | None = None
    power_w: np.ndarray | None = None
    cadence_rpm: np.ndarray | None = None


@dataclass(frozen=True)
class WorkRestMark:
    """The coach's mark: work or rest from `t_s` on (for one channel, or the squad when None)."""

    t_s: float
    kind: str  # "work" or "rest"
    channel: str | None = None


@dataclass(frozen=True)
class CoachLabel:
    """The coach's name for what happened between two instants (movement classes)."""

    start_s: float
    end_s: float
    label: str
    channel: str | None = None


@dataclass(frozen=True)
class SessionRecord:
    """One uploaded session as the job needs it."""

    session_id: str
    channels: tuple[ChannelSeries, ...]
    marks: tuple[WorkRestMark, ...] = ()
    labels: tuple[CoachLabel, ...] = ()
    uploaded_utc: str = ""  # ISO time the session reached the service (for the retrain policy)
    video_files: tuple[Path, ...] = field(default=())

    @property
    def labelled(self) -> bool:
        return bool(self.marks or self.labels)

    def consented(self) -> SessionRecord:
        """This session with only the channels of athletes who consented to training."""
        kept = tuple(c for c in self.channels if c.athlete.training)
        return SessionRecord(self.session_id, kept, self.marks, self.labels, self.uploaded_utc,
                             self.video_files)


class SessionSource(Protocol):
    """Where a job finds a team's sessions."""

    def sessions(self, team: str) -> Iterator[SessionRecord]:
        """Every session of `team`, each with all its channels (consent is filtered by the job)."""
        ...


def consents_to_training(consent_flag: bool) -> bool:
    """The athlete's own answer to 'may my data train the team's models' (never the record consent)."""
    return bool(consent_flag)


def training_sessions(source: SessionSource, team: str) -> list[SessionRecord]:
    """The team's sessions reduced to consented channels; sessions left with none are dropped."""
    kept = []
    for session in source.sessions(team):
        consented = session.consented()
        dropped = len(session.channels) - len(consented.channels)
        if dropped:
            logger.info("session %s: %d channel(s) without training consent left out",
                        session.session_id, dropped)
        if consented.channels:
            kept.append(consented)
    return kept


class StoreSessionSource:
    """The sessions in a laptop's local store (`desktop.store`), opened read-only.

    A laptop's store holds one team: `team` is accepted and not checked. The file is opened with
    SQLite's read-only mode, so a job never changes a coach's data.
    """

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)

    def sessions(self, team: str) -> Iterator[SessionRecord]:
        from desktop.store.store import DB_NAME, Store

        path = self.data_dir / DB_NAME
        if not path.is_file():
            raise FileNotFoundError(f"no Trackside data file at {path}")
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        store = Store(self.data_dir, conn)
        try:
            consent = {a.id: consents_to_training(a.consent_training) for a in store.list_athletes()}
            for summary in store.list_sessions():
                if summary.status != "recording":
                    yield _record_from_store(store, summary.id, consent)
        finally:
            conn.close()


def _record_from_store(store, session_id: str, consent: dict[int, bool]) -> SessionRecord:
    detail = store.session(session_id)
    start_s = detail.started_mono_s
    channels = tuple(_series(store, session_id, c.channel, c.athlete_id, consent, start_s)
                     for c in detail.channels)
    marks = tuple(WorkRestMark(m.t_mono_s - start_s, m.kind, m.channel)
                  for m in store.markers(session_id) if m.kind in WORK_REST_KINDS)
    labels = tuple(CoachLabel(lb.start_mono_s - start_s, lb.end_mono_s - start_s, lb.label, lb.channel)
                   for lb in store.labels(session_id))
    return SessionRecord(session_id, tuple(c for c in channels if len(c.time_s)), marks, labels,
                         detail.started_wall_utc.isoformat())


def _series(store, session_id: str, channel: str, athlete_id: int | None, consent: dict[int, bool],
            start_s: float) -> ChannelSeries:
    samples = store.hr_samples(session_id, channel)
    athlete = AthleteRecord(None if athlete_id is None else str(athlete_id), consent.get(athlete_id, False))
    return ChannelSeries(
        channel, athlete,
        time_s=np.array([s.t_mono_s - start_s for s in samples], dtype=np.float64),
        hr_bpm=np.array([s.hr_bpm for s in samples], dtype=np.float64),
        speed_mps=_column([s.speed_mps for s in samples]),
        power_w=_column([s.power_w for s in samples]),
        cadence_rpm=_column([s.cadence_rpm for s in samples]))


def _column(values: list[float | None]) -> np.ndarray | None:
    if all(v is None for v in values):
        return None
    return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
