"""Reading sessions back: the session list, one session's details, and its events in time order."""

from __future__ import annotations

import json
import re
import sqlite3
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from desktop.sources.camera.base import CAMERA_CHANNEL
from desktop.sources.events import FeedbackEvent, Marker, SignalGap, SourceProblem
from desktop.sources.heart_rate.base import HeartRateSample
from desktop.store import rows
from desktop.store.models import ChannelSummary, Label, SessionDetail, SessionNotFound, SessionSummary, VideoSegment

_ID_PREFIX = re.compile(r"[0-9a-fA-F-]+")  # what a session id (a UUID) or its prefix may contain


class SessionReads:
    """The read side of `Store`; it needs only `self._conn` and `self.data_dir`."""

    _conn: sqlite3.Connection
    data_dir: Path

    def list_sessions(self) -> list[SessionSummary]:
        """Every session, newest first, with its channels' sample counts and its video segment count."""
        found = self._conn.execute("SELECT * FROM sessions ORDER BY started_wall_utc DESC, id")
        return [self._summary(row) for row in found.fetchall()]

    def session(self, session_id: str) -> SessionDetail:
        """One session by its id or a unique prefix of it; SessionNotFound names what went wrong."""
        row = self._session_row(session_id)
        summary = self._summary(row)
        return SessionDetail(
            id=row["id"], started_wall_utc=summary.started_wall_utc, started_mono_s=row["started_mono_s"],
            ended_mono_s=row["ended_mono_s"], duration_s=summary.duration_s, status=row["status"],
            hr_specs=tuple(json.loads(row["hr_specs_json"])), camera_spec=row["camera_spec"], note=row["note"],
            channels=summary.channels, video_segment_count=summary.video_segment_count)

    def _session_row(self, session_id: str) -> sqlite3.Row:
        if not session_id or not _ID_PREFIX.fullmatch(session_id):
            raise SessionNotFound(f"{session_id!r} is not a session id")
        found = self._conn.execute("SELECT * FROM sessions WHERE id LIKE ? LIMIT 2",
                                   (session_id.lower() + "%",)).fetchall()
        if not found:
            raise SessionNotFound(f"no session has an id starting with {session_id!r}")
        if len(found) > 1:
            raise SessionNotFound(f"more than one session has an id starting with {session_id!r}: give more of it")
        return found[0]

    def _summary(self, row: sqlite3.Row) -> SessionSummary:
        session_id = row["id"]
        segments = self._conn.execute("SELECT COUNT(*) FROM video_segments WHERE session_id = ?",
                                      (session_id,)).fetchone()[0]
        return SessionSummary(
            id=session_id, started_wall_utc=datetime.fromisoformat(row["started_wall_utc"]),
            duration_s=self._duration_s(row), status=row["status"], channels=self._channels(session_id),
            video_segment_count=segments)

    def _duration_s(self, row: sqlite3.Row) -> float:
        """Ended minus started; for a session still recording, up to its latest heart-rate sample."""
        ended = row["ended_mono_s"]
        if ended is None:
            ended = self._conn.execute("SELECT MAX(t_mono_s) FROM hr_samples WHERE session_id = ?",
                                       (row["id"],)).fetchone()[0]
        return 0.0 if ended is None else max(0.0, ended - row["started_mono_s"])

    def _channels(self, session_id: str) -> tuple[ChannelSummary, ...]:
        """The athletes' channels; the camera's channel (its pose and movement feedback) is not one."""
        found = self._conn.execute(
            """SELECT c.channel, c.display_name, c.athlete_id,
                      (SELECT COUNT(*) FROM hr_samples s WHERE s.session_id = c.session_id
                       AND s.channel = c.channel) AS sample_count
               FROM session_channels c WHERE c.session_id = ? AND c.channel != ?
               ORDER BY c.channel""", (session_id, CAMERA_CHANNEL))
        return tuple(ChannelSummary(r["channel"], r["display_name"], r["athlete_id"], r["sample_count"])
                     for r in found)

    def _select(self, table: str, session_id: str, channel: str | None, order: str) -> list[sqlite3.Row]:
        session_id = self._session_row(session_id)["id"]
        where, params = "session_id = ?", [session_id]
        if channel is not None:
            where, params = where + " AND channel = ?", params + [channel]
        return self._conn.execute(f"SELECT * FROM {table} WHERE {where} ORDER BY {order}", params).fetchall()

    def hr_samples(self, session_id: str, channel: str | None = None) -> list[HeartRateSample]:
        """Heart-rate samples in time order, each with the RR intervals of its notification."""
        found = self._select("hr_samples", session_id, channel, "t_mono_s, id")
        rr_by_sample: dict[int, list[float]] = defaultdict(list)
        for r in self._select("rr_intervals", session_id, channel, "sample_id, idx"):
            rr_by_sample[r["sample_id"]].append(r["rr_s"])
        return [rows.sample_from_row(r, tuple(rr_by_sample.get(r["id"], ()))) for r in found]

    def gaps(self, session_id: str, channel: str | None = None) -> list[SignalGap]:
        return [rows.gap_from_row(r) for r in self._select("gaps", session_id, channel, "start_mono_s, id")]

    def problems(self, session_id: str, channel: str | None = None) -> list[SourceProblem]:
        """Source problems in time order; a finite source's end is kept as kind 'end_of_stream'."""
        found = self._select("source_problems", session_id, channel, "t_mono_s, id")
        return [rows.problem_from_row(r) for r in found]

    def markers(self, session_id: str, channel: str | None = None) -> list[Marker]:
        return [rows.marker_from_row(r) for r in self._select("markers", session_id, channel, "t_mono_s, id")]

    def labels(self, session_id: str, channel: str | None = None) -> list[Label]:
        found = self._select("labels", session_id, channel, "start_mono_s, id")
        return [Label(r["id"], r["start_mono_s"], r["end_mono_s"], r["label"], r["channel"], r["labelled_by"])
                for r in found]

    def video_segments(self, session_id: str) -> list[VideoSegment]:
        found = self._select("video_segments", session_id, None, "start_mono_s, id")
        return [rows.segment_from_row(r) for r in found]

    def feedback_events(self, session_id: str, channel: str | None = None,
                        kinds: tuple[str, ...] | None = None) -> list[FeedbackEvent]:
        """Model feedback in time order; `kinds` keeps only those (e.g. not the per-frame poses)."""
        found = self._select("feedback_events", session_id, channel, "t_mono_s, id")
        return [rows.feedback_from_row(r) for r in found if kinds is None or r["kind"] in kinds]

    def segment_file(self, segment: VideoSegment) -> Path:
        """Where a video segment's file lies on this machine."""
        return self.data_dir / Path(segment.path)
