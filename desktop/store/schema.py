"""The store's on-disk schema and the migrations that bring an older file up to date.

The version lives in SQLite's `PRAGMA user_version`. `MIGRATIONS[i]` turns a version-i file into
version i+1; each step runs in one transaction together with the version bump, so a file is always
at exactly one known version, even after a crash in the middle of a migration.
"""

from __future__ import annotations

import logging
import sqlite3

from desktop.store.models import SchemaTooNew, StoreError

logger = logging.getLogger(__name__)

# Version 1: what a recording needs: athletes, sessions, their channels, heart rate, RR, gaps,
# marks, source problems and the video index.
_V1 = [
    """CREATE TABLE athletes (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        hr_max_bpm INTEGER NOT NULL,
        hr_rest_bpm INTEGER NOT NULL,
        zones_json TEXT,
        consent INTEGER NOT NULL DEFAULT 1 CHECK (consent IN (0, 1)),
        consent_changed_utc TEXT)""",
    """CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        started_wall_utc TEXT NOT NULL,
        started_mono_s REAL NOT NULL,
        ended_mono_s REAL,
        status TEXT NOT NULL CHECK (status IN ('recording', 'completed', 'interrupted')),
        hr_specs_json TEXT NOT NULL,
        camera_spec TEXT,
        note TEXT NOT NULL DEFAULT '')""",
    """CREATE TABLE session_channels (
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        channel TEXT NOT NULL,
        display_name TEXT NOT NULL,
        athlete_id INTEGER REFERENCES athletes(id) ON DELETE SET NULL,
        PRIMARY KEY (session_id, channel))""",
    """CREATE TABLE hr_samples (
        id INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        t_mono_s REAL NOT NULL,
        hr_bpm INTEGER NOT NULL,
        sensor_contact INTEGER NOT NULL,
        energy_kj INTEGER,
        speed_mps REAL,
        power_w REAL,
        cadence_rpm REAL,
        FOREIGN KEY (session_id, channel) REFERENCES session_channels ON DELETE CASCADE)""",
    "CREATE INDEX hr_samples_by_time ON hr_samples (session_id, channel, t_mono_s)",
    """CREATE TABLE rr_intervals (
        sample_id INTEGER NOT NULL REFERENCES hr_samples(id) ON DELETE CASCADE,
        session_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        t_mono_s REAL NOT NULL,
        idx INTEGER NOT NULL,
        rr_s REAL NOT NULL,
        PRIMARY KEY (sample_id, idx))""",
    "CREATE INDEX rr_intervals_by_time ON rr_intervals (session_id, channel, t_mono_s)",
    """CREATE TABLE gaps (
        id INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        start_mono_s REAL NOT NULL,
        end_mono_s REAL NOT NULL,
        reason TEXT NOT NULL,
        FOREIGN KEY (session_id, channel) REFERENCES session_channels ON DELETE CASCADE)""",
    "CREATE INDEX gaps_by_time ON gaps (session_id, channel, start_mono_s)",
    """CREATE TABLE markers (
        id INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        t_mono_s REAL NOT NULL,
        kind TEXT NOT NULL,
        text TEXT NOT NULL DEFAULT '',
        channel TEXT)""",
    "CREATE INDEX markers_by_time ON markers (session_id, t_mono_s)",
    """CREATE TABLE source_problems (
        id INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        channel TEXT NOT NULL,
        t_mono_s REAL NOT NULL,
        kind TEXT NOT NULL,
        message TEXT NOT NULL,
        fatal INTEGER NOT NULL CHECK (fatal IN (0, 1)))""",
    "CREATE INDEX source_problems_by_time ON source_problems (session_id, t_mono_s)",
    """CREATE TABLE video_segments (
        id INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        path TEXT NOT NULL UNIQUE,
        start_mono_s REAL NOT NULL,
        end_mono_s REAL NOT NULL,
        frame_count INTEGER NOT NULL,
        fps REAL NOT NULL,
        codec TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        closed INTEGER NOT NULL CHECK (closed IN (0, 1)))""",
    "CREATE INDEX video_segments_by_time ON video_segments (session_id, start_mono_s)",
]

# Version 2: what the models and the coach add afterwards: labels and model feedback.
_V2 = [
    """CREATE TABLE labels (
        id INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        start_mono_s REAL NOT NULL,
        end_mono_s REAL NOT NULL,
        label TEXT NOT NULL,
        channel TEXT,
        labelled_by TEXT NOT NULL,
        CHECK (end_mono_s > start_mono_s))""",
    "CREATE INDEX labels_by_time ON labels (session_id, channel, start_mono_s)",
    """CREATE TABLE feedback_events (
        id INTEGER PRIMARY KEY,
        session_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        t_mono_s REAL NOT NULL,
        model_name TEXT NOT NULL,
        model_version TEXT NOT NULL,
        kind TEXT NOT NULL,
        payload_json TEXT NOT NULL,
        FOREIGN KEY (session_id, channel) REFERENCES session_channels ON DELETE CASCADE)""",
    "CREATE INDEX feedback_events_by_time ON feedback_events (session_id, channel, t_mono_s)",
]

# Version 3: consent as three separate choices, and the strap paired to each athlete.
# The old single `consent` column keeps its name and now means consent to RECORD heart rate (so a
# file's existing choice carries over unchanged). Sending to the team's cloud and using the data for
# training are new questions nobody has answered yet: they start at NO for every existing athlete
# (the safe default) until the coach records a yes. The strap columns stay empty until a pairing.
_V3 = [
    "ALTER TABLE athletes ADD COLUMN consent_cloud INTEGER NOT NULL DEFAULT 0 CHECK (consent_cloud IN (0, 1))",
    "ALTER TABLE athletes ADD COLUMN consent_training INTEGER NOT NULL DEFAULT 0 "
    "CHECK (consent_training IN (0, 1))",
    "ALTER TABLE athletes ADD COLUMN strap_address TEXT",
    "ALTER TABLE athletes ADD COLUMN strap_name TEXT",
    "CREATE UNIQUE INDEX athletes_by_strap ON athletes (strap_address) WHERE strap_address IS NOT NULL",
]
# Version 4 (sync, issue 8): the outbox of what waits to go to the team's cloud (sessions, labels
# sent after a sync, athletes' deletions), the cloud's name for each athlete (a random ref, never
# their name), and the enrolled server (its address and device id; the token is kept by keyring).
_V4 = [
    """CREATE TABLE sync_athlete_refs (
        athlete_id INTEGER PRIMARY KEY REFERENCES athletes(id) ON DELETE CASCADE,
        ref TEXT NOT NULL UNIQUE)""",
    """CREATE TABLE sync_outbox (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('session', 'labels', 'deletion')),
        session_id TEXT REFERENCES sessions(id) ON DELETE CASCADE,
        athlete_ref TEXT,
        request_id TEXT,
        bundle_path TEXT,
        sha256 TEXT,
        superseded_sha256 TEXT,
        size_bytes INTEGER,
        sent_bytes INTEGER NOT NULL DEFAULT 0,
        labels_version INTEGER,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_s REAL NOT NULL DEFAULT 0,
        last_error TEXT,
        created_utc TEXT NOT NULL,
        done_utc TEXT,
        answer_json TEXT)""",
    "CREATE UNIQUE INDEX sync_outbox_one_session ON sync_outbox (session_id) WHERE kind = 'session'",
    "CREATE INDEX sync_outbox_by_state ON sync_outbox (state, next_attempt_s)",
    """CREATE TABLE sync_server (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        url TEXT NOT NULL,
        device_id TEXT NOT NULL,
        team TEXT NOT NULL,
        allow_http INTEGER NOT NULL CHECK (allow_http IN (0, 1)),
        enrolled_utc TEXT NOT NULL)""",
]

MIGRATIONS: list[list[str]] = [_V1, _V2, _V3, _V4]
LATEST_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA user_version").fetchone()[0]


def refuse_newer(conn: sqlite3.Connection) -> int:
    """The file's version; SchemaTooNew when a newer Trackside wrote it (check before changing it)."""
    current = schema_version(conn)
    if current > LATEST_VERSION:
        raise SchemaTooNew(
            f"this data file has schema version {current}, but this Trackside knows versions up to "
            f"{LATEST_VERSION}: update Trackside to open it (the file was not changed)")
    return current


def migrate(conn: sqlite3.Connection, target: int = LATEST_VERSION) -> int:
    """Bring the file to `target`, one transaction per step; refuse a file newer than we know."""
    current = refuse_newer(conn)
    for version in range(current, target):
        _apply(conn, version + 1, MIGRATIONS[version])
    return schema_version(conn)


def _apply(conn: sqlite3.Connection, new_version: int, statements: list[str]) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in statements:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {int(new_version)}")
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        conn.execute("ROLLBACK")
        raise StoreError(f"migrating the data file to schema version {new_version} failed: {exc}") from exc
    logger.info("data file migrated to schema version %d", new_version)
