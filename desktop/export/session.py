"""What an export needs to know about a session: plain data, not the store.

Time: every sample carries a monotonic time. An athlete's `started_mono_s` is the monotonic time
at which the session's wall-clock start `started_wall_utc` was read, so a sample's wall time is
`started_wall_utc + (t_mono_s - started_mono_s)`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from desktop.sources.heart_rate.base import HeartRateSample


class ExportError(ValueError):
    """A session that cannot be exported as asked (unknown channel, no samples, naive time)."""


@dataclass(frozen=True)
class ExportAthlete:
    """One athlete's (one channel's) samples and lap marks in a session."""

    channel: str
    name: str
    samples: list[HeartRateSample]
    laps_mono_s: list[float]  # monotonic times at which the coach started a new lap
    started_mono_s: float  # monotonic time of the session's wall-clock start


@dataclass(frozen=True)
class ExportSession:
    """A recorded session to export: its id, wall-clock start (UTC) and athletes."""

    session_id: str
    started_wall_utc: datetime
    athletes: list[ExportAthlete]

    def athlete(self, channel: str) -> ExportAthlete:
        for athlete in self.athletes:
            if athlete.channel == channel:
                return athlete
        known = ", ".join(a.channel for a in self.athletes) or "none"
        raise ExportError(f"session {self.session_id} has no channel {channel!r} (channels: {known})")


@dataclass(frozen=True)
class Lap:
    """A stretch of the session between two lap marks, with the samples in it."""

    start_mono_s: float
    end_mono_s: float
    samples: list[HeartRateSample]


def check_session(session: ExportSession) -> None:
    if session.started_wall_utc.tzinfo is None:
        raise ExportError("the session start must be a timezone-aware UTC time")


def wall_time(session: ExportSession, athlete: ExportAthlete, t_mono_s: float) -> datetime:
    """The UTC wall-clock time of a monotonic time in this athlete's recording."""
    return session.started_wall_utc + timedelta(seconds=t_mono_s - athlete.started_mono_s)


def ordered_samples(athlete: ExportAthlete) -> list[HeartRateSample]:
    return sorted(athlete.samples, key=lambda s: s.t_mono_s)


def laps_of(athlete: ExportAthlete) -> list[Lap]:
    """The athlete's laps: the first starts at the first sample, each lap mark starts the next."""
    samples = ordered_samples(athlete)
    if not samples:
        return []
    first_s, last_s = samples[0].t_mono_s, samples[-1].t_mono_s
    starts = [first_s] + sorted(t for t in set(athlete.laps_mono_s) if first_s < t <= last_s)
    ends = starts[1:] + [last_s]
    laps = []
    for i, (start_s, end_s) in enumerate(zip(starts, ends)):
        is_last = i == len(starts) - 1
        inside = [s for s in samples if start_s <= s.t_mono_s and (s.t_mono_s < end_s or is_last)]
        laps.append(Lap(start_s, end_s, inside))
    return laps
