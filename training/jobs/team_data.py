"""The team's sessions as training data: a fixed held-out split by session, and HR recordings.

Held-out sessions are chosen by a seeded hash of the session id, so the same session is held out
in every job with the same seed whatever else arrived, and no model the job compares ever trained
on them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from edge_models.recordings import Recording
from training.jobs.sessions import ChannelSeries, SessionRecord, WorkRestMark

HASH_BUCKETS = 10_000  # resolution of the held-out fraction


@dataclass(frozen=True)
class TeamSplit:
    train: tuple[SessionRecord, ...]
    held_out: tuple[SessionRecord, ...]


def held_out_score(session_id: str, seed: int) -> float:
    """A number in [0, 1) fixed by the session id and the seed alone."""
    digest = hashlib.sha256(f"{seed}:{session_id}".encode("utf-8")).digest()
    return (int.from_bytes(digest[:8], "big") % HASH_BUCKETS) / HASH_BUCKETS


def split_sessions(sessions: list[SessionRecord], seed: int, held_out_fraction: float) -> TeamSplit:
    """Sessions scoring below `held_out_fraction` are held out; with two sessions or more and none
    below it, the lowest-scoring one is, so a comparison on the team's own data is always there."""
    ranked = sorted(sessions, key=lambda s: held_out_score(s.session_id, seed))
    held = [s for s in ranked if held_out_score(s.session_id, seed) < held_out_fraction]
    if not held and len(ranked) >= 2:
        held = ranked[:1]
    held_ids = {s.session_id for s in held}
    return TeamSplit(tuple(s for s in sessions if s.session_id not in held_ids),
                     tuple(s for s in sessions if s.session_id in held_ids))


def hr_recordings(session: SessionRecord) -> list[Recording]:
    """One `Recording` per channel, so the HR feature code builds its windows as for any file."""
    return [_recording(session, series) for series in session.channels]


def _recording(session: SessionRecord, series: ChannelSeries) -> Recording:
    marks = [m for m in session.marks if m.channel in (None, series.channel)]
    # the coach's work/rest marks, where there are any, are the effort: 1 at work, 0 at rest. They
    # go in as the power column, the channel the feature code reads first (effort_from_channels),
    # so a marked session's windows carry the marks exactly as the live window does.
    power = _marks_as_effort(series.time_s, marks) if marks else series.power_w
    return Recording(name=f"{session.session_id}:{series.channel}", start_utc=None,
                     time_s=series.time_s, hr_bpm=series.hr_bpm, speed_mps=series.speed_mps,
                     power_w=power, cadence_rpm=series.cadence_rpm, rr_s=None,
                     lap_starts_s=np.zeros(0))


def _marks_as_effort(time_s: np.ndarray, marks: list[WorkRestMark]) -> np.ndarray:
    ordered = sorted(marks, key=lambda m: m.t_s)
    starts = np.array([m.t_s for m in ordered])
    levels = np.array([1.0 if m.kind == "work" else 0.0 for m in ordered])
    idx = np.searchsorted(starts, time_s, side="right") - 1
    return np.where(idx >= 0, levels[np.maximum(idx, 0)], 0.0)
