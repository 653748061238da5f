"""How each source event becomes rows of the store, and how rows become events again.

Every function here takes an open connection inside a transaction the caller owns; nothing here
commits. Channels are created on first sight, so a sample is never lost for want of a channel row.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import PurePosixPath
from typing import Callable

from desktop.sources.events import ChannelOpened, FeedbackEvent, Marker, SignalGap, SourceProblem, StreamEnded
from desktop.sources.heart_rate.base import HeartRateSample, SensorContact
from desktop.store.models import StoreError, VideoSegment

END_OF_STREAM = "end_of_stream"  # the problem kind under which a StreamEnded is kept


def payload_json(payload: dict) -> str:
    """A feedback payload as JSON; numpy numbers and arrays become plain numbers and lists."""
    try:
        return json.dumps(payload, default=_plain, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"feedback payload cannot be stored as JSON: {exc}") from exc


def _plain(value: object) -> object:
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _real(value: float | None) -> float | None:
    """A number as SQLite's REAL: a numpy float32 would otherwise be stored as a BLOB of its bytes."""
    return None if value is None else float(value)


def _whole(value: int | None) -> int | None:
    """A number as SQLite's INTEGER (a numpy integer would otherwise be stored as a BLOB)."""
    return None if value is None else int(value)


def ensure_channel(conn: sqlite3.Connection, session_id: str, channel: str) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO session_channels (session_id, channel, display_name) VALUES (?, ?, ?)",
        (session_id, channel, channel))


def upsert_channel(conn: sqlite3.Connection, session_id: str, channel: str, display_name: str,
                   athlete_id: int | None) -> None:
    conn.execute(
        """INSERT INTO session_channels (session_id, channel, display_name, athlete_id) VALUES (?, ?, ?, ?)
           ON CONFLICT (session_id, channel) DO UPDATE SET display_name = excluded.display_name,
           athlete_id = COALESCE(excluded.athlete_id, session_channels.athlete_id)""",
        (session_id, channel, display_name, athlete_id))


def _insert_sample(conn: sqlite3.Connection, session_id: str, s: HeartRateSample) -> int:
    ensure_channel(conn, session_id, s.channel)
    cursor = conn.execute(
        """INSERT INTO hr_samples (session_id, channel, t_mono_s, hr_bpm, sensor_contact, energy_kj,
           speed_mps, power_w, cadence_rpm) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (session_id, s.channel, _real(s.t_mono_s), int(s.hr_bpm), int(s.sensor_contact),
         _whole(s.energy_expended_kj), _real(s.speed_mps), _real(s.power_w), _real(s.cadence_rpm)))
    conn.executemany(
        "INSERT INTO rr_intervals (sample_id, session_id, channel, t_mono_s, idx, rr_s) VALUES (?, ?, ?, ?, ?, ?)",
        [(cursor.lastrowid, session_id, s.channel, _real(s.t_mono_s), i, float(rr)) for i, rr in enumerate(s.rr_intervals_s)])
    return 1 + len(s.rr_intervals_s)


def _insert_gap(conn: sqlite3.Connection, session_id: str, g: SignalGap) -> int:
    ensure_channel(conn, session_id, g.channel)
    conn.execute(
        "INSERT INTO gaps (session_id, channel, start_mono_s, end_mono_s, reason) VALUES (?, ?, ?, ?, ?)",
        (session_id, g.channel, _real(g.start_mono_s), _real(g.end_mono_s), g.reason))
    return 1


def _insert_problem(conn: sqlite3.Connection, session_id: str, p: SourceProblem) -> int:
    conn.execute(
        "INSERT INTO source_problems (session_id, channel, t_mono_s, kind, message, fatal) VALUES (?, ?, ?, ?, ?, ?)",
        (session_id, p.channel, _real(p.t_mono_s), p.kind, p.message, int(p.fatal)))
    return 1


def _insert_end(conn: sqlite3.Connection, session_id: str, e: StreamEnded) -> int:
    return _insert_problem(conn, session_id, SourceProblem(e.channel, e.t_mono_s, END_OF_STREAM, "stream ended"))


def _insert_marker(conn: sqlite3.Connection, session_id: str, m: Marker) -> int:
    conn.execute("INSERT INTO markers (session_id, t_mono_s, kind, text, channel) VALUES (?, ?, ?, ?, ?)",
                 (session_id, _real(m.t_mono_s), m.kind, m.text, m.channel))
    return 1


def _insert_feedback(conn: sqlite3.Connection, session_id: str, f: FeedbackEvent) -> int:
    ensure_channel(conn, session_id, f.channel)
    conn.execute(
        """INSERT INTO feedback_events (session_id, channel, t_mono_s, model_name, model_version, kind,
           payload_json) VALUES (?, ?, ?, ?, ?, ?, ?)""",
        (session_id, f.channel, _real(f.t_mono_s), f.model_name, f.model_version, f.kind, payload_json(f.payload)))
    return 1


def _insert_opened(conn: sqlite3.Connection, session_id: str, c: ChannelOpened) -> int:
    upsert_channel(conn, session_id, c.channel, c.display_name, None)
    return 1


def insert_segment(conn: sqlite3.Connection, session_id: str, seg: VideoSegment) -> int:
    path = PurePosixPath(seg.path)
    if path.is_absolute() or ".." in path.parts:
        raise StoreError(f"video segment path {str(path)!r} must be relative to the data directory")
    conn.execute(
        """INSERT INTO video_segments (session_id, path, start_mono_s, end_mono_s, frame_count, fps, codec,
           sha256, closed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (session_id, str(path), _real(seg.start_mono_s), _real(seg.end_mono_s), int(seg.frame_count),
         _real(seg.fps), seg.codec,
         seg.sha256, int(seg.closed)))
    return 1


INSERTERS: dict[type, Callable[[sqlite3.Connection, str, object], int]] = {
    HeartRateSample: _insert_sample,
    SignalGap: _insert_gap,
    SourceProblem: _insert_problem,
    StreamEnded: _insert_end,
    Marker: _insert_marker,
    FeedbackEvent: _insert_feedback,
    ChannelOpened: _insert_opened,
    VideoSegment: insert_segment,
}


# -- rows back to events ------------------------------------------------------------------------

def sample_from_row(row: sqlite3.Row, rr_s: tuple[float, ...]) -> HeartRateSample:
    return HeartRateSample(
        channel=row["channel"], t_mono_s=row["t_mono_s"], hr_bpm=row["hr_bpm"], rr_intervals_s=rr_s,
        sensor_contact=SensorContact(row["sensor_contact"]), energy_expended_kj=row["energy_kj"],
        speed_mps=row["speed_mps"], power_w=row["power_w"], cadence_rpm=row["cadence_rpm"])


def gap_from_row(row: sqlite3.Row) -> SignalGap:
    return SignalGap(row["channel"], row["start_mono_s"], row["end_mono_s"], row["reason"])


def problem_from_row(row: sqlite3.Row) -> SourceProblem:
    return SourceProblem(row["channel"], row["t_mono_s"], row["kind"], row["message"], bool(row["fatal"]))


def marker_from_row(row: sqlite3.Row) -> Marker:
    return Marker(row["t_mono_s"], row["kind"], row["text"], row["channel"])


def feedback_from_row(row: sqlite3.Row) -> FeedbackEvent:
    return FeedbackEvent(row["channel"], row["t_mono_s"], row["model_name"], row["model_version"], row["kind"],
                         json.loads(row["payload_json"]))


def segment_from_row(row: sqlite3.Row) -> VideoSegment:
    return VideoSegment(PurePosixPath(row["path"]), row["start_mono_s"], row["end_mono_s"], row["frame_count"],
                        row["fps"], row["codec"], row["sha256"], bool(row["closed"]))
